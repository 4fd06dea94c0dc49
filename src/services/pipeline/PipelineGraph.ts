/**
 * Driver selection and graph validation (pipeline.md §4, §5.1–5.2, P9): turns a config into a checked tree
 * of stages and channels before anything runs, so every wiring mistake the reference turned into a panic,
 * a hang or a silently truncated pipeline is a load error instead.
 */
import { Either } from "effect"
import { PipelineConfigError } from "../../domain/errors.js"
import {
  describeDriverEntry,
  describeEntry,
  type DriverEntry,
  type PipelineConfig,
  type PluginEntry,
  textAttribute
} from "../../domain/pipelineConfig.js"
import type { DriverSpec, ProcessorSpec, Registry } from "./Registry.js"

export interface ChannelRef {
  readonly name: string
  readonly type: string
}

export interface Stage {
  readonly entry: PluginEntry
  readonly spec: ProcessorSpec
  readonly inputs: ReadonlyArray<ChannelRef>
  /** Empty for a sink; several for a fan-out (tee). */
  readonly outputs: ReadonlyArray<ChannelRef>
}

export interface DriverBinding {
  readonly spec: DriverSpec
  /** The first `drivers[]` entry naming this driver, shared by drivers of the same name (§5.4). */
  readonly config: DriverEntry | undefined
  readonly output: ChannelRef
}

export interface PipelineGraph {
  /** Every producer before its consumers; independent stages keep file order. */
  readonly stages: ReadonlyArray<Stage>
  /** Every channel once, in order of first mention. */
  readonly channels: ReadonlyArray<ChannelRef>
  /** The first `in` of the first entry, which drivers without an `out` write. */
  readonly root: ChannelRef
  readonly drivers: ReadonlyArray<DriverBinding>
}

type Result<A> = Either.Either<A, PipelineConfigError>

/** `-driver` when given (non-empty), else one driver per `drivers[]` entry with a `driver` name (§4 step 3). */
export const selectDrivers = (config: PipelineConfig, cliDriver: string | undefined): Result<ReadonlyArray<string>> => {
  if (cliDriver !== undefined && cliDriver !== "") return Either.right([cliDriver])
  const names = config.drivers.flatMap((d) => (d.driver === undefined ? [] : [d.driver]))
  return names.length > 0
    ? Either.right(names)
    : Either.left(
        new PipelineConfigError({
          reason: "Graph",
          detail: "No drivers configured on command line or in pipeline config " +
            '(pass -driver file to read trace files or -driver socket for the collector, or add a "drivers" block)'
        })
      )
}

/** Processor names the registry lacks, in file order, so the caller can try loading them as plugins first. */
export const unknownProcessors = (config: PipelineConfig, registry: Registry): ReadonlyArray<string> => [
  ...new Set(config.pipeline.flatMap((e) => (e.processor === undefined || registry.processors.has(e.processor) ? [] : [e.processor])))
]

/** Validates the config against the registry and the selected drivers, and resolves every channel. */
export const buildPipelineGraph = (
  config: PipelineConfig,
  registry: Registry,
  driverNames: ReadonlyArray<string>
): Result<PipelineGraph> =>
  Either.gen(function* () {
    const fail = (detail: string) => Either.left(new PipelineConfigError({ reason: "Graph", file: config.file, detail }))
    if (config.pipeline.length === 0) return yield* fail('the pipeline has no processors ("pipeline" is missing or empty)')
    const channels = new ChannelTable(registry, fail)

    const stages: Array<Stage> = []
    for (const entry of config.pipeline) stages.push(yield* resolveStage(entry, registry, channels, fail))
    const root = stages[0].inputs[0]
    const drivers: Array<DriverBinding> = []
    for (const name of driverNames) drivers.push(yield* resolveDriver(name, config, registry, root, channels, fail))

    yield* checkEndpoints(channels.all(), stages, drivers, fail)
    for (const d of drivers) yield* checkDriverType(d, root, stages[0], fail)
    for (const stage of stages) yield* checkStageTypes(stage, registry, fail)
    return { stages: yield* topologicalOrder(stages, fail), channels: channels.all(), root, drivers }
  })

type Fail = (detail: string) => Either.Either<never, PipelineConfigError>

