/**
 * The pipeline configuration file (pipeline.md §3) as typed entries, decoded from parsed JSON with
 * effect Schema.
 *
 * `processor`, `in` and `out` are typed fields because the graph is built from them; every other key
 * (including `handler` and `handlerlibpath`) stays in `attributes` under its spelling in the file, since
 * keys inside entries are case-sensitive and processors read them by name.
 */
import { Either, Schema } from "effect"
import { configValue, describeIssue, optionalKey, Text, textValue, valueIssues } from "./configValues.js"
import { PipelineConfigError } from "./errors.js"

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue }

export const JsonValue: Schema.Schema<JsonValue> = Schema.suspend(
  (): Schema.Schema<JsonValue> =>
    Schema.Union(
      Schema.Null,
      Schema.Boolean,
      Schema.Number,
      Schema.String,
      Schema.Array(JsonValue),
      Schema.Record({ key: Schema.String, value: JsonValue })
    )
)

/** Objects, arrays and null are kept as JSON (e.g. the exporter's `kafka.config`, the driver's `kafka.topics`). */
export type StructuredValue = null | ReadonlyArray<JsonValue> | { readonly [key: string]: JsonValue }
export type AttributeValue = string | StructuredValue

/** A value as an attribute keeps it: text (numbers and booleans as their JSON text, P3), or structured JSON. */
const AttributeValue: Schema.Schema<AttributeValue, unknown> = Schema.Union(
  Text,
  Schema.Null,
  Schema.Array(JsonValue),
  Schema.Record({ key: Schema.String, value: JsonValue })
)

export interface PluginEntry {
  /** The config file it was read from, for messages. */
  readonly file: string
  /** Position in the file's `pipeline` array. */
  readonly index: number
  readonly processor: string | undefined
  /** Raw channel strings as written (`"<name> <type>"`, not yet validated); undefined when the key is absent. */
  readonly in: ReadonlyArray<string> | undefined
  readonly out: ReadonlyArray<string> | undefined
  /** Every other key, including `handler`, `handlerlibpath` and (after `applyEnvOverrides`) the manifest keys. */
  readonly attributes: ReadonlyMap<string, AttributeValue>
  /** Keys whose number/boolean value was turned into text (P3), for a trace-level note. */
  readonly converted: ReadonlyArray<string>
  /** Attributes set by an environment variable (`applyEnvOverrides`): key → the variable's name, for messages. */
  readonly sources: ReadonlyMap<string, string>
}

export interface DriverEntry {
  /** The config file it was read from, for messages. */
  readonly file: string
  /** Position in the file's `drivers` array. */
  readonly index: number
  /** Undefined when the entry has no `driver` key; such an entry selects no driver (reference). */
  readonly driver: string | undefined
  /** Raw channel string the driver writes to (`file`/`socket` require it in a config block, §5.2). */
  readonly out: string | undefined
  readonly attributes: ReadonlyMap<string, AttributeValue>
  readonly converted: ReadonlyArray<string>
}

export interface PipelineConfig {
  /** The config file path as given; named by every later error about this config. */
  readonly file: string
  readonly pipeline: ReadonlyArray<PluginEntry>
  readonly drivers: ReadonlyArray<DriverEntry>
  /** sfprocessor's `metrics` key: where to serve `/metrics` and `/healthz` (absent: off). */
  readonly metrics: string | undefined
}

/** How errors name an entry: `pipeline[2] (exporter)`, `drivers[0] (file)`, or `pipeline[2]` without a name. */
export const describeEntry = (entry: PluginEntry): string => label("pipeline", entry.index, entry.processor)
export const describeDriverEntry = (entry: DriverEntry): string => label("drivers", entry.index, entry.driver)

const label = (section: string, index: number, name: string | undefined): string =>
  name === undefined ? `${section}[${index}]` : `${section}[${index}] (${name})`

/** An attribute's text, or undefined when it is absent or structured. */
export const textAttribute = (attributes: ReadonlyMap<string, AttributeValue>, key: string): string | undefined => {
  const v = attributes.get(key)
  return typeof v === "string" ? v : undefined
}

/** Parsed JSON as it arrives: an object (an entry, the file itself) or a list (`pipeline`, `drivers`). */
const RawObject = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({ message: () => "must be a JSON object" })
const rawList = (expected: string) => Schema.Array(Schema.Unknown).annotations({ message: () => `must be ${expected}` })

const Name = configValue(Schema.String, (v) => (typeof v === "string" ? Either.right(v) : Either.left("must be a string")))

/** `in`/`out`: one channel string or a list of them, normalised to a list of raw `"<name> <type>"` strings. */
const ChannelList = configValue(Schema.Array(Schema.String), (v) =>
  typeof v === "string"
    ? Either.right([v])
    : Array.isArray(v) && v.every((c) => typeof c === "string")
      ? Either.right(v as ReadonlyArray<string>)
      : Either.left("must be a string or an array of strings")
)

/** The keys the graph is built from; the plugin handler's name and path are checked to be text (they stay attributes). */
const PluginFields = Schema.Struct({
  processor: optionalKey(Name),
  in: optionalKey(ChannelList),
  out: optionalKey(ChannelList),
  handler: optionalKey(Text),
  handlerlibpath: optionalKey(Text)
})
const DriverFields = Schema.Struct({ driver: optionalKey(Name), out: optionalKey(Name) })

