/**
 * A whole pipeline run as a library call: load the pipeline file, initialise its drivers, open its
 * outputs, run to the end of its input, and return the run's totals. The drivers, processors and
 * transports come from the layers provided (`MainLive`, or a pipeline layer with a test's replay driver
 * and capture transport). The CLI runs the same steps with its own log lines, signals and exit codes.
 */
import { Effect } from "effect"
import type { DriverError, ExportError, PipelineConfigError, PipelineError } from "../../domain/errors.js"
import { startPipeline, startStages } from "../kernel/Runner.js"
import { totals, type Totals } from "../metrics/Progress.js"
import { initDrivers, type LoadOptions, loadPipeline, type PipelineServices } from "./PipelineLoader.js"

export interface PipelineOptions {
  /** The pipeline file (pipeline.json). */
  readonly configPath: string
  /** A driver to use instead of the file's `drivers` block (`-driver`). */
  readonly driver?: string
  /** The drivers' input path (a trace file or directory, a socket path); not needed with a replay driver. */
  readonly input?: string
  /** Environment overrides (pipeline.md §2); none by default. */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly plugdir?: string
  readonly driverdir?: string
}

/**
 * Runs the pipeline to the end of its input. Totals count records read by this run; exported, matched,
 * dropped and errors are the process's metrics (they add up over several runs in one process).
 */
export const runPipeline = (
  options: PipelineOptions
): Effect.Effect<Totals, PipelineConfigError | ExportError | DriverError | PipelineError, PipelineServices> =>
  Effect.scoped(
    Effect.gen(function* () {
      const load: LoadOptions = {
        configPath: options.configPath,
        driver: options.driver ?? "",
        input: options.input ?? "",
        env: options.env ?? {},
        plugdir: options.plugdir ?? "",
        driverdir: options.driverdir ?? ""
      }
      const loaded = yield* loadPipeline(load)
      const drivers = yield* initDrivers(loaded, load.input)
      yield* startStages(loaded.built.stages)
      const run = yield* startPipeline(drivers, loaded.built.stages)
      yield* run.done
      return yield* totals([...new Set(drivers.map((d) => d.output))])
    })
  )

export type { Totals } from "../metrics/Progress.js"