/** Parses channel strings and remembers each channel's type, which must be the same wherever it is named. */
class ChannelTable {
  private readonly byName = new Map<string, { readonly channel: ChannelRef; readonly where: string }>()

  constructor(private readonly registry: Registry, private readonly fail: Fail) {}

  resolve(text: string, where: string, key: "in" | "out"): Result<ChannelRef> {
    const words = text.split(/\s+/).filter((w) => w !== "")
    if (words.length !== 2) return this.fail(`${where}: ${key} channel "${text}" must be of the form "<identifier> <type>"`)
    const [name, type] = words
    if (!this.registry.channelTypes.has(type)) {
      const known = [...this.registry.channelTypes].sort().join(", ")
      return this.fail(`${where}: channel '${name}':'${type}' not found in plugin cache (channel types: ${known})`)
    }
    const seen = this.byName.get(name)
    if (seen === undefined) {
      const channel = { name, type }
      this.byName.set(name, { channel, where: `${where} ${key}` })
      return Either.right(channel)
    }
    return seen.channel.type === type
      ? Either.right(seen.channel)
      : this.fail(`channel '${name}' is named with two types: ${seen.channel.type} (${seen.where}) and ${type} (${where} ${key})`)
  }

  all(): ReadonlyArray<ChannelRef> {
    return [...this.byName.values()].map((v) => v.channel)
  }
}

const resolveStage = (entry: PluginEntry, registry: Registry, channels: ChannelTable, fail: Fail): Result<Stage> =>
  Either.gen(function* () {
    const where = describeEntry(entry)
    if (entry.processor === undefined) return yield* fail(`${where}: processor tag must exist in plugin config`)
    const spec = registry.processors.get(entry.processor)
    if (spec === undefined) return yield* fail(`${where}: plugin '${entry.processor}' not found in plugin cache`)
    if (entry.in === undefined || entry.in.length === 0) return yield* fail(`${where}: in tag must exist in plugin config`)
    const inputs: Array<ChannelRef> = []
    for (const text of entry.in) inputs.push(yield* channels.resolve(text, where, "in"))
    const outputs: Array<ChannelRef> = []
    for (const text of entry.out ?? []) outputs.push(yield* channels.resolve(text, where, "out"))
    if (inputs.length > spec.maxInputs) {
      const limit = spec.maxInputs === 1 ? "only supports a single input channel at this time" : `supports at most ${spec.maxInputs} input channels`
      return yield* fail(`${where}: ${spec.name} ${limit} (in: ${inputs.map((c) => `'${c.name}'`).join(", ")})`)
    }
    return { entry, spec, inputs, outputs }
  })

const resolveDriver = (
  name: string,
  config: PipelineConfig,
  registry: Registry,
  root: ChannelRef,
  channels: ChannelTable,
  fail: Fail
): Result<DriverBinding> =>
  Either.gen(function* () {
    const spec = registry.drivers.get(name)
    if (spec === undefined) return yield* fail(`driver '${name}' not found in plugin cache`)
    const block = config.drivers.find((d) => d.driver === name)
    if (block === undefined || spec.output === "root") return { spec, config: block, output: root }
    if (block.out !== undefined) return { spec, config: block, output: yield* channels.resolve(block.out, describeDriverEntry(block), "out") }
    if (spec.output === "outOrRoot") return { spec, config: block, output: root }
    return yield* fail(`${describeDriverEntry(block)}: out tag does not exist in driver configuration for driver ${name}`)
  })

/** Exactly one producer and one consumer per channel (no fan-in, no competing consumers, nothing dangling). */
const checkEndpoints = (
  channels: ReadonlyArray<ChannelRef>,
  stages: ReadonlyArray<Stage>,
  drivers: ReadonlyArray<DriverBinding>,
  fail: Fail
): Result<void> =>
  Either.gen(function* () {
    for (const { name } of channels) {
      const producers = [
        ...drivers.filter((d) => d.output.name === name).map((d) => `driver '${d.spec.name}'`),
        ...stages.filter((s) => s.outputs.some((c) => c.name === name)).map((s) => describeEntry(s.entry))
      ]
      const consumers = stages.filter((s) => s.inputs.some((c) => c.name === name)).map((s) => describeEntry(s.entry))
      if (producers.length > 1) {
        yield* fail(`channel '${name}' has ${producers.length} producers (${producers.join(", ")}); a channel must have exactly one producer (fan-in is not supported)`)
      }
      if (consumers.length > 1) {
        yield* fail(`channel '${name}' is read by ${consumers.length} processors (${consumers.join(", ")}); a channel must have exactly one consumer (to feed several processors, give the producer one out channel for each)`)
      }
      if (producers.length === 0) yield* fail(`channel '${name}' read by ${consumers[0]} has no producer (no driver or processor writes it)`)
      if (consumers.length === 0) yield* fail(`channel '${name}' written by ${producers[0]} has no consumer (no processor reads it)`)
    }
  })

