/**
 * The pipeline configuration file (pipeline.md §3) as typed entries, decoded from parsed JSON with
 * effect Schema.
 *
 * `processor`, `in` and `out` are typed fields because the graph is built from them; every other key
 * (including `handler` and `handlerlibpath`) stays in `attributes` under its spelling in the file, since
 * keys inside entries are case-sensitive and processors read them by name.
 */
import { Either, Schema } from "effect"
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

/** Numbers and booleans mean the same as their JSON text (P3): `"buffer": 1000` is `"buffer": "1000"`. */
const ScalarAsText = Schema.transform(Schema.Union(Schema.Number, Schema.Boolean), Schema.String, {
  strict: true,
  decode: (v) => String(v),
  encode: (s) => JSON.parse(s) as number | boolean
})

/** A textual attribute: a string, or a number/boolean as its JSON text. */
const Text = Schema.Union(Schema.String, ScalarAsText)

/** Objects, arrays and null are kept as JSON (e.g. the exporter's `kafka.config`, the driver's `kafka.topics`). */
export type StructuredValue = null | ReadonlyArray<JsonValue> | { readonly [key: string]: JsonValue }
export type AttributeValue = string | StructuredValue

export const AttributeValue: Schema.Schema<AttributeValue, JsonValue> = Schema.Union(
  Text,
  Schema.Null,
  Schema.Array(JsonValue),
  Schema.Record({ key: Schema.String, value: JsonValue })
)

/** `in`/`out`: one channel string or a list of them, normalised to a list of raw `"<name> <type>"` strings. */
const ChannelList = Schema.transform(
  Schema.Union(Schema.String, Schema.Array(Schema.String)),
  Schema.Array(Schema.String),
  { strict: true, decode: (v) => (typeof v === "string" ? [v] : v), encode: (v) => v }
)

export interface PluginEntry {
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
}

export interface DriverEntry {
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

const RawObject = Schema.Record({ key: Schema.String, value: JsonValue })
const RawList = Schema.Array(JsonValue)

/** Decodes `value` with `schema`, or fails with "<where>: <what> must be <expected>, got <value>". */
const decodeAs = <A, I>(schema: Schema.Schema<A, I>, value: unknown, what: string, expected: string) =>
  Either.mapLeft(Schema.decodeUnknownEither(schema)(value), () => `${what} must be ${expected}, got ${preview(value)}`)

const preview = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** Decodes the attributes of an entry, skipping its typed keys. */
const decodeAttributes = (fields: Readonly<Record<string, JsonValue>>, typed: ReadonlySet<string>, where: string) =>
  Either.gen(function* () {
    const attributes = new Map<string, AttributeValue>()
    const converted: Array<string> = []
    for (const [key, value] of Object.entries(fields)) {
      if (typed.has(key)) continue
      const decoded = key === "handler" || key === "handlerlibpath"
        ? yield* decodeAs(Text, value, `${where}: "${key}"`, "a string")
        : yield* decodeAs(AttributeValue, value, `${where}: "${key}"`, "a JSON value")
      if (typeof value === "number" || typeof value === "boolean") converted.push(key)
      attributes.set(key, decoded)
    }
    return { attributes, converted }
  })

const pluginKeys: ReadonlySet<string> = new Set(["processor", "in", "out"])
const driverKeys: ReadonlySet<string> = new Set(["driver", "out"])

const decodePluginEntry = (raw: unknown, index: number): Either.Either<PluginEntry, string> =>
  Either.gen(function* () {
    const fields = yield* decodeAs(RawObject, raw, `pipeline[${index}]`, "an object")
    const processor = fields.processor === undefined
      ? undefined
      : yield* decodeAs(Schema.String, fields.processor, `pipeline[${index}]: "processor"`, "a string")
    const where = label("pipeline", index, processor)
    const channels = (key: "in" | "out") =>
      fields[key] === undefined
        ? Either.right(undefined)
        : decodeAs(ChannelList, fields[key], `${where}: "${key}"`, "a string or an array of strings")
    const ins = yield* channels("in")
    const outs = yield* channels("out")
    const { attributes, converted } = yield* decodeAttributes(fields, pluginKeys, where)
    return { index, processor, in: ins, out: outs, attributes, converted }
  })

const decodeDriverEntry = (raw: unknown, index: number): Either.Either<DriverEntry, string> =>
  Either.gen(function* () {
    const fields = yield* decodeAs(RawObject, raw, `drivers[${index}]`, "an object")
    const driver = fields.driver === undefined
      ? undefined
      : yield* decodeAs(Schema.String, fields.driver, `drivers[${index}]: "driver"`, "a string")
    const where = label("drivers", index, driver)
    const out = fields.out === undefined
      ? undefined
      : yield* decodeAs(Schema.String, fields.out, `${where}: "out"`, "a string")
    const { attributes, converted } = yield* decodeAttributes(fields, driverKeys, where)
    return { index, driver, out, attributes, converted }
  })

/** The value of a case-insensitive top-level key (viper semantics); two spellings of one key are ambiguous. */
const topLevel = (fields: Readonly<Record<string, JsonValue>>, name: string) => {
  const keys = Object.keys(fields).filter((k) => k.toLowerCase() === name)
  return keys.length > 1
    ? Either.left(`top-level key "${name}" appears more than once (${keys.map((k) => `"${k}"`).join(", ")}); top-level keys are case-insensitive`)
    : Either.right(keys.length === 1 ? fields[keys[0]] : undefined)
}

const decodeList = <A>(
  fields: Readonly<Record<string, JsonValue>>,
  name: string,
  expected: string,
  decodeEntry: (raw: unknown, index: number) => Either.Either<A, string>
) =>
  Either.gen(function* () {
    const value = yield* topLevel(fields, name)
    if (value === undefined) return []
    const list = yield* decodeAs(RawList, value, `"${name}"`, expected)
    const entries: Array<A> = []
    for (let i = 0; i < list.length; i++) entries.push(yield* decodeEntry(list[i], i))
    return entries
  })

/** Decodes a parsed config file; other top-level keys (e.g. `_comment`) are ignored. */
export const decodePipelineConfig = (json: unknown, file: string): Either.Either<PipelineConfig, PipelineConfigError> =>
  Either.mapLeft(
    Either.gen(function* () {
      const fields = yield* decodeAs(RawObject, json, "the pipeline config", "a JSON object")
      const pipeline = yield* decodeList(fields, "pipeline", "an array of processor entries", decodePluginEntry)
      const drivers = yield* decodeList(fields, "drivers", "an array of driver entries", decodeDriverEntry)
      const metricsValue = yield* topLevel(fields, "metrics")
      const metrics = metricsValue === undefined || metricsValue === null
        ? undefined
        : yield* decodeAs(Text, metricsValue, '"metrics"', 'a listen address such as "127.0.0.1:9464" or a port number')
      return { file, pipeline, drivers, metrics: metrics === "" ? undefined : metrics }
    }),
    (detail) => new PipelineConfigError({ reason: "Schema", file, detail })
  )