/**
 * Decodes `value` with `schema`, or fails with one `<subject><path> = <value>: <expectation>` per bad value,
 * each from Schema's ParseResult (`where` names the entry, when there is one).
 */
const decodeAs = <A, I>(schema: Schema.Schema<A, I>, value: unknown, where: string, subject = "") =>
  Either.mapLeft(Schema.decodeUnknownEither(schema, { errors: "all" })(value), (e) => {
    const issues = valueIssues(e, value).map((issue) => describeIssue(issue, subject))
    return `${where === "" ? "" : `${where}: `}${issues.join("; ")}`
  })

const pluginKeys: ReadonlySet<string> = new Set(["processor", "in", "out"])
const driverKeys: ReadonlySet<string> = new Set(["driver", "out"])

/** The attributes of an entry (every key but its typed ones), with the keys P3 turned into text. */
const entryAttributes = (fields: Readonly<Record<string, unknown>>, typed: ReadonlySet<string>, where: string) =>
  Either.gen(function* () {
    const rest = Object.fromEntries(Object.entries(fields).filter(([key]) => !typed.has(key)))
    const decoded = yield* decodeAs(Schema.Record({ key: Schema.String, value: AttributeValue }), rest, where)
    const converted = Object.keys(rest).filter((key) => typeof rest[key] === "number" || typeof rest[key] === "boolean")
    return { attributes: new Map(Object.entries(decoded)), converted }
  })

/** The entry's name for messages: its `processor` (or `driver`) when that is a string. */
const nameOf = (fields: Readonly<Record<string, unknown>>, key: string) => (typeof fields[key] === "string" ? (fields[key] as string) : undefined)

const decodePluginEntry = (file: string) => (raw: unknown, index: number): Either.Either<PluginEntry, string> =>
  Either.gen(function* () {
    const fields = yield* decodeAs(RawObject, raw, "", `pipeline[${index}]`)
    const where = label("pipeline", index, nameOf(fields, "processor"))
    const typed = yield* decodeAs(PluginFields, fields, where)
    const { attributes, converted } = yield* entryAttributes(fields, pluginKeys, where)
    return { file, index, processor: typed.processor, in: typed.in, out: typed.out, attributes, converted, sources: new Map() }
  })

const decodeDriverEntry = (file: string) => (raw: unknown, index: number): Either.Either<DriverEntry, string> =>
  Either.gen(function* () {
    const fields = yield* decodeAs(RawObject, raw, "", `drivers[${index}]`)
    const where = label("drivers", index, nameOf(fields, "driver"))
    const typed = yield* decodeAs(DriverFields, fields, where)
    const { attributes, converted } = yield* entryAttributes(fields, driverKeys, where)
    return { file, index, driver: typed.driver, out: typed.out, attributes, converted }
  })

/** The value of a case-insensitive top-level key (viper semantics); two spellings of one key are ambiguous. */
const topLevel = (fields: Readonly<Record<string, unknown>>, name: string) => {
  const keys = Object.keys(fields).filter((k) => k.toLowerCase() === name)
  return keys.length > 1
    ? Either.left(`top-level key "${name}" appears more than once (${keys.map((k) => `"${k}"`).join(", ")}); top-level keys are case-insensitive`)
    : Either.right(keys.length === 1 ? fields[keys[0]] : undefined)
}

const decodeList = <A>(
  fields: Readonly<Record<string, unknown>>,
  name: string,
  expected: string,
  decodeEntry: (raw: unknown, index: number) => Either.Either<A, string>
) =>
  Either.gen(function* () {
    const value = yield* topLevel(fields, name)
    if (value === undefined) return []
    const list = yield* decodeAs(rawList(expected), value, "", name)
    const entries: Array<A> = []
    for (let i = 0; i < list.length; i++) entries.push(yield* decodeEntry(list[i], i))
    return entries
  })

const MetricsAddress = textValue(Schema.String, 'must be a listen address such as "127.0.0.1:9464" or a port number', (s) => s)

/** Decodes a parsed config file; other top-level keys (e.g. `_comment`) are ignored. */
export const decodePipelineConfig = (json: unknown, file: string): Either.Either<PipelineConfig, PipelineConfigError> =>
  Either.mapLeft(
    Either.gen(function* () {
      const fields = yield* decodeAs(RawObject, json, "", "the pipeline config")
      const pipeline = yield* decodeList(fields, "pipeline", "an array of processor entries", decodePluginEntry(file))
      const drivers = yield* decodeList(fields, "drivers", "an array of driver entries", decodeDriverEntry(file))
      const metricsValue = yield* topLevel(fields, "metrics")
      const metrics = metricsValue === undefined || metricsValue === null
        ? undefined
        : yield* decodeAs(MetricsAddress, metricsValue, "", "metrics")
      return { file, pipeline, drivers, metrics: metrics === "" ? undefined : metrics }
    }),
    (detail) => new PipelineConfigError({ reason: "Schema", file, detail })
  )
