/**
 * What processors, handlers, drivers and channel types exist, as data (pipeline.md §3, §4, §8, §10), so a
 * pipeline can be validated before anything runs. Plugins extend it with `extendRegistry`.
 */
import { type PluginEntry, textAttribute } from "../../domain/pipelineConfig.js"

export interface ProcessorSpec {
  readonly name: string
  /** Channel types it can read; "any" for plugins, which declare none. */
  readonly accepts: ReadonlyArray<string> | "any"
  /** Channel types it can write: a list (empty for a sink), "handler" (whatever its handler writes) or "any". */
  readonly emits: ReadonlyArray<string> | "handler" | "any"
  /** How many `in` channels it reads; built-ins read exactly one. */
  readonly maxInputs: number
  /**
   * Attribute names it reads, in canonical spelling, so env overrides can find camelCase keys (P4) and
   * an override of any other key is reported; "any" for plugins, which read what they like.
   */
  readonly knownKeys: ReadonlyArray<string> | "any"
}

export interface HandlerSpec {
  readonly name: string
  readonly emits: ReadonlyArray<string>
}

export interface DriverSpec {
  readonly name: string
  /** The channel type it writes; "any" for plugins, which declare none. */
  readonly emits: string | "any"
  /**
   * Which channel it writes (§5.2): "out" = the config block's `out`, which the block must have, or the root
   * channel without a block (file, socket); "root" = always the root channel (otelfile, otelkafka ignore
   * `out`); "outOrRoot" = the block's `out` when given, else the root channel (plugin drivers).
   */
  readonly output: "out" | "root" | "outOrRoot"
}

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

const readerKeys = ["handler", "handlerlibpath", "filter.enabled", "filter.maxage"] as const

const policyEngineKeys = [
  "policies",
  "mode",
  "language",
  "config",
  "monitor",
  "monitor.interval",
  "monitor.debounce",
  "concurrency",
  "actiondir",
  "bench.rulesetsize",
  "bench.ruleindex"
] as const

const exporterKeys = [
  "export",
  "format",
  "buffer",
  "vault.secrets",
  "vault.path",
  "vault.encoding",
  "file.path",
  "syslog.proto",
  "syslog.tag",
  "syslog.source",
  "syslog.host",
  "syslog.port",
  "syslog.tls.ca",
  "syslog.tls.skipverify",
  "es.addresses",
  "es.index",
  "es.username",
  "es.password",
  "es.bulk.numWorkers",
  "es.bulk.flushBuffer",
  // The reference's CONFIG.md spells flushBuffer this way, so configs copied from it carry this alias.
  "es.bulk.flashBuffer",
  "es.bulk.flushTimeout",
  "es.tls.ca",
  "es.tls.skipverify",
  "kafka.config",
  "kafka.topic",
  "kafka.encoding",
  "findings.apikey",
  "findings.url",
  "findings.accountid",
  "findings.provider",
  "findings.region",
  "findings.sqlqueryurl",
  "findings.sqlquerycrn",
  "findings.s3region",
  "findings.s3bucket",
  "findings.s3prefix",
  "findings.path",
  "findings.iamurl",
  "es.index.autocreate",
  "findings.pool.capacity",
  "findings.pool.maxage"
] as const

export const builtinRegistry: Registry = extendRegistry(
  { processors: new Map(), handlers: new Map(), drivers: new Map(), channelTypes: new Set() },
  {
    channelTypes: ["sysflowchan", "ctxchan", "flattenerchan", "eventchan", "otelchan"],
    processors: [
      { name: "sysflowreader", accepts: ["sysflowchan"], emits: "handler", maxInputs: 1, knownKeys: readerKeys },
      { name: "sysflowprocessor", accepts: ["ctxchan"], emits: "handler", maxInputs: 1, knownKeys: readerKeys },
      { name: "policyengine", accepts: ["flattenerchan", "otelchan"], emits: ["eventchan"], maxInputs: 1, knownKeys: policyEngineKeys },
      // Reading flattenerchan directly (exporting telemetry without an engine) is an sfprocessor extension.
      { name: "exporter", accepts: ["eventchan", "flattenerchan"], emits: [], maxInputs: 1, knownKeys: exporterKeys }
    ],
    handlers: [{ name: "flattener", emits: ["flattenerchan"] }],
    drivers: [
      { name: "file", emits: "sysflowchan", output: "out" },
      { name: "socket", emits: "sysflowchan", output: "out" },
      { name: "otelfile", emits: "otelchan", output: "root" },
      { name: "otelkafka", emits: "otelchan", output: "root" }
    ]
  }
)
