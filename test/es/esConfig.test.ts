/**
 * The `es.*` keys (pipeline.md §11.1): defaults, validation, secrets, and the helpers behind them
 * (Go durations, the stats line with the P27 guard).
 */
import { Effect, Either, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeExporter } from "../support/stages.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { formatStatsLine } from "../../src/services/export/transports/es/BulkSender.js"
import { decodeEsSettings, type EsSettings, redactUrl } from "../../src/services/export/transports/es/EsConfig.js"
import { formatGoDurationMs, parseGoDuration } from "../../src/services/export/transports/es/goDuration.js"
import { tempDir } from "../support/cli.js"

const ecs = { format: "ecs" as const }
const decode = (attrs: Record<string, unknown>, env: Record<string, string | undefined> = {}) =>
  Effect.runPromise(Effect.either(decodeEsSettings(attrs, ecs, env)))
const ok = async (attrs: Record<string, unknown>, env: Record<string, string | undefined> = {}): Promise<EsSettings> => {
  const r = await decode({ "es.index": "sysflow", ...attrs }, env)
  if (Either.isLeft(r)) throw new Error(`unexpected config error: ${r.left.message}`)
  return r.right
}
const error = async (attrs: Record<string, unknown>, env: Record<string, string | undefined> = {}): Promise<string> => {
  const r = await decode(attrs, env)
  if (Either.isRight(r)) throw new Error("expected a config error")
  expect(r.left._tag).toBe("PipelineConfigError")
  return r.left.message
}

