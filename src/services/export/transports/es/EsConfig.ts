/**
 * The `es.*` keys of the exporter (pipeline.md §11.1), decoded only when `export: es` (P2), with the
 * attribute decoder: every value that does not parse is a configuration error naming the key (the
 * reference ignored parse errors and used zero values). Secrets (`es.username`, `es.password`) come from
 * `readSecret` (key, env override or vault) and are kept `Redacted`, so printing the settings never shows them.
 */
import { Effect, Either, ParseResult, Redacted, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import { asText, configValue, Flag, optionalKey, redactUrl, Text, textValue, WholeNumber, withDefault } from "../../../../domain/configValues.js"
import type { PipelineConfigError } from "../../../../domain/errors.js"
import { decodeAttributes, entryError, keyError } from "../../../kernel/AttributeDecoder.js"
import type { ExporterConfig } from "../../ExporterConfig.js"
import { readSecret } from "../../Secrets.js"
import { GoDurationError, parseGoDuration } from "./goDuration.js"

export { redactUrl }

export const DEFAULT_ADDRESS = "http://localhost:9200"
export const DEFAULT_FLUSH_BYTES = 5_000_000
export const DEFAULT_FLUSH_TIMEOUT_MS = 30_000

export interface EsSettings {
  /** Node URLs, in the order given (the client round-robins across them). */
  readonly addresses: ReadonlyArray<string>
  readonly index: string
  readonly username: Redacted.Redacted<string> | undefined
  readonly password: Redacted.Redacted<string> | undefined
  /** Concurrent bulk requests per flush (`es.bulk.numWorkers`, 0 = number of CPUs). */
  readonly numWorkers: number
  /** Bytes of NDJSON per bulk request (`es.bulk.flushBuffer`). */
  readonly flushBytes: number
  /** `es.bulk.flushTimeout` in milliseconds. */
  readonly flushTimeoutMs: number
  /** PEM text of `es.tls.ca`, and its path for messages. */
  readonly tlsCa: { readonly path: string; readonly pem: string } | undefined
  readonly tlsSkipVerify: boolean
  /** `es.index.autocreate`: the health check accepts a missing index (Elasticsearch creates it on write). */
  readonly indexAutoCreate: boolean
  /** Warnings to log at init. */
  readonly warnings: ReadonlyArray<string>
}

/** A problem with one entry of an address list, or undefined when it is an http(s) URL. */
const addressProblem = (address: string): string | undefined => {
  if (address === "") return "has an empty entry"
  if (address.trim() !== address) {
    return `entry '${redactUrl(address)}' has surrounding spaces (the list is split at commas and the entries are not trimmed)`
  }
  let url: URL
  try {
    url = new URL(address)
  } catch {
    return `entry '${redactUrl(address)}' is not a URL (expected e.g. https://host:9200)`
  }
  return url.protocol === "http:" || url.protocol === "https:" ? undefined : `entry '${redactUrl(address)}' must start with http:// or https://`
}

/** Node URLs split at commas, without trimming (as the reference), each an http(s) URL. */
const Addresses = textValue(Schema.String, "must be a comma-separated list of http(s) URLs", (s) => s).pipe(
  Schema.transformOrFail(Schema.Array(Schema.String), {
    strict: true,
    decode: (s, _, ast) => {
      const addresses = s.split(",")
      const problem = addresses.map(addressProblem).find((p) => p !== undefined)
      return problem === undefined ? ParseResult.succeed(addresses) : ParseResult.fail(new ParseResult.Type(ast, s, problem))
    },
    encode: (list) => ParseResult.succeed(list.join(","))
  })
)

/** A Go duration (`30s`, `1m`, `500ms`), 0 or more, in milliseconds rounded up; 0 means the default. */
const FlushTimeout = configValue(Schema.Number, (value) => {
  const text = asText(value)
  const expected = "must be a Go duration such as 30s, 1m or 500ms"
  if (text === undefined) return Either.left(expected)
  let ns: number
  try {
    ns = parseGoDuration(text)
  } catch (e) {
    return Either.left(`${expected} (${e instanceof GoDurationError ? e.message : String(e)})`)
  }
  if (ns < 0) return Either.left("must not be negative")
  return Either.right(ns === 0 ? DEFAULT_FLUSH_TIMEOUT_MS : Math.max(1, Math.ceil(ns / 1e6)))
})

const Count = WholeNumber({ min: 0 })
// The reference's docs spell the byte count's default `5e+6`.
const Bytes = WholeNumber({ min: 0, exponent: true })

const Keys = {
  "es.index": withDefault(Text, ""),
  "es.addresses": optionalKey(Addresses),
  "es.bulk.numWorkers": withDefault(Count, 0),
  "es.bulk.flushBuffer": optionalKey(Bytes),
  // The reference's CONFIG.md misspells flushBuffer, so configs copied from it carry this alias.
  "es.bulk.flashBuffer": optionalKey(Bytes),
  "es.bulk.flushTimeout": withDefault(FlushTimeout, DEFAULT_FLUSH_TIMEOUT_MS),
  "es.tls.ca": withDefault(Text, ""),
  "es.tls.skipverify": withDefault(Flag, false),
  "es.index.autocreate": withDefault(Flag, false)
}

const readCa = (attrs: Readonly<Record<string, unknown>>, file: string): Effect.Effect<{ path: string; pem: string }, PipelineConfigError> =>
  Effect.tryPromise(() => fs.readFile(file, "utf8")).pipe(
    Effect.catchAll((e) => keyError("exporter", attrs, "es.tls.ca", `cannot read the file: ${(e.error as NodeJS.ErrnoException).code ?? String(e.error)}`)),
    Effect.filterOrElse(
      (pem) => pem.includes("-----BEGIN CERTIFICATE-----"),
      () => keyError("exporter", attrs, "es.tls.ca", "the file holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    ),
    Effect.map((pem) => ({ path: file, pem }))
  )

/** Decodes and checks the `es.*` keys; `format` must be `ecs`. */
export const decodeEsSettings = (
  attrs: Readonly<Record<string, unknown>>,
  config: Pick<ExporterConfig, "format">,
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<EsSettings, PipelineConfigError> =>
  Effect.gen(function* () {
    if (config.format !== "ecs") {
      return yield* entryError("exporter", `export 'es' requires format 'ecs' (Elasticsearch documents need the ECS ids), got format '${config.format}'`)
    }
    const keys = yield* decodeAttributes("exporter", Keys, attrs)
    const warnings: string[] = []
    if (keys["es.index"] === "") {
      return yield* entryError("exporter", "es.index is required with export 'es' (the name of the index, alias or data stream to write to)")
    }
    // Without es.addresses the reference's client read ELASTICSEARCH_URL, else http://localhost:9200.
    const fromEnv = env["ELASTICSEARCH_URL"]
    const addresses = keys["es.addresses"] ??
      (fromEnv === undefined ? [DEFAULT_ADDRESS] : (yield* decodeAttributes("exporter", { ELASTICSEARCH_URL: Addresses }, { ELASTICSEARCH_URL: fromEnv })).ELASTICSEARCH_URL)
    const username = yield* readSecret(attrs, "es.username")
    const password = yield* readSecret(attrs, "es.password")
    const flush = keys["es.bulk.flushBuffer"]
    const flash = keys["es.bulk.flashBuffer"]
    if (flush !== undefined && flash !== undefined && flush !== flash) {
      warnings.push(`es.bulk.flushBuffer (${flush}) and its misspelling es.bulk.flashBuffer (${flash}) are both set: using es.bulk.flushBuffer`)
    }
    const flushBytes = flush ?? flash ?? 0
    const caPath = keys["es.tls.ca"]
    const tlsCa = caPath === "" ? undefined : yield* readCa(attrs, caPath)
    const tlsSkipVerify = keys["es.tls.skipverify"]
    if ((tlsCa !== undefined || tlsSkipVerify) && !addresses.some((a) => a.startsWith("https:"))) {
      warnings.push("es.tls.ca / es.tls.skipverify have no effect: no es.addresses entry uses https://")
    }
    return {
      addresses,
      index: keys["es.index"],
      username: username === undefined ? undefined : Redacted.make(username),
      password: password === undefined ? undefined : Redacted.make(password),
      numWorkers: keys["es.bulk.numWorkers"] === 0 ? os.availableParallelism() : keys["es.bulk.numWorkers"],
      // 0 means the default, as for the reference's bulk indexer.
      flushBytes: flushBytes === 0 ? DEFAULT_FLUSH_BYTES : flushBytes,
      flushTimeoutMs: keys["es.bulk.flushTimeout"],
      tlsCa,
      tlsSkipVerify,
      indexAutoCreate: keys["es.index.autocreate"],
      warnings
    }
  })
