/**
 * The processor's run (pipeline.md §1, order of execution steps 5–13): profiles, load, `-test`, drivers,
 * run until the input is processed or a signal asks to stop, exit code. Returns the process exit code.
 */
import { Deferred, Effect, Metric, Option } from "effect"
import type { TerminalOutput } from "../services/export/Transport.js"
import type { Health } from "../services/metrics/Health.js"
import { decodeErrors } from "../services/metrics/Metrics.js"
import { startMetricsServer } from "../services/metrics/MetricsServer.js"
import { startProgress, stopwatch, summaryLine, totals } from "../services/metrics/Progress.js"
import { startProfiling } from "../services/Profiling.js"
import { errorText } from "../domain/errors.js"
import { initDrivers, loadPipeline } from "../services/pipeline/PipelineLoader.js"
import { startPipeline, startStages } from "../services/kernel/Runner.js"
import { RunOptions } from "../services/kernel/RunOptions.js"
import { type CliArgs, trailingFlagsWarning } from "./Flags.js"
import { onStopSignals } from "./Signals.js"

export const runProcessor = (
  args: CliArgs,
  trailingFlags: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<number, never, TerminalOutput | Health> =>
  Effect.scoped(
    Effect.gen(function* () {
      if (trailingFlags.length > 0) yield* Effect.logWarning(trailingFlagsWarning(trailingFlags))
      const profiling = yield* Effect.either(startProfiling(args))
      if (profiling._tag === "Left") {
        yield* Effect.logError(profiling.left.message)
        return 1
      }
      const input = Option.getOrElse(args.path, () => "")
      const loaded = yield* Effect.either(
        loadPipeline({ configPath: args.config, driver: args.driver, env, plugdir: args.plugdir, driverdir: args.driverdir, input }).pipe(Effect.provideService(RunOptions, { test: args.test, perflog: args.perflog }))
      )
      if (loaded._tag === "Left") {
        yield* Effect.logError(`Unable to load pipeline error:  ${errorText(loaded.left)}`)
        return 1
      }
      const { graph, built } = loaded.right
      yield* Effect.logTrace(`Loaded ${graph.stages.length} processors, ${graph.channels.length} channels, ${graph.drivers.length} drivers`)
      yield* Effect.logInfo("Successfully loaded pipeline configuration")
      if (args.test) return 0

      yield* Effect.logInfo("Starting the processing pipeline")
      yield* Effect.logInfo(`Initializing ${graph.drivers.length} drivers`)
      const drivers = yield* Effect.either(initDrivers(loaded.right, input))
      if (drivers._tag === "Left") {
        yield* Effect.logError(`Error caught while starting the pipeline:  ${errorText(drivers.left)}`)
        return 1
      }
      yield* Effect.logInfo("Initializing Driver with config file")
      if (loaded.right.metrics !== undefined) {
        const server = yield* Effect.either(startMetricsServer(loaded.right.metrics))
        if (server._tag === "Left") {
          yield* Effect.logError(`Error caught while starting the pipeline:  ${errorText(server.left)}`)
          return 1
        }
      }
      // Outputs are touched only now, when everything (config, inputs, transports, metrics) loaded.
      const opened = yield* Effect.either(startStages(built.stages))
      if (opened._tag === "Left") {
        yield* Effect.logError(`Error caught while starting the pipeline:  ${errorText(opened.left)}`)
        return 1
      }
      const roots = [...new Set(drivers.right.map((d) => d.output))]
      // The handlers are installed before the first record can be read: a signal that comes as the
      // pipeline starts stops it (the pipeline's fibers may run before this fiber goes on).
      const stopRequested = yield* Deferred.make<void>()
      yield* onStopSignals(Deferred.succeed(stopRequested, undefined))
      const elapsed = yield* stopwatch
      const run = yield* startPipeline(drivers.right, built.stages)
      yield* Effect.forkScoped(Effect.zipRight(Deferred.await(stopRequested), run.stop))
      yield* startProgress(roots, args.log !== "quiet")
      const result = yield* Effect.either(run.done)
      yield* Effect.logInfo(summaryLine(yield* totals(roots), yield* elapsed))
      if (result._tag === "Left") {
        // The run started and then failed: not the reference's start-up message, which would mislead.
        yield* Effect.logError(`Pipeline failed:  ${errorText(result.left)}`)
        return 1
      }
      // A stop (signal) ends the file driver before its final error: trace files it reported as
      // unreadable still fail the run.
      const unreadable = (yield* Metric.value(Metric.tagged(decodeErrors, "driver", "file"))).count
      if (unreadable > 0) {
        yield* Effect.logError(`Pipeline failed:  ${unreadable} trace file(s) could not be read completely (each logged above)`)
        return 1
      }
      return 0
    })
  )