describe("es keys: defaults and validation", () => {
  it("defaults: localhost:9200, numWorkers = number of CPUs, 5 MB, 30 s, TLS verified, no auth", async () => {
    const s = await ok({})
    expect(s).toMatchObject({
      addresses: ["http://localhost:9200"],
      index: "sysflow",
      numWorkers: os.availableParallelism(),
      flushBytes: 5_000_000,
      flushTimeoutMs: 30_000,
      tlsCa: undefined,
      tlsSkipVerify: false,
      indexAutoCreate: false,
      username: undefined,
      password: undefined,
      warnings: []
    })
  })

  it("without es.addresses, ELASTICSEARCH_URL is used (as the reference's Go client)", async () => {
    expect((await ok({}, { ELASTICSEARCH_URL: "https://es1:9200,https://es2:9200" })).addresses).toEqual(["https://es1:9200", "https://es2:9200"])
  })

  it("P17: es.index is required (no 'sysflow' default)", async () => {
    expect(await error({})).toBe("exporter: es.index is required with export 'es' (the name of the index, alias or data stream to write to)")
    expect(await error({ "es.index": "" })).toContain("es.index is required")
  })

  it("format must be ecs", async () => {
    const r = await Effect.runPromise(Effect.either(decodeEsSettings({ "es.index": "x" }, { format: "json" })))
    expect(Either.isLeft(r) && r.left.message).toBe(
      "exporter: export 'es' requires format 'ecs' (Elasticsearch documents need the ECS ids), got format 'json'"
    )
  })

  it("the exporter refuses export es with format json at init (the default format)", async () => {
    const r = await Effect.runPromise(
      Effect.either(Effect.scoped(makeExporter({ export: "es", "es.index": "x" }))).pipe(Effect.provide(TerminalOutput.capture([])))
    )
    expect(Either.isLeft(r) && r.left.message).toContain("export 'es' requires format 'ecs'")
  })

  it("es.addresses is split at commas and not trimmed", async () => {
    expect((await ok({ "es.addresses": "http://a:9200,https://b:9200" })).addresses).toEqual(["http://a:9200", "https://b:9200"])
    expect(await error({ "es.index": "x", "es.addresses": "http://a:9200, http://b:9200" })).toBe(
      `exporter: es.addresses = "http://a:9200, http://b:9200": entry ' http://b:9200' has surrounding spaces (the list is split at commas and the entries are not trimmed)`
    )
    expect(await error({ "es.index": "x", "es.addresses": "http://a:9200," })).toBe('exporter: es.addresses = "http://a:9200,": has an empty entry')
    expect(await error({ "es.index": "x", "es.addresses": "localhost:9200" })).toContain("must start with http:// or https://")
    expect(await error({ "es.index": "x", "es.addresses": "http://" })).toContain("is not a URL")
  })

  it("credentials in an address never appear in an error", async () => {
    const msg = await error({ "es.index": "x", "es.addresses": "http://a:9200, https://user:s3cr3t@b:9200" })
    expect(msg).not.toContain("s3cr3t")
    expect(msg).toContain("https://***@b:9200")
    expect(redactUrl("https://u:p@h:1/x")).toBe("https://***@h:1/x")
  })

  it("es.bulk.flushTimeout is a Go duration; a bare number is an error; 0 means the default", async () => {
    expect((await ok({ "es.bulk.flushTimeout": "1m30s" })).flushTimeoutMs).toBe(90_000)
    expect((await ok({ "es.bulk.flushTimeout": "250ms" })).flushTimeoutMs).toBe(250)
    expect((await ok({ "es.bulk.flushTimeout": "0" })).flushTimeoutMs).toBe(30_000)
    expect(await error({ "es.index": "x", "es.bulk.flushTimeout": "30" })).toBe(
      `exporter: es.bulk.flushTimeout = "30": must be a Go duration such as 30s, 1m or 500ms (time: missing unit in duration "30")`
    )
    expect(await error({ "es.index": "x", "es.bulk.flushTimeout": "30 s" })).toContain("time: unknown unit")
    expect(await error({ "es.index": "x", "es.bulk.flushTimeout": "-1s" })).toContain("must not be negative")
  })

  it("es.bulk.numWorkers and es.bulk.flushBuffer are whole numbers; 0 means the default; numbers are accepted (P3)", async () => {
    expect(await ok({ "es.bulk.numWorkers": "3", "es.bulk.flushBuffer": "1000" })).toMatchObject({ numWorkers: 3, flushBytes: 1000 })
    expect(await ok({ "es.bulk.numWorkers": 2, "es.bulk.flushBuffer": 2048 })).toMatchObject({ numWorkers: 2, flushBytes: 2048 })
    expect((await ok({ "es.bulk.flushBuffer": "5e+6" })).flushBytes).toBe(5_000_000)
    expect((await ok({ "es.bulk.flushBuffer": "0" })).flushBytes).toBe(5_000_000)
    expect(await error({ "es.index": "x", "es.bulk.numWorkers": "four" })).toBe('exporter: es.bulk.numWorkers = "four": must be a whole number, 0 or more')
    expect(await error({ "es.index": "x", "es.bulk.numWorkers": "-1" })).toContain("must be a whole number, 0 or more")
    expect(await error({ "es.index": "x", "es.bulk.flushBuffer": "5MB" })).toContain('es.bulk.flushBuffer = "5MB": must be a whole number')
  })

  it("the reference's misspelt es.bulk.flashBuffer is accepted; es.bulk.flushBuffer wins over it, with a warning", async () => {
    expect((await ok({ "es.bulk.flashBuffer": "4096" })).flushBytes).toBe(4096)
    expect(await error({ "es.index": "x", "es.bulk.flashBuffer": "lots" })).toContain('es.bulk.flashBuffer = "lots": must be a whole number')
    const both = await ok({ "es.bulk.flushBuffer": "100", "es.bulk.flashBuffer": "200" })
    expect(both.flushBytes).toBe(100)
    expect(both.warnings).toEqual(["es.bulk.flushBuffer (100) and its misspelling es.bulk.flashBuffer (200) are both set: using es.bulk.flushBuffer"])
  })

  it("P18: es.tls.skipverify is a boolean (any case, or JSON); es.tls.ca must be a readable PEM file", async () => {
    expect((await ok({ "es.addresses": "https://h:9200", "es.tls.skipverify": "TRUE" })).tlsSkipVerify).toBe(true)
    expect((await ok({ "es.addresses": "https://h:9200", "es.tls.skipverify": true })).tlsSkipVerify).toBe(true)
    expect((await ok({ "es.tls.skipverify": "false" })).tlsSkipVerify).toBe(false)
    expect(await error({ "es.index": "x", "es.tls.skipverify": "yes" })).toBe('exporter: es.tls.skipverify = "yes": must be true or false')
    expect(await error({ "es.index": "x", "es.tls.ca": "/nonexistent/ca.pem" })).toBe('exporter: es.tls.ca = "/nonexistent/ca.pem": cannot read the file: ENOENT')
    const dir = tempDir("sfp-es-")
    fs.writeFileSync(path.join(dir, "junk.pem"), "not a certificate")
    expect(await error({ "es.index": "x", "es.tls.ca": path.join(dir, "junk.pem") })).toContain("the file holds no PEM certificate")
    const ca = path.resolve("test/es/fixtures/ca.pem")
    const s = await ok({ "es.addresses": "https://h:9200", "es.tls.ca": ca })
    expect(s.tlsCa?.path).toBe(ca)
    expect(s.tlsCa?.pem).toContain("-----BEGIN CERTIFICATE-----")
    expect((await ok({ "es.tls.ca": ca })).warnings).toEqual(["es.tls.ca / es.tls.skipverify have no effect: no es.addresses entry uses https://"])
  })

  it("es.index.autocreate is a boolean", async () => {
    expect((await ok({ "es.index.autocreate": "true" })).indexAutoCreate).toBe(true)
    expect(await error({ "es.index": "x", "es.index.autocreate": "maybe" })).toBe('exporter: es.index.autocreate = "maybe": must be true or false')
  })

  it("username and password come from the keys or the vault and stay redacted", async () => {
    const own = await ok({ "es.username": "elastic", "es.password": "pa55word" })
    expect(own.username && Redacted.value(own.username)).toBe("elastic")
    expect(own.password && Redacted.value(own.password)).toBe("pa55word")
    expect(JSON.stringify(own)).not.toContain("pa55word")
    expect(String(own.password)).not.toContain("pa55word")
    const vault = tempDir("sfp-vault-")
    fs.writeFileSync(path.join(vault, "es.username"), "ZWxhc3RpYw==\n")
    fs.writeFileSync(path.join(vault, "es.password"), "dmF1bHRwYXNz\n")
    const fromVault = await ok({ "vault.secrets": "true", "vault.path": vault, "vault.encoding": "base64" })
    expect(fromVault.username && Redacted.value(fromVault.username)).toBe("elastic")
    expect(fromVault.password && Redacted.value(fromVault.password)).toBe("vaultpass")
    const missing = await error({ "es.index": "x", "vault.secrets": "true", "vault.path": tempDir("sfp-vault-") })
    expect(missing).toMatch(/cannot read secret 'es.username' from .*: ENOENT/)
  })

  it("the vault keys are decoded like the others: a bad value names the key and what is expected", async () => {
    expect(await error({ "es.index": "x", "vault.secrets": "maybe" })).toBe('exporter: vault.secrets = "maybe": must be true or false')
    expect(await error({ "es.index": "x", "vault.secrets": "TRUE", "vault.path": "/nonexistent/vault" })).toBe(
      'exporter: vault.path = "/nonexistent/vault": not found'
    )
    expect(await error({ "es.index": "x", "vault.secrets": "true", "vault.path": tempDir("sfp-vault-"), "vault.encoding": "hex" })).toBe(
      'exporter: vault.encoding = "hex": must be none or base64'
    )
  })

  it("ELASTICSEARCH_URL (used without es.addresses) is checked as es.addresses is, and named", async () => {
    expect(await error({ "es.index": "x" }, { ELASTICSEARCH_URL: "localhost:9200" })).toBe(
      "exporter: ELASTICSEARCH_URL = \"localhost:9200\": entry 'localhost:9200' must start with http:// or https://"
    )
  })
})

