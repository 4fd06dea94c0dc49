/**
 * SIGINT/SIGTERM (pipeline.md §1, P12): the first one stops the drivers so the pipeline drains and
 * exits 0 (printing the reference's `\r- Ctrl+C pressed in terminal` line); a second one exits 130 at
 * once. The handlers are removed when the scope closes.
 */
import { Effect, Runtime, type Scope } from "effect"

export const onStopSignals = (stop: Effect.Effect<void>): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    // The handler runs outside any fiber: it uses this runtime, so its log line goes through our logger.
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    let received = 0
    const handler = () => {
      received++
      if (received > 1) process.exit(130)
      process.stdout.write("\r- Ctrl+C pressed in terminal\n")
      runFork(Effect.zipRight(Effect.logInfo("Stopping the processing pipeline"), stop))
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
