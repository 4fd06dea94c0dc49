/**
 * Turns a validated `PipelineGraph` into running parts: one channel per graph channel, one initialised
 * processor per stage (in topological order; scoped, so files and connections close when the run
 * ends), and the drivers bound to their output channels. Built-in processors and drivers come from
 * their registries (`src/layers`), plugins from the plugin cache.
 */
import { Effect, type Scope } from "effect"
import { DriverError, type PipelineError } from "../../domain/errors.js"
import { pluginEntryOrigin, withAttributeOrigin } from "../kernel/AttributeDecoder.js"
import { makeChannel, type SomeChannel } from "../kernel/Channel.js"
import { DriverRegistry } from "../kernel/DriverRegistry.js"
import { type InitError, ProcessorRegistry } from "../kernel/ProcessorRegistry.js"
import { type RunnableDriver, type RunnableStage, streamStage } from "../kernel/Runner.js"
import { initPluginDriver } from "../plugins/PluginDriver.js"
import { PluginCache } from "../plugins/PluginCache.js"
import { makePluginHandlerStage } from "../plugins/PluginHandlerStage.js"
import { makePluginProcessorStage } from "../plugins/PluginProcessorStage.js"
import type { PipelineGraph } from "./PipelineGraph.js"

export interface BuiltPipeline {
  readonly stages: ReadonlyArray<RunnableStage>
  readonly channels: ReadonlyMap<string, SomeChannel>
  /** Stages that run plugin code (a plugin processor, or the reader with a plugin handler). */
  readonly pluginStages: ReadonlyArray<string>
}

const attributesOf = (s: PipelineGraph["stages"][number]) => Object.fromEntries(s.entry.attributes)

/** Initialises every processor of the graph (load step 4 of pipeline.md §4) and creates the channels. */
export const buildStages = (
  graph: PipelineGraph
): Effect.Effect<BuiltPipeline, InitError, Scope.Scope | ProcessorRegistry | PluginCache> =>
  Effect.gen(function* () {
    const processors = yield* ProcessorRegistry
    const plugins = yield* PluginCache
    const channels = new Map<string, SomeChannel>()
    for (const ref of graph.channels) channels.set(ref.name, yield* makeChannel(ref.name, ref.type))
    const stages: RunnableStage[] = []
    const pluginStages: string[] = []
    for (const s of graph.stages) {
      const name = s.entry.processor!
      const attrs = attributesOf(s)
      const input = channels.get(s.inputs[0].name)!
      const outputs = s.outputs.map((o) => channels.get(o.name)!)
      const handler = attrs["handler"]
      const builtin = processors.get(name)
      const pluginHandler = name === "sysflowreader" && typeof handler === "string" && handler !== "" && handler !== "flattener"
      if (pluginHandler || builtin === undefined) pluginStages.push(pluginHandler ? `${name} (handler '${handler}')` : name)
      const init: Effect.Effect<RunnableStage, InitError, Scope.Scope> =
        pluginHandler
          ? Effect.flatMap(plugins.loadHandler(attrs["handlerlibpath"] as string | undefined, handler), (h) =>
              makePluginHandlerStage(handler, h, attrs, input, outputs)
            )
          : builtin !== undefined
            ? Effect.map(builtin.make(attrs), (stage) => streamStage(stage, input, outputs))
            : makePluginProcessorStage(name, plugins.registrations.processors.get(name)!, attrs, input, outputs)
      stages.push(yield* init.pipe(withAttributeOrigin(pluginEntryOrigin(s.entry)), Effect.annotateLogs("component", name)))
    }
    return { stages, channels, pluginStages }
  })

/**
 * Initialises the drivers (`Init(pipeline, conf)`), each bound to its output channel. Scoped: a driver's
 * connection (nats) stays open until the run drained, so it can acknowledge what was delivered.
 */
export const buildDrivers = (
  graph: PipelineGraph,
  built: BuiltPipeline,
  input: string
): Effect.Effect<ReadonlyArray<RunnableDriver>, DriverError, Scope.Scope | DriverRegistry | PluginCache> =>
  Effect.gen(function* () {
    const registry = yield* DriverRegistry
    const plugins = yield* PluginCache
    return yield* Effect.forEach(graph.drivers, (d) =>
      Effect.gen(function* () {
        const name = d.spec.name
        const output = built.channels.get(d.output.name)!
        const builtin = registry.get(name)
        const pluginFactory = plugins.registrations.drivers.get(name)
        let run: Effect.Effect<void, PipelineError>
        if (builtin !== undefined) {
          run = (yield* builtin.init(input, d.config))(output)
        } else if (pluginFactory !== undefined) {
          const conf = d.config === undefined ? null : Object.fromEntries(d.config.attributes)
          run = (yield* initPluginDriver(name, pluginFactory, conf, output, built.channels))(input)
        } else {
          return yield* new DriverError({ reason: "Init", driver: name, detail: `driver '${name}' not found in plugin cache` })
        }
        return { name, output, run: run.pipe(Effect.annotateLogs("component", name)) }
      })
    )
  })