describe("Go durations", () => {
  it("parse as time.ParseDuration", () => {
    expect(parseGoDuration("30s")).toBe(30e9)
    expect(parseGoDuration("1h2m3.5s")).toBe(3723.5e9)
    expect(parseGoDuration("1.5m")).toBe(90e9)
    expect(parseGoDuration(".5s")).toBe(0.5e9)
    expect(parseGoDuration("10µs")).toBe(10e3)
    expect(parseGoDuration("10us")).toBe(10e3)
    expect(parseGoDuration("7ns")).toBe(7)
    expect(parseGoDuration("-2ms")).toBe(-2e6)
    expect(parseGoDuration("0")).toBe(0)
    expect(() => parseGoDuration("30")).toThrow('time: missing unit in duration "30"')
    expect(() => parseGoDuration("")).toThrow('time: invalid duration ""')
    expect(() => parseGoDuration("s")).toThrow('time: invalid duration "s"')
    expect(() => parseGoDuration("3d")).toThrow('time: unknown unit "d" in duration "3d"')
  })

  it("format as Duration.String() of a millisecond-truncated duration", () => {
    expect(formatGoDurationMs(0)).toBe("0s")
    expect(formatGoDurationMs(0.7)).toBe("0s")
    expect(formatGoDurationMs(12)).toBe("12ms")
    expect(formatGoDurationMs(1500)).toBe("1.5s")
    expect(formatGoDurationMs(2000)).toBe("2s")
    expect(formatGoDurationMs(61_234)).toBe("1m1.234s")
    expect(formatGoDurationMs(3_600_000)).toBe("1h0m0s")
    expect(formatGoDurationMs(3_723_050)).toBe("1h2m3.05s")
  })
})

describe("the per-flush stats line", () => {
  it("has the reference's layout (%-6s duration, %6d rate)", () => {
    expect(formatStatsLine({ added: 1000, flushed: 998, failed: 2, requests: 3, durationMs: 250.4 })).toBe(
      "add=1000\tflush=998\tfail=2\treqs=3\tdur=250ms \t  4000 recs/s"
    )
    expect(formatStatsLine({ added: 10, flushed: 10, failed: 0, requests: 1, durationMs: 1500 })).toBe(
      "add=10\tflush=10\tfail=0\treqs=1\tdur=1.5s  \t     6 recs/s"
    )
  })

  it("P27: a flush under 1 ms does not divide by zero (the rate uses 1 ms)", () => {
    expect(formatStatsLine({ added: 5, flushed: 5, failed: 0, requests: 1, durationMs: 0.3 })).toBe(
      "add=5\tflush=5\tfail=0\treqs=1\tdur=0s    \t  5000 recs/s"
    )
  })
})
