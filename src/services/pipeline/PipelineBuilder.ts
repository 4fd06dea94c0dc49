/**
 * Turns a validated `PipelineGraph` into running parts: one channel per graph channel, one initialised
 * processor per stage (in topological order; scoped, so files and connections close when the run
 * ends), and the drivers bound to their output channels.
 */
import { Effect, type Scope } from "effect"
import { DriverError, type ExportError, PipelineConfigError } from "../../domain/errors.js"
import type { DriverEntry } from "../../domain/pipelineConfig.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { runFileDriver } from "../drivers/FileDriver.js"
import { makeExporter } from "../export/Exporter.js"
import type { TerminalOutput } from "../export/Transport.js"
import { makePolicyEngineStage } from "../policy/PolicyEngineStage.js"
import { makeSysFlowReader } from "../reader/SysFlowReader.js"
import { type Channel, makeChannel } from "./Channel.js"
import type { PipelineGraph } from "./PipelineGraph.js"
import type { RunnableDriver, RunnableStage } from "./Runner.js"
import type { Stage } from "./Stage.js"

type InitError = PipelineConfigError | ExportError

/** Creates an initialised processor from its entry's attributes (`Init(conf)` in the reference). */
export type ProcessorFactory = (
  attrs: Readonly<Record<string, unknown>>
) => Effect.Effect<Stage<never, unknown, unknown>, InitError, Scope.Scope | TerminalOutput>

/** Creates a driver's run function from the CLI path and its `drivers[]` block, if any. */
export type DriverFactory = (
  input: string,
  config: DriverEntry | undefined
) => Effect.Effect<(output: Channel<unknown>) => Effect.Effect<void, unknown>, DriverError>

const notSupported = (what: string) => new PipelineConfigError({ reason: "Plugin", detail: `${what} is not supported by sfprocessor` })
const notYet = (what: string) => new PipelineConfigError({ reason: "Plugin", detail: `${what} is not implemented yet` })

export const builtinProcessors: ReadonlyMap<string, ProcessorFactory> = new Map<string, ProcessorFactory>([
  ["sysflowreader", makeSysFlowReader as ProcessorFactory],
  ["policyengine", makePolicyEngineStage as ProcessorFactory],
  ["exporter", makeExporter as ProcessorFactory],
  ["sysflowprocessor", () => Effect.fail(notYet("processor 'sysflowprocessor' (ctxchan input)"))]
])

export const builtinDrivers: ReadonlyMap<string, DriverFactory> = new Map<string, DriverFactory>([
  [
    "file",
    (input, config) => {
      const p = config?.attributes.get("path")
      const path = typeof p === "string" && p !== "" ? p : input
      return Effect.succeed((output) => runFileDriver(path, output as unknown as Channel<SysFlowDatum>))
    }
  ],
  ["socket", () => Effect.fail(new DriverError({ reason: "Init", driver: "socket", detail: "driver 'socket' is not implemented yet" }))],
  ["otelfile", () => Effect.fail(new DriverError({ reason: "Init", driver: "otelfile", detail: "driver 'otelfile' (OTel backend) is not supported by sfprocessor" }))],
  ["otelkafka", () => Effect.fail(new DriverError({ reason: "Init", driver: "otelkafka", detail: "driver 'otelkafka' (OTel backend) is not supported by sfprocessor" }))]
])

export interface BuiltPipeline {
  readonly stages: ReadonlyArray<RunnableStage>
  readonly channels: ReadonlyMap<string, Channel<unknown>>
}

/** Initialises every processor of the graph (load step 4 of pipeline.md §4) and creates the channels. */
export const buildStages = (
  graph: PipelineGraph,
  processors: ReadonlyMap<string, ProcessorFactory> = builtinProcessors
): Effect.Effect<BuiltPipeline, InitError, Scope.Scope | TerminalOutput> =>
  Effect.gen(function* () {
    const channels = new Map<string, Channel<unknown>>()
    for (const ref of graph.channels) channels.set(ref.name, yield* makeChannel(ref.name, ref.type))
    const stages: RunnableStage[] = []
    for (const s of graph.stages) {
      const name = s.entry.processor!
      const factory = processors.get(name)
      if (factory === undefined) return yield* notSupported(`processor '${name}'`)
      if (name === "policyengine" && s.entry.attributes.get("language") === "sigma") {
        return yield* notYet("policy language 'sigma'")
      }
      const stage = yield* factory(Object.fromEntries(s.entry.attributes)).pipe(
        Effect.annotateLogs("component", name)
      )
      stages.push({
        stage: stage as Stage<unknown, unknown, unknown>,
        input: channels.get(s.inputs[0].name)!,
        outputs: s.outputs.map((o) => channels.get(o.name)!)
      })
    }
    return { stages, channels }
  })

/** Initialises the drivers (`Init(pipeline, conf)`), each bound to its output channel. */
export const buildDrivers = (
  graph: PipelineGraph,
  built: BuiltPipeline,
  input: string,
  drivers: ReadonlyMap<string, DriverFactory> = builtinDrivers
): Effect.Effect<ReadonlyArray<RunnableDriver>, DriverError> =>
  Effect.forEach(graph.drivers, (d) =>
    Effect.gen(function* () {
      const factory = drivers.get(d.spec.name)
      if (factory === undefined) {
        return yield* new DriverError({ reason: "Init", driver: d.spec.name, detail: `driver '${d.spec.name}' not found in plugin cache` })
      }
      const run = yield* factory(input, d.config)
      const output = built.channels.get(d.output.name)!
      return {
        name: d.spec.name,
        output,
        run: (out: Channel<unknown>) => run(out).pipe(Effect.annotateLogs("component", d.spec.name))
      }
    })
  )
