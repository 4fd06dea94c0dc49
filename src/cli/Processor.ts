/**
 * The processor's run (pipeline.md §1, order of execution steps 5–13): load, `-test`, drivers, run until
 * the input is processed or a signal asks to stop, exit code. Returns the process exit code.
 *
 * It runs under `Effect.uninterruptibleMask`: `interruptible` marks the start-up (a signal then ends the
 * process once what was opened is closed) and the wait for the run, where the interruption stops the
 * drivers and the run drains what it accepted, uninterruptibly, before the summary and the exit code.
 * A signal that comes while the pipeline starts is taken at that wait.
 */
import { Effect, Exit, Metric, Option } from "effect"
import { errorText } from "../domain/errors.js"
import type { Health } from "../services/metrics/Health.js"
import { decodeErrors } from "../services/metrics/Metrics.js"
import { startMetricsServer } from "../services/metrics/MetricsServer.js"
import { startProgress, stopwatch, summaryLine, totals } from "../services/metrics/Progress.js"
import { startPipeline, startStages } from "../services/kernel/Runner.js"
import { RunOptions } from "../services/kernel/RunOptions.js"
import { initDrivers, loadPipeline, type PipelineServices } from "../services/pipeline/PipelineLoader.js"
import type { CliArgs } from "./Flags.js"
import { listPipelineRules } from "./ListRules.js"
import { loaderEntry } from "../services/importModule.js"
import { startParallelFiles } from "../services/parallel/ParallelFileRun.js"
import { planParallel, workerCount } from "../services/parallel/ParallelPlan.js"
import type { BuiltPipeline } from "../services/pipeline/PipelineBuilder.js"
import type { PipelineGraph } from "../services/pipeline/PipelineGraph.js"

/** Marks where an uninterruptible run may be interrupted (the `restore` of `Effect.uninterruptibleMask`). */
export type Interruptible = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** Load, drivers, metrics, outputs: a pipeline ready to run, or the exit code of a run that ends there. */
const start = (args: CliArgs, env: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function* () {
    if (args.list) return yield* listPipelineRules(args, env)
    const input = Option.getOrElse(args.path, () => "")
    const loaded = yield* Effect.either(
      loadPipeline({ configPath: args.config, driver: args.driver, env, plugdir: args.plugdir, driverdir: args.driverdir, input }).pipe(Effect.provideService(RunOptions, { test: args.test, perflog: args.perflog }))
    )
    if (loaded._tag === "Left") {
      yield* Effect.logError(`Unable to load pipeline error:  ${errorText(loaded.left)}`)
      return 1
    }
    const { graph, built } = loaded.right
    const workers = yield* Effect.either(workerCount(env))
    if (workers._tag === "Left") {
      yield* Effect.logError(`Unable to load pipeline error:  ${errorText(workers.left)}`)
      return 1
    }
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
    return { drivers: drivers.right, stages: built.stages, parallel: yield* parallelPlan(graph, built, input, workers.right) }
  })

/** The plan for file workers (docs/parallel.md), when the CLI's loader can start them and the pipeline allows. */
const parallelPlan = (graph: PipelineGraph, built: BuiltPipeline, input: string, workers: number) =>
  Effect.gen(function* () {
    const entry = loaderEntry()
    if (entry === undefined) return undefined
    const outcome = yield* planParallel(graph, built, input, workers)
    if (outcome._tag === "Single") {
      yield* Effect.logTrace(`Processing on one thread: ${outcome.reason}`)
      return undefined
    }
    yield* Effect.logTrace(`Processing ${outcome.plan.files.length} trace files on ${outcome.plan.workers} worker threads`)
    return { plan: outcome.plan, entry }
  })

export const runProcessor = (
  args: CliArgs,
  env: Readonly<Record<string, string | undefined>>,
  interruptible: Interruptible
): Effect.Effect<number, never, PipelineServices | Health> =>
  Effect.scoped(
    Effect.gen(function* () {
      const started = yield* interruptible(start(args, env))
      if (typeof started === "number") return started
      // From the first record on, a signal means a drain: it is taken at the wait below.
      const roots = [...new Set(started.drivers.map((d) => d.output))]
      const elapsed = yield* stopwatch
      const parallel = started.parallel
      const run =
        parallel === undefined
          ? yield* startPipeline(started.drivers, started.stages)
          : yield* startParallelFiles(parallel.plan, parallel.entry, roots[0], { trace: args.log === "trace", perflog: args.perflog })
      yield* startProgress(roots, args.log !== "quiet")

      // A signal interrupts this wait: stop the drivers, then wait (uninterruptibly) for the drain.
      const waited = yield* Effect.exit(interruptible(run.done))
      const result = yield* Effect.either(Exit.isInterrupted(waited) ? Effect.zipRight(run.stop, run.done) : waited)
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
