/**
 * What processors, handlers, drivers and channel types exist, as data (pipeline.md §3, §4, §8, §10), so a
 * pipeline can be validated before anything runs. Plugins extend it with `extendRegistry`.
 */
import { type PluginEntry, textAttribute } from "../../domain/pipelineConfig.js"
import type { DriverSpec, HandlerSpec, ProcessorSpec } from "../kernel/ComponentSpecs.js"

export type { DriverSpec, HandlerSpec, ProcessorSpec } from "../kernel/ComponentSpecs.js"

export interface Registry {
  readonly processors: ReadonlyMap<string, ProcessorSpec>
  readonly handlers: ReadonlyMap<string, HandlerSpec>
  readonly drivers: ReadonlyMap<string, DriverSpec>
  readonly channelTypes: ReadonlySet<string>
}

export interface RegistryAdditions {
  readonly processors?: ReadonlyArray<ProcessorSpec>
  readonly handlers?: ReadonlyArray<HandlerSpec>
  readonly drivers?: ReadonlyArray<DriverSpec>
  readonly channelTypes?: ReadonlyArray<string>
}

/** A new registry with the additions; an added name replaces a registered one (the reference's cache maps did too). */
export const extendRegistry = (registry: Registry, additions: RegistryAdditions): Registry => ({
  processors: withSpecs(registry.processors, additions.processors),
  handlers: withSpecs(registry.handlers, additions.handlers),
  drivers: withSpecs(registry.drivers, additions.drivers),
  channelTypes: new Set([...registry.channelTypes, ...(additions.channelTypes ?? [])])
})

const withSpecs = <S extends { readonly name: string }>(
  map: ReadonlyMap<string, S>,
  specs: ReadonlyArray<S> | undefined
): ReadonlyMap<string, S> => new Map([...map, ...(specs ?? []).map((s) => [s.name, s] as const)])

/** A plugin processor as `addProcessor(name, factory)` registers it: it declares no channel types or keys. */
export const pluginProcessor = (name: string): ProcessorSpec => ({
  name,
  accepts: "any",
  emits: "any",
  maxInputs: Number.POSITIVE_INFINITY,
  knownKeys: "any"
})

/** A plugin driver as `addDriver(name, factory)` registers it. */
export const pluginDriver = (name: string): DriverSpec => ({ name, emits: "any", output: "outOrRoot" })

/** What an entry's processor reads, for `applyEnvOverrides`: its known keys (P4), "any" for plugins. */
export type KnownKeys = (entry: PluginEntry) => ReadonlyArray<string> | "any"

/**
 * The entry's known keys; none for unregistered names; "any" for a reader with a plugin handler, which
 * reads its own keys from the reader's entry.
 */
export const knownKeysOf = (registry: Registry): KnownKeys => (entry) => {
  const spec = entry.processor === undefined ? undefined : registry.processors.get(entry.processor)
  if (spec === undefined) return []
  const handler = textAttribute(entry.attributes, "handler")
  const pluginHandler = handler !== undefined && handler !== "" && !registry.handlers.has(handler)
  return pluginHandler && spec.knownKeys !== "any" && spec.knownKeys.includes("handler") ? "any" : spec.knownKeys
}

/** The graph checker's registry of the given processors and drivers, with the built-in channel types and handler. */
export const registryOf = (
  processors: Iterable<{ readonly spec: ProcessorSpec }>,
  drivers: Iterable<{ readonly spec: DriverSpec }>
): Registry =>
  extendRegistry(
    { processors: new Map(), handlers: new Map(), drivers: new Map(), channelTypes: new Set() },
    {
      channelTypes: ["sysflowchan", "ctxchan", "flattenerchan", "eventchan", "otelchan"],
      processors: Array.from(processors, (p) => p.spec),
      handlers: [{ name: "flattener", emits: ["flattenerchan"] }],
      drivers: Array.from(drivers, (d) => d.spec)
    }
  )
