/**
 * `sfprocessor` entry point: parse the flags, provide the application's layers (logger, profiling,
 * `MainLive`), run, exit with the run's code.
 *
 * The program runs under `NodeRuntime.runMain`, whose SIGINT/SIGTERM handler interrupts the main fiber:
 * the processor is uninterruptible except where it marks (the load, the wait for the run), and turns
 * that interruption into a drain (see Processor.ts). The exit code is the one the program returned,
 * also when the fiber ends interrupted after its drain.
 */
// The subpath: the package root loads every Node platform module (slow start-up).
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import { isMainThread, parentPort, workerData } from "node:worker_threads"
import { hashingReady } from "../domain/xxhash.js"
import { MainLive } from "../layers/MainLive.js"
import { SfLoggerLive } from "../services/logging/SfLogger.js"
import { ProfilingLive } from "../services/Profiling.js"
import { parseCli, trailingFlagsWarning, writeOutput } from "./Flags.js"
import { isFileWorkerSetup, runFileWorkerThread } from "./FileWorkerThread.js"
import { runProcessor } from "./Processor.js"
import { onStopSignals } from "./Signals.js"


/** The code the program returned (kept for a fiber that ends interrupted after returning it). */
let exitCode: number | undefined

const program = Effect.uninterruptibleMask((interruptible) =>
  Effect.gen(function* () {
    const outcome = yield* parseCli(process.argv.slice(2))
    if (outcome._tag === "Exit") {
      writeOutput(outcome.output)
      return outcome.code
    }
    const { args, trailingFlags } = outcome
    yield* Effect.promise(() => hashingReady)
    const run = Effect.gen(function* () {
      if (trailingFlags.length > 0) yield* Effect.logWarning(trailingFlagsWarning(trailingFlags))
      yield* onStopSignals
      return yield* runProcessor(args, process.env, interruptible).pipe(
        // Profiles start before the load and are written when the run ended (the layer's scope).
        Effect.provide(ProfilingLive(args)),
        Effect.catchTag("ProfileError", (e) => Effect.as(Effect.logError(e.message), 1))
      )
    })
    return yield* Effect.scoped(run).pipe(
      Effect.provide(MainLive),
      Effect.provide(SfLoggerLive({ level: args.log, perflog: args.perflog }))
    )
  }).pipe(Effect.tap((code) => Effect.sync(() => void (exitCode = code))))
)

if (!isMainThread && isFileWorkerSetup(workerData)) runFileWorkerThread(workerData, parentPort!)
else NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit) => {
    let code = exitCode ?? 0
    if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) {
      process.stderr.write(`sfprocessor: internal error: ${Cause.pretty(exit.cause)}\n`)
      code = 2
    }
    // stdout may be a pipe still holding the last lines: exit once they were handed over.
    process.stdout.write("", () => process.exit(code))
  }
})
