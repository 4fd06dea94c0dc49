/**
 * The `es.*` keys of the exporter (pipeline.md §11.1), decoded only when `export: es` (P2). Every value
 * that does not parse is a configuration error naming the key (the reference ignored parse errors and
 * used zero values). Secrets (`es.username`, `es.password`) come from `readSecret` (key, env override or
 * vault) and are kept `Redacted`, so printing the settings never shows them.
 */
import { Effect, Redacted } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import { PipelineConfigError } from "../../../../domain/errors.js"
import type { ExporterConfig } from "../../ExporterConfig.js"
import { readSecret } from "../../Secrets.js"
import { GoDurationError, parseGoDuration } from "./goDuration.js"

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

const fail = (detail: string) => new PipelineConfigError({ reason: "Attribute", detail: `exporter: ${detail}` })

/** A key's text: strings as they are, numbers and booleans as their JSON text (P3); absent → undefined. */
const text = (attrs: Readonly<Record<string, unknown>>, key: string): Effect.Effect<string | undefined, PipelineConfigError> => {
  const v = attrs[key]
  if (v === undefined || v === null) return Effect.succeed(undefined)
  if (typeof v === "string") return Effect.succeed(v)
  if (typeof v === "number" || typeof v === "boolean") return Effect.succeed(String(v))
  return Effect.fail(fail(`${key} must be a string, got ${Array.isArray(v) ? "an array" : typeof v}`))
}

const WHOLE = /^\d+$/
// Whole numbers, also written with a fraction or an exponent (`5e+6`, as the reference's docs spell the default).
const NUMERIC = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

const wholeNumber = (key: string, value: string, allowExponent: boolean): Effect.Effect<number, PipelineConfigError> => {
  const n = Number(value)
  return (allowExponent ? NUMERIC : WHOLE).test(value) && Number.isSafeInteger(n)
    ? Effect.succeed(n)
    : Effect.fail(fail(`${key} must be a whole number >= 0, got '${value}'`))
}

/** `true`/`false` in any case, or a JSON boolean (the syslog.tls.skipverify rule, P6). */
export const parseBoolean = (key: string, value: string | undefined, dflt: boolean): Effect.Effect<boolean, PipelineConfigError> => {
  if (value === undefined) return Effect.succeed(dflt)
  const lower = value.toLowerCase()
  if (lower === "true") return Effect.succeed(true)
  if (lower === "false") return Effect.succeed(false)
  return Effect.fail(fail(`${key} must be true or false, got '${value}'`))
}

/** Splits `es.addresses` at commas, without trimming (as the reference), and checks each is an http(s) URL. */
export const parseAddresses = (value: string): Effect.Effect<ReadonlyArray<string>, PipelineConfigError> =>
  Effect.forEach(value.split(","), (address) => {
    if (address === "") return Effect.fail(fail(`es.addresses has an empty entry in '${redactList(value)}'`))
    if (address.trim() !== address) {
      return Effect.fail(
        fail(`es.addresses entry '${redactUrl(address)}' has surrounding spaces (the list is split at commas and the entries are not trimmed)`)
      )
    }
    let url: URL
    try {
      url = new URL(address)
    } catch {
      return Effect.fail(fail(`es.addresses entry '${redactUrl(address)}' is not a URL (expected e.g. https://host:9200)`))
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Effect.fail(fail(`es.addresses entry '${redactUrl(address)}' must start with http:// or https://`))
    }
    return Effect.succeed(address)
  })

