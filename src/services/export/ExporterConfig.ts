/**
 * The exporter's configuration keys (pipeline.md §11.1), decoded with Schema from the plugin entry's
 * string attributes. Only the selected transport's and format's keys are validated (P2).
 */
import { Effect, ParseResult, Schema } from "effect"
import { PipelineConfigError } from "../../domain/errors.js"

export const ExportKinds = ["terminal", "file", "syslog", "es", "kafka", "null", "findings"] as const
export type ExportKind = (typeof ExportKinds)[number]
export const FormatKinds = ["json", "ecs", "otel", "occurrence"] as const
export type FormatKind = (typeof FormatKinds)[number]

const NonNegativeIntFromString = Schema.NumberFromString.pipe(
  Schema.int({ message: () => "must be a whole number" }),
  Schema.nonNegative({ message: () => "must not be negative" })
)

const Common = Schema.Struct({
  export: Schema.optionalWith(Schema.String, { default: () => "terminal" }),
  format: Schema.optionalWith(Schema.String, { default: () => "json" }),
  buffer: Schema.optionalWith(NonNegativeIntFromString.pipe(Schema.lessThanOrEqualTo(100_000, { message: () => "must be at most 100000 (records the exporter may hold in memory)" })), { default: () => 0 }),
  jsonschemaversion: Schema.optionalWith(Schema.String, { default: () => "5" })
})

const FileKeys = Schema.Struct({
  "file.path": Schema.optionalWith(Schema.String.pipe(Schema.nonEmptyString()), { default: () => "./export.out" })
})

export interface ExporterConfig {
  readonly export: ExportKind
  readonly format: FormatKind
  readonly buffer: number
  readonly jsonSchemaVersion: string
  readonly filePath: string
  /** Warnings to log at init (unknown values that fell back to a default, P19). */
  readonly warnings: ReadonlyArray<string>
}

const decode = <A, I>(schema: Schema.Schema<A, I>, attrs: Readonly<Record<string, unknown>>, what: string) =>
  Schema.decodeUnknown(schema)(attrs).pipe(
    Effect.mapError(
      (e) =>
        new PipelineConfigError({
          reason: "Attribute",
          detail: `${what}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`
        })
    )
  )

/** Decodes the exporter keys; unknown `export`/`format` values fall back (terminal/json) with a warning. */
export const decodeExporterConfig = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<ExporterConfig, PipelineConfigError> =>
  Effect.gen(function* () {
    const common = yield* decode(Common, attrs, "exporter configuration")
    const warnings: string[] = []
    const exportKind = (ExportKinds as ReadonlyArray<string>).includes(common.export)
      ? (common.export as ExportKind)
      : (warnings.push(`unknown export '${common.export}', using terminal`), "terminal" as const)
    const format = (FormatKinds as ReadonlyArray<string>).includes(common.format)
      ? (common.format as FormatKind)
      : (warnings.push(`unknown format '${common.format}', using json`), "json" as const)
    // F6: findings and occurrence only go together.
    if ((exportKind === "findings") !== (format === "occurrence")) {
      return yield* new PipelineConfigError({
        reason: "Attribute",
        detail: `exporter: export '${exportKind}' cannot be used with format '${format}' (findings requires occurrence and occurrence requires findings)`
      })
    }
    const file = exportKind === "file" ? yield* decode(FileKeys, attrs, "exporter file keys") : undefined
    return {
      export: exportKind,
      format,
      buffer: common.buffer,
      jsonSchemaVersion: common.jsonschemaversion,
      filePath: file?.["file.path"] ?? "./export.out",
      warnings
    }
  })
