/**
 * Whether a run's trace files can be processed on worker threads, one file per worker at a time
 * (docs/parallel.md). Each trace file starts with its own header, which resets the entity caches, so a
 * file's records are flattened, evaluated and encoded the same wherever it runs. What would not be:
 * code that keeps state across files (plugins, action modules, the rate filter, the occurrence
 * encoder), policy reloads (each worker would switch at another record), a transport that needs the
 * records themselves (nats), and any driver but `file`. Such pipelines run on one thread, as before.
 */
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import { PipelineConfigError } from "../../domain/errors.js"
import { fileDriverInput } from "../drivers/FileDriver.js"
import { listTraceFiles } from "../drivers/TraceFiles.js"
import type { ExporterStage } from "../export/Exporter.js"
import type { BuiltPipeline } from "../pipeline/PipelineBuilder.js"
import type { PipelineGraph } from "../pipeline/PipelineGraph.js"
import { isActionModule } from "../policy/Actions.js"
import { decodePolicyEngineConfig } from "../policy/PolicyEngineConfig.js"
import type { SomeStage } from "../kernel/Stage.js"
import type { WorkerNode } from "./FileWorker.js"
import type { StageSpec } from "./WorkerProtocol.js"

export interface ParallelPlan {
  readonly files: ReadonlyArray<string>
  readonly workers: number
  readonly stages: ReadonlyArray<StageSpec>
  readonly root: string
  /** The main thread's exporter stages, in the order workers number them. */
  readonly exporters: ReadonlyArray<ExporterStage>
  /** The main thread's own stages as its file worker runs them (the exporters' encoders, not their transports). */
  readonly localNodes: ReadonlyArray<WorkerNode>
}

/** The plan, or why the run stays on one thread. */
export type PlanOutcome = { readonly _tag: "Parallel"; readonly plan: ParallelPlan } | { readonly _tag: "Single"; readonly reason: string }

const single = (reason: string): PlanOutcome => ({ _tag: "Single", reason })

/** Encoders that encode each record on its own (the occurrence encoder pools records across them). */
const STATELESS_FORMATS = new Set(["json", "ecs"])

const text = (v: unknown, fallback: string) => (typeof v === "string" ? v : fallback)

const hasActionModules = (dir: string): boolean => {
  try {
    return fs.readdirSync(dir).some(isActionModule)
  } catch {
    return false
  }
}

/** Why stage `s` must run on the main thread, if it must. */
const stageReason = (s: PipelineGraph["stages"][number], attrs: Readonly<Record<string, unknown>>): Effect.Effect<string | undefined> => {
  const name = s.entry.processor!
  switch (name) {
    case "sysflowreader":
      return Effect.succeed(text(attrs["filter.enabled"], "off") === "on" ? "the reader's rate filter (filter.enabled) spans files" : undefined)
    case "policyengine":
      return decodePolicyEngineConfig(attrs).pipe(
        Effect.map((c) =>
          c.monitor === "local"
            ? "policy reloads (monitor: local) would switch rule sets at different records in each worker"
            : hasActionModules(c.actionDir)
              ? `action modules (${c.actionDir}) may keep state across files`
              : undefined
        ),
        Effect.orElseSucceed(() => "the policy engine's configuration")
      )
    case "exporter": {
      const format = text(attrs["format"], "json")
      if (!STATELESS_FORMATS.has(format)) return Effect.succeed(`format '${format}' keeps state across records`)
      return Effect.succeed(text(attrs["export"], "terminal") === "nats" ? "export 'nats' carries the records themselves" : undefined)
    }
    default:
      return Effect.succeed(`processor '${name}' is not built in`)
  }
}

/**
 * The plan for `workers` threads (the caller's setting, already bounded by the machine), given the
 * loaded graph, its built stages and the CLI's input path.
 */
export const planParallel = (graph: PipelineGraph, built: BuiltPipeline, input: string, workers: number): Effect.Effect<PlanOutcome> =>
  Effect.gen(function* () {
    if (workers < 2) return single(`${WORKERS_VARIABLE} is ${workers}`)
    if (graph.drivers.length !== 1 || graph.drivers[0].spec.name !== "file") return single("only the file driver's input is split")
    if (built.pluginStages.length > 0) return single(`plugin stages (${built.pluginStages.join(", ")}) run on the main thread`)
    const driver = graph.drivers[0]
    const path = yield* Effect.orElseSucceed(fileDriverInput(input, driver.config), () => input)
    const files = yield* Effect.orElseSucceed(listTraceFiles(path), () => [] as ReadonlyArray<string>)
    if (files.length < 2) return single("a single trace file")
    const stages: StageSpec[] = []
    const exporters: ExporterStage[] = []
    const localNodes: WorkerNode[] = []
    for (const [i, s] of graph.stages.entries()) {
      const attributes = Object.fromEntries(s.entry.attributes)
      const reason = yield* stageReason(s, attributes)
      if (reason !== undefined) return single(reason)
      const outputs = s.outputs.map((o) => o.name)
      stages.push({ processor: s.entry.processor!, attributes, input: s.inputs[0].name, outputs })
      const stage = built.stages[i].stage!
      if (s.entry.processor === "exporter") {
        const exporter = stage as unknown as ExporterStage
        localNodes.push({ kind: "exporter", encoder: exporter.encoder, index: exporters.length })
        exporters.push(exporter)
      } else {
        localNodes.push({ kind: "stage", stage: stage as SomeStage, outputs })
      }
    }
    return { _tag: "Parallel", plan: { files, workers: Math.min(workers, files.length), stages, root: driver.output.name, exporters, localNodes } }
  })

/** The environment variable that sets how many worker threads process trace files. */
export const WORKERS_VARIABLE = "SFPROCESSOR_WORKERS"

const WorkerCount = Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 64))

/**
 * `SFPROCESSOR_WORKERS` (1 to 64, or `auto`: one per core); 1 when it is not set: on the 2-core machines
 * measured so far, two workers did not yet beat one thread (docs/parallel.md, "Cost").
 */
export const workerCount = (env: Readonly<Record<string, string | undefined>>): Effect.Effect<number, PipelineConfigError> => {
  const raw = env[WORKERS_VARIABLE]
  if (raw === undefined || raw === "") return Effect.succeed(1)
  if (raw.trim() === "auto") return Effect.succeed(os.availableParallelism())
  return Schema.decodeUnknown(WorkerCount)(raw.trim()).pipe(
    Effect.mapError(() => new PipelineConfigError({ reason: "Attribute", detail: `${WORKERS_VARIABLE}: expected a whole number from 1 to 64 or 'auto', got '${raw}'` }))
  )
}