/** A URL with its user info (credentials) replaced by `***`. */
export const redactUrl = (address: string): string => address.replace(/^(\s*[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/@]*@/, "$1***@")

const redactList = (value: string): string => value.split(",").map(redactUrl).join(",")

const flushTimeout = (value: string | undefined): Effect.Effect<number, PipelineConfigError> => {
  if (value === undefined) return Effect.succeed(DEFAULT_FLUSH_TIMEOUT_MS)
  let ns: number
  try {
    ns = parseGoDuration(value)
  } catch (e) {
    const why = e instanceof GoDurationError ? e.message : String(e)
    return Effect.fail(fail(`es.bulk.flushTimeout must be a Go duration such as 30s, 1m or 500ms, got '${value}' (${why})`))
  }
  if (ns < 0) return Effect.fail(fail(`es.bulk.flushTimeout must not be negative, got '${value}'`))
  // 0 means the default, as for the reference's bulk indexer.
  return Effect.succeed(ns === 0 ? DEFAULT_FLUSH_TIMEOUT_MS : Math.max(1, Math.ceil(ns / 1e6)))
}

const readCa = (file: string): Effect.Effect<{ path: string; pem: string }, PipelineConfigError> =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (e) => fail(`es.tls.ca: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)
  }).pipe(
    Effect.filterOrFail(
      (pem) => pem.includes("-----BEGIN CERTIFICATE-----"),
      () => fail(`es.tls.ca: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
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
      return yield* fail(`export 'es' requires format 'ecs' (Elasticsearch documents need the ECS ids), got format '${config.format}'`)
    }
    const warnings: string[] = []
    const index = yield* text(attrs, "es.index")
    if (index === undefined || index === "") {
      return yield* fail("es.index is required with export 'es' (the name of the index, alias or data stream to write to)")
    }
    // Without es.addresses the reference's client read ELASTICSEARCH_URL, else http://localhost:9200.
    const addressText = (yield* text(attrs, "es.addresses")) ?? env["ELASTICSEARCH_URL"] ?? DEFAULT_ADDRESS
    const addresses = yield* parseAddresses(addressText)
    const username = yield* readSecret(attrs, "es.username")
    const password = yield* readSecret(attrs, "es.password")
    const workersText = yield* text(attrs, "es.bulk.numWorkers")
    const numWorkers = workersText === undefined ? 0 : yield* wholeNumber("es.bulk.numWorkers", workersText, false)
    const flushText = yield* text(attrs, "es.bulk.flushBuffer")
    const flashText = yield* text(attrs, "es.bulk.flashBuffer")
    if (flushText !== undefined && flashText !== undefined && flushText !== flashText) {
      warnings.push(`es.bulk.flushBuffer (${flushText}) and its misspelling es.bulk.flashBuffer (${flashText}) are both set: using es.bulk.flushBuffer`)
    }
    const bytesKey = flushText !== undefined ? "es.bulk.flushBuffer" : "es.bulk.flashBuffer"
    const bytesText = flushText ?? flashText
    const flushBytes = bytesText === undefined ? 0 : yield* wholeNumber(bytesKey, bytesText, true)
    const flushTimeoutMs = yield* flushTimeout(yield* text(attrs, "es.bulk.flushTimeout"))
    const caPath = yield* text(attrs, "es.tls.ca")
    const tlsCa = caPath === undefined || caPath === "" ? undefined : yield* readCa(caPath)
    const tlsSkipVerify = yield* parseBoolean("es.tls.skipverify", yield* text(attrs, "es.tls.skipverify"), false)
    const indexAutoCreate = yield* parseBoolean("es.index.autocreate", yield* text(attrs, "es.index.autocreate"), false)
    if ((tlsCa !== undefined || tlsSkipVerify) && !addresses.some((a) => a.startsWith("https:"))) {
      warnings.push("es.tls.ca / es.tls.skipverify have no effect: no es.addresses entry uses https://")
    }
    return {
      addresses,
      index,
      username: username === undefined ? undefined : Redacted.make(username),
      password: password === undefined ? undefined : Redacted.make(password),
      numWorkers: numWorkers === 0 ? os.availableParallelism() : numWorkers,
      // 0 means the default, as for the reference's bulk indexer.
      flushBytes: flushBytes === 0 ? DEFAULT_FLUSH_BYTES : flushBytes,
      flushTimeoutMs,
      tlsCa,
      tlsSkipVerify,
      indexAutoCreate,
      warnings
    }
  })
