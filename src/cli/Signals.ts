/**
 * SIGINT/SIGTERM (pipeline.md §1, P12). The first one interrupts the main fiber (`NodeRuntime.runMain`
 * does that), and the processor turns the interruption into a drain: the drivers stop, the pipeline
 * flushes what it accepted, and the process exits 0. These handlers add what the runtime does not: the
 * log line of the first signal, and for a second one the hard-exit hooks (outputs left consistent) and
 * exit 130 at once. They are removed when the scope closes.
 *
 * SIGINT keeps the reference's `\r- Ctrl+C pressed in terminal` line on stdout (scripts may wait for
 * it); SIGTERM comes from a service manager, not a terminal, so it only names itself in the log line.
 */
import { Effect, Runtime, type Scope } from "effect"
import { runHardExitHooks } from "../services/lifecycle/HardExit.js"

type StopSignal = "SIGINT" | "SIGTERM"

/** The log line of the first signal: the reference's text, with the signal when it was not Ctrl+C. */
export const stoppingMessage = (signal: StopSignal): string =>
  signal === "SIGINT" ? "Stopping the processing pipeline" : `Stopping the processing pipeline (${signal} received)`

export const onStopSignals: Effect.Effect<void, never, Scope.Scope> =
  Effect.gen(function* () {
    // The handler runs outside any fiber: it uses this runtime, so its log lines go through our logger.
    const runtime = yield* Effect.runtime<never>()
    const runSync = Runtime.runSync(runtime)
    let received = 0
    const handler = (signal: StopSignal) => {
      received++
      if (received > 1) {
        // Synchronous on purpose: the process ends right after these lines, whatever the log does.
        try {
          runSync(Effect.logWarning(`${signal} received again: exiting now (130) without draining`))
        } finally {
          runHardExitHooks()
          process.exit(130)
        }
      }
      if (signal === "SIGINT") process.stdout.write("\r- Ctrl+C pressed in terminal\n")
      runSync(Effect.logInfo(stoppingMessage(signal)))
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        process.on("SIGINT", handler)
        process.on("SIGTERM", handler)
      }),
      () =>
        Effect.sync(() => {
          process.off("SIGINT", handler)
          process.off("SIGTERM", handler)
        })
    )
  })
