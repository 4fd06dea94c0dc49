/**
 * The exporter's configuration keys (pipeline.md §11.1), decoded with Schema from the plugin entry's
 * string attributes. Only the selected transport's and format's keys are validated (P2).
 */
import { Effect } from "effect"
import { NonEmptyText, OneOf, Text, WholeNumber, withDefault } from "../../domain/configValues.js"
import type { PipelineConfigError } from "../../domain/errors.js"
import { decodeAttributes, entryError } from "../kernel/AttributeDecoder.js"

export const ExportKinds = ["terminal", "file", "syslog", "es", "kafka", "null", "findings"] as const
export type ExportKind = (typeof ExportKinds)[number]
export const FormatKinds = ["json", "ecs", "otel", "occurrence"] as const
export type FormatKind = (typeof FormatKinds)[number]

/** The largest `buffer`: records the exporter may be asked to hold before it sends them (memory bound). */
export const MAX_BUFFER = 100_000

const Common = {
  // An unknown export is an error (it fell back to the terminal, so a file pipeline printed to stdout).
  export: withDefault(OneOf(ExportKinds), "terminal"),
  format: withDefault(Text, "json"),
  buffer: withDefault(WholeNumber({ min: 0, max: MAX_BUFFER }), 0),
  jsonschemaversion: withDefault(Text, "5")
}

const FileKeys = { "file.path": withDefault(NonEmptyText, "./export.out") }

export interface ExporterConfig {
  readonly export: ExportKind
  readonly format: FormatKind
  readonly buffer: number
  readonly jsonSchemaVersion: string
  readonly filePath: string
  /** Warnings to log at init (unknown values that fell back to a default, P19). */
  readonly warnings: ReadonlyArray<string>
}

/** Decodes the exporter keys; an unknown `format` falls back to json with a warning (P19). */
export const decodeExporterConfig = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<ExporterConfig, PipelineConfigError> =>
  Effect.gen(function* () {
    const common = yield* decodeAttributes("exporter", Common, attrs)
    const warnings: string[] = []
    const exportKind = common.export
    const format = (FormatKinds as ReadonlyArray<string>).includes(common.format)
      ? (common.format as FormatKind)
      : (warnings.push(`unknown format '${common.format}', using json`), "json" as const)
    // F6: findings and occurrence only go together.
    if ((exportKind === "findings") !== (format === "occurrence")) {
      return yield* entryError(
        "exporter",
        `export '${exportKind}' cannot be used with format '${format}' (findings requires occurrence and occurrence requires findings)`
      )
    }
    const file = exportKind === "file" ? yield* decodeAttributes("exporter", FileKeys, attrs) : undefined
    return {
      export: exportKind,
      format,
      buffer: common.buffer,
      jsonSchemaVersion: common.jsonschemaversion,
      filePath: file?.["file.path"] ?? "./export.out",
      warnings
    }
  })
