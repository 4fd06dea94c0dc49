/**
 * The one decoder of processor and driver attributes (exporter, its transports and vault, policy
 * engine, reader, file and socket drivers): a Schema struct of config value kinds (domain/configValues.ts) decoded from
 * the entry's attributes, and errors that say where the bad value came from and what is expected:
 *
 *     pipeline.json: pipeline[2] (exporter): buffer = "-5" (from EXPORTER_BUFFER): must be a whole number from 0 to 100000
 *
 * The entry being initialised is the ambient `AttributeOrigin` (set by the pipeline builder around each
 * init, as log annotations are), so decoders deep inside a processor's init name it without every
 * factory passing it on. Without an origin (a processor built directly, as in tests) errors start with
 * the component's name instead.
 */
import { Effect, FiberRef, Schema } from "effect"
import { globalValue } from "effect/GlobalValue"
import { describeIssue, previewValue, valueIssues } from "../../domain/configValues.js"
import { DriverError, PipelineConfigError } from "../../domain/errors.js"
import { type DriverEntry, describeDriverEntry, describeEntry, type PluginEntry } from "../../domain/pipelineConfig.js"

export interface AttributeOrigin {
  /** The config file. */
  readonly file: string
  /** The entry, as errors name it: `pipeline[2] (exporter)`. */
  readonly entry: string
  /** Attributes set by an environment variable: key → the variable's name. */
  readonly sources: ReadonlyMap<string, string>
}

const currentOrigin = globalValue(Symbol.for("sfprocessor/AttributeOrigin"), () =>
  FiberRef.unsafeMake<AttributeOrigin | undefined>(undefined)
)

export const pluginEntryOrigin = (entry: PluginEntry): AttributeOrigin => ({
  file: entry.file,
  entry: describeEntry(entry),
  sources: entry.sources
})

/** Drivers are not overridden from the environment (pipeline.md §7). */
export const driverEntryOrigin = (entry: DriverEntry): AttributeOrigin => ({
  file: entry.file,
  entry: describeDriverEntry(entry),
  sources: new Map()
})

/** Runs an init with `origin` as the entry its attributes come from. */
export const withAttributeOrigin =
  (origin: AttributeOrigin) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.locally(self, currentOrigin, origin)

/** A configuration error located at the current entry: `<file>: <entry>: <detail>`. */
const located = (component: string, detail: (origin: AttributeOrigin | undefined) => string) =>
  Effect.flatMap(FiberRef.get(currentOrigin), (origin) =>
    Effect.fail(new PipelineConfigError({ reason: "Attribute", file: origin?.file, detail: `${origin?.entry ?? component}: ${detail(origin)}` }))
  )

/** ` (from EXPORTER_BUFFER)` when the key's value came from the environment. */
const fromEnv = (origin: AttributeOrigin | undefined, key: PropertyKey | undefined): string => {
  const name = typeof key === "string" ? origin?.sources.get(key) : undefined
  return name === undefined ? "" : ` (from ${name})`
}

/** An error about the entry as a whole (two keys that do not go together, a required key missing). */
export const entryError = (component: string, detail: string): Effect.Effect<never, PipelineConfigError> =>
  located(component, () => detail)

/** An error about one key's value (its default when absent): `<key> = <value> [(from VAR)]: <message>`. */
export const keyError = (
  component: string,
  attrs: Readonly<Record<string, unknown>>,
  key: string,
  message: string,
  value: unknown = attrs[key]
): Effect.Effect<never, PipelineConfigError> =>
  located(component, (origin) => `${key} = ${previewValue(value)}${fromEnv(origin, key)}: ${message}`)

/**
 * Decodes the attributes with a struct of config value kinds; every bad key is reported (`; `-separated).
 * Keys the struct does not name are left alone (other parts of the processor read them); an undefined
 * value counts as absent.
 */
export const decodeAttributes = <Fields extends Schema.Struct.Fields>(
  component: string,
  fields: Fields,
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<Schema.Schema.Type<Schema.Struct<Fields>>, PipelineConfigError, Schema.Struct.Context<Fields>> => {
  const present = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined))
  return Schema.decodeUnknown(Schema.Struct(fields), { errors: "all" })(present).pipe(
    Effect.catchTag("ParseError", (e) =>
      located(component, (origin) =>
        valueIssues(e, present).map((issue) => describeIssue(issue, "", fromEnv(origin, issue.path[0]))).join("; ")
      )
    )
  )
}

/** A built-in driver's config block decoded the same way; a bad value is the driver's init error. */
export const decodeDriverAttributes = <Fields extends Schema.Struct.Fields>(
  driver: string,
  fields: Fields,
  entry: DriverEntry
): Effect.Effect<Schema.Schema.Type<Schema.Struct<Fields>>, DriverError, Schema.Struct.Context<Fields>> =>
  decodeAttributes(driver, fields, Object.fromEntries(entry.attributes)).pipe(
    withAttributeOrigin(driverEntryOrigin(entry)),
    Effect.mapError((e) => new DriverError({ reason: "Init", driver, detail: e.message, cause: e }))
  )
