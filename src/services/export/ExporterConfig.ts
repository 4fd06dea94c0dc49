/**
 * The exporter's configuration keys (pipeline.md §11.1), decoded with Schema from the plugin entry's
 * string attributes. Only the selected transport's and format's keys are validated (P2).
 */
import { Effect } from "effect"
import { NonEmptyText, OneOf, Text, WholeNumber, withDefault } from "../../domain/configValues.js"
import type { PipelineConfigError } from "../../domain/errors.js"
import { decodeAttributes, entryError } from "../kernel/AttributeDecoder.js"


/** The largest `buffer`: records the exporter may be asked to hold before it sends them (memory bound). */
export const MAX_BUFFER = 100_000

/** Every key an exporter reads (env overrides find camelCase spellings of these, P4). */
export const exporterKeys = [
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
  "findings.pool.maxage",
  "nats.url",
  "nats.subject",
  "nats.stream",
  "nats.user",
  "nats.password",
  "nats.token",
  "nats.creds",
  "nats.tls.ca",
  "nats.documents"
] as const

/** The keys every exporter reads; `export` must name a registered transport. */
const commonKeys = (exports: ReadonlyArray<string>) => ({
  // An unknown export is an error (it fell back to the terminal, so a file pipeline printed to stdout).
  export: withDefault(OneOf(exports), "terminal"),
  format: withDefault(Text, "json"),
  buffer: withDefault(WholeNumber({ min: 0, max: MAX_BUFFER }), 0),
  jsonschemaversion: withDefault(Text, "5")
})

const FileKeys = { "file.path": withDefault(NonEmptyText, "./export.out") }

export interface ExporterConfig {
  /** A transport's name in the registry. */
  readonly export: string
  /** An encoder's name in the registry. */
  readonly format: string
  readonly buffer: number
  readonly jsonSchemaVersion: string
  readonly filePath: string
  /** Warnings to log at init (unknown values that fell back to a default, P19). */
  readonly warnings: ReadonlyArray<string>
}

/**
 * Decodes the exporter keys against the registered transports (`exports`) and encoders (`formats`); an
 * unknown `format` falls back to json with a warning (P19).
 */
export const decodeExporterConfig = (
  attrs: Readonly<Record<string, unknown>>,
  exports: ReadonlyArray<string>,
  formats: ReadonlyArray<string>
): Effect.Effect<ExporterConfig, PipelineConfigError> =>
  Effect.gen(function* () {
    const common = yield* decodeAttributes("exporter", commonKeys(exports), attrs)
    const warnings: string[] = []
    const exportKind = common.export
    const format = formats.includes(common.format)
      ? common.format
      : (warnings.push(`unknown format '${common.format}', using json`), "json")
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