const checkDriverType = (driver: DriverBinding, root: ChannelRef, first: Stage, fail: Fail): Result<void> => {
  const { spec, output } = driver
  if (spec.emits === "any" || spec.emits === output.type) return Either.void
  const rootNote = output === root ? ` (the root channel: the first in of ${describeEntry(first.entry)})` : ""
  return fail(`driver '${spec.name}' writes ${spec.emits}, but its channel '${output.name}'${rootNote} has type ${output.type}`)
}

const checkStageTypes = (stage: Stage, registry: Registry, fail: Fail): Result<void> =>
  Either.gen(function* () {
    const where = describeEntry(stage.entry)
    const { accepts, name } = stage.spec
    for (const c of stage.inputs) {
      if (accepts !== "any" && !accepts.includes(c.type)) {
        yield* fail(`${where} cannot read channel '${c.name}' of type ${c.type}: ${name} reads ${accepts.join(" or ")}`)
      }
    }
    const emits = emittedTypes(stage, registry)
    for (const c of stage.outputs) {
      if (emits !== undefined && !emits.types.includes(c.type)) {
        const writes = emits.types.length === 0 ? "writes no channels" : `writes ${emits.types.join(" or ")}`
        yield* fail(`${where} cannot write channel '${c.name}' of type ${c.type}: ${emits.who} ${writes}`)
      }
    }
  })

/** What a stage can write; undefined when unknown (plugins, or a handler that is loaded only at init). */
const emittedTypes = (stage: Stage, registry: Registry) => {
  const { emits, name } = stage.spec
  if (emits === "any") return undefined
  if (emits !== "handler") return { who: name, types: emits }
  const handler = textAttribute(stage.entry.attributes, "handler")
  const spec = handler === undefined ? undefined : registry.handlers.get(handler)
  return spec === undefined ? undefined : { who: `${name} with handler '${spec.name}'`, types: spec.emits }
}

/**
 * Kahn's algorithm, picking the earliest ready entry each time. Channels have one producer by now, so
 * whatever is left over lies on a cycle or downstream of one; we walk producers back to name the cycle.
 */
const topologicalOrder = (stages: ReadonlyArray<Stage>, fail: Fail): Result<ReadonlyArray<Stage>> => {
  const producer = new Map<string, Stage>()
  for (const s of stages) for (const c of s.outputs) producer.set(c.name, s)
  const done = new Set<Stage>()
  const ordered: Array<Stage> = []
  const ready = (s: Stage) => !done.has(s) && s.inputs.every((c) => !producer.has(c.name) || done.has(producer.get(c.name)!))
  for (let next = stages.find(ready); next !== undefined; next = stages.find(ready)) {
    done.add(next)
    ordered.push(next)
  }
  if (ordered.length === stages.length) return Either.right(ordered)

  const upstream = (x: Stage) =>
    x.inputs.find((c) => {
      const p = producer.get(c.name)
      return p !== undefined && !done.has(p)
    })!
  const path: Array<Stage> = []
  let s = stages.find((x) => !done.has(x))!
  while (!path.includes(s)) {
    path.push(s)
    s = producer.get(upstream(s).name)!
  }
  const cycle = path.slice(path.indexOf(s)).reverse()
  const steps = cycle.map((x, i) => `${describeEntry(x.entry)} -> '${upstream(cycle[(i + 1) % cycle.length]).name}'`)
  return fail(`the pipeline has a cycle: ${steps.join(" -> ")} -> ${describeEntry(cycle[0].entry)}`)
}
