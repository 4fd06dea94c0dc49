/**
 * Turns a validated `PipelineGraph` into running parts: one channel per graph channel, one initialised
 * processor per stage (in topological order; scoped, so files and connections close when the run
 * ends), and the drivers bound to their output channels. Built-in processors and drivers come from the
 * tables below; plugins from what the loader registered.
 */
import { Effect, type Scope } from "effect"
import { DriverError, type ExportError, PipelineConfigError } from "../../domain/errors.js"
import { Text, withDefault } from "../../domain/configValues.js"
import type { DriverEntry } from "../../domain/pipelineConfig.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { initFileDriver } from "../drivers/FileDriver.js"
import { initSocketDriver, runSocketDriver } from "../drivers/SocketDriver.js"
import { makeExporter } from "../export/Exporter.js"
import type { TerminalOutput } from "../export/Transport.js"
import { initPluginDriver } from "../plugins/PluginDriver.js"
import { makePluginHandlerStage } from "../plugins/PluginHandlerStage.js"
import { loadHandlerPlugin, type PluginRegistrations } from "../plugins/PluginLoader.js"
import { makePluginProcessorStage } from "../plugins/PluginProcessorStage.js"
import { makePolicyEngineStage } from "../policy/PolicyEngineStage.js"
import { makeSysFlowReader } from "../reader/SysFlowReader.js"
import { decodeDriverAttributes, pluginEntryOrigin, withAttributeOrigin } from "../kernel/AttributeDecoder.js"
import { type Channel, makeChannel } from "../kernel/Channel.js"
import type { PipelineGraph } from "./PipelineGraph.js"
import { type RunnableDriver, type RunnableStage, streamStage } from "../kernel/Runner.js"
import type { Stage } from "../kernel/Stage.js"

type InitError = PipelineConfigError | ExportError

/** Creates an initialised built-in processor from its entry's attributes (`Init(conf)` in the reference). */
export type ProcessorFactory = (
  attrs: Readonly<Record<string, unknown>>
) => Effect.Effect<Stage<never, unknown, unknown>, InitError, Scope.Scope | TerminalOutput>

/** Creates a built-in driver's run function from the CLI path and its `drivers[]` block, if any. */
export type DriverFactory = (
  input: string,
  config: DriverEntry | undefined
) => Effect.Effect<(output: Channel<unknown>) => Effect.Effect<void, unknown>, DriverError>

const notYet = (what: string) => new PipelineConfigError({ reason: "Plugin", detail: `${what} is not implemented yet` })
const unsupported = (driver: string) => () =>
  Effect.fail(new DriverError({ reason: "Init", driver, detail: `driver '${driver}' (OTel backend) is not supported by sfprocessor` }))

export const builtinProcessors: ReadonlyMap<string, ProcessorFactory> = new Map<string, ProcessorFactory>([
  ["sysflowreader", makeSysFlowReader as ProcessorFactory],
  ["policyengine", makePolicyEngineStage as ProcessorFactory],
  ["exporter", makeExporter as ProcessorFactory],
  ["sysflowprocessor", () => Effect.fail(notYet("processor 'sysflowprocessor' (ctxchan input)"))]
])

/** The file driver's config block: `path` replaces the CLI's input path. */
const FileDriverKeys = { path: withDefault(Text, "") }

export const builtinDrivers: ReadonlyMap<string, DriverFactory> = new Map<string, DriverFactory>([
  [
    "file",
    (input, config) =>
      Effect.gen(function* () {
        const keys = config === undefined ? { path: "" } : yield* decodeDriverAttributes("file", FileDriverKeys, config)
        const run = yield* initFileDriver(keys.path !== "" ? keys.path : input)
        return (output) => run(output as unknown as Channel<SysFlowDatum>)
      })
  ],
  [
    "socket",
    (input, config) =>
      Effect.map(initSocketDriver(input, config), (options) => (output: Channel<unknown>) =>
        runSocketDriver(input, output as unknown as Channel<SysFlowDatum>, options))
  ],
  ["otelfile", unsupported("otelfile")],
  ["otelkafka", unsupported("otelkafka")]
])

export interface BuiltPipeline {
  readonly stages: ReadonlyArray<RunnableStage>
  readonly channels: ReadonlyMap<string, Channel<unknown>>
}

const attributesOf = (s: PipelineGraph["stages"][number]) => Object.fromEntries(s.entry.attributes)

/** Initialises every processor of the graph (load step 4 of pipeline.md §4) and creates the channels. */
export const buildStages = (
  graph: PipelineGraph,
  plugins: PluginRegistrations
): Effect.Effect<BuiltPipeline, InitError, Scope.Scope | TerminalOutput> =>
  Effect.gen(function* () {
    const channels = new Map<string, Channel<unknown>>()
    for (const ref of graph.channels) channels.set(ref.name, yield* makeChannel(ref.name, ref.type))
    const stages: RunnableStage[] = []
    for (const s of graph.stages) {
      const name = s.entry.processor!
      const attrs = attributesOf(s)
      const input = channels.get(s.inputs[0].name)!
      const outputs = s.outputs.map((o) => channels.get(o.name)!)
      const handler = attrs["handler"]
      const init: Effect.Effect<RunnableStage, InitError, Scope.Scope | TerminalOutput> =
        name === "sysflowreader" && typeof handler === "string" && handler !== "" && handler !== "flattener"
          ? Effect.flatMap(loadHandlerPlugin(attrs["handlerlibpath"] as string | undefined, handler), (h) =>
              makePluginHandlerStage(handler, h, attrs, input, outputs)
            )
          : builtinProcessors.has(name)
            ? Effect.map(builtinProcessors.get(name)!(attrs), (stage) =>
                streamStage(stage as Stage<unknown, unknown, unknown>, input, outputs)
              )
            : makePluginProcessorStage(name, plugins.processors.get(name)!, attrs, input, outputs)
      stages.push(yield* init.pipe(withAttributeOrigin(pluginEntryOrigin(s.entry)), Effect.annotateLogs("component", name)))
    }
    return { stages, channels }
  })

/** Initialises the drivers (`Init(pipeline, conf)`), each bound to its output channel. */
export const buildDrivers = (
  graph: PipelineGraph,
  built: BuiltPipeline,
  input: string,
  plugins: PluginRegistrations
): Effect.Effect<ReadonlyArray<RunnableDriver>, DriverError> =>
  Effect.forEach(graph.drivers, (d) =>
    Effect.gen(function* () {
      const name = d.spec.name
      const output = built.channels.get(d.output.name)!
      const builtin = builtinDrivers.get(name)
      const pluginFactory = plugins.drivers.get(name)
      let run: (out: Channel<unknown>) => Effect.Effect<void, unknown>
      if (builtin !== undefined) {
        run = yield* builtin(input, d.config)
      } else if (pluginFactory !== undefined) {
        const conf = d.config === undefined ? null : Object.fromEntries(d.config.attributes)
        const start = yield* initPluginDriver(name, pluginFactory, conf, output, built.channels)
        run = () => start(input)
      } else {
        return yield* new DriverError({ reason: "Init", driver: name, detail: `driver '${name}' not found in plugin cache` })
      }
      return { name, output, run: (out: Channel<unknown>) => run(out).pipe(Effect.annotateLogs("component", name)) }
    })
  )
