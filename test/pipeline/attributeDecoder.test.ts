/**
 * The one attribute decoder (exporter, transports, policy engine, reader, socket driver): what its
 * errors say about a bad value (file, entry, key, value, the variable it came from, what is expected),
 * and the config value kinds.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import {
  Flag,
  HttpUrl,
  NonEmptyText,
  OneOf,
  optionalKey,
  previewValue,
  Seconds,
  Text,
  WholeNumber,
  withDefault
} from "../../src/domain/configValues.js"
import { parsePipelineConfig } from "../../src/services/pipeline/ConfigLoader.js"
import {
  decodeAttributes,
  driverEntryOrigin,
  entryError,
  keyError,
  pluginEntryOrigin,
  withAttributeOrigin
} from "../../src/services/kernel/AttributeDecoder.js"
import { applyEnvOverrides } from "../../src/services/pipeline/EnvOverrides.js"
import { builtinRegistry } from "../../src/layers/MainLive.js"
import { knownKeysOf } from "../../src/services/pipeline/Registry.js"

const Keys = {
  buffer: withDefault(WholeNumber({ min: 0, max: 100_000 }), 0),
  "file.path": withDefault(NonEmptyText, "./export.out"),
  "syslog.tls.skipverify": withDefault(Flag, false),
  export: withDefault(OneOf(["terminal", "file", "null"]), "terminal"),
  "es.addresses": optionalKey(Text)
}

/** The exporter entry of a pipeline file with `exporter` keys, after the environment `env`. */
const exporterEntry = (exporter: Record<string, unknown>, env: Record<string, string> = {}) => {
  const text = JSON.stringify({
    pipeline: [
      { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
      { processor: "exporter", in: "flat flattenerchan", ...exporter }
    ]
  })
  const config = applyEnvOverrides(Either.getOrThrow(parsePipelineConfig(text, "/etc/sf/pipeline.json")), env, knownKeysOf(builtinRegistry))
  return config.pipeline[1]
}

/** Decodes the exporter entry's attributes as the pipeline builder does: with the entry as the origin. */
const decodeEntry = (exporter: Record<string, unknown>, env: Record<string, string> = {}) => {
  const entry = exporterEntry(exporter, env)
  return decodeAttributes("exporter", Keys, Object.fromEntries(entry.attributes)).pipe(withAttributeOrigin(pluginEntryOrigin(entry)))
}

const failure = <A, E extends Error>(effect: Effect.Effect<A, E>) => Effect.map(Effect.flip(effect), (e) => e.message)

describe("attribute errors name the file, the entry, the key, the value and what is expected", () => {
  it.effect("a value from the environment names the variable", () =>
    Effect.gen(function* () {
      for (const value of ["-5", "abc", "1e20", "100001", "1.5", ""]) {
        expect(yield* failure(decodeEntry({ export: "file" }, { EXPORTER_BUFFER: value }))).toBe(
          `/etc/sf/pipeline.json: pipeline[1] (exporter): buffer = ${JSON.stringify(value)} (from EXPORTER_BUFFER): must be a whole number from 0 to 100000`
        )
      }
      expect(yield* failure(decodeEntry({}, { exporter_export: "nonsense" }))).toBe(
        '/etc/sf/pipeline.json: pipeline[1] (exporter): export = "nonsense" (from exporter_export): must be one of terminal, file, null'
      )
    })
  )

  it.effect("a value from the file: the same, without a variable (numbers are their JSON text, P3)", () =>
    Effect.gen(function* () {
      expect(yield* failure(decodeEntry({ buffer: -5 }))).toBe(
        '/etc/sf/pipeline.json: pipeline[1] (exporter): buffer = "-5": must be a whole number from 0 to 100000'
      )
      expect(yield* failure(decodeEntry({ "syslog.tls.skipverify": "yes" }))).toBe(
        '/etc/sf/pipeline.json: pipeline[1] (exporter): syslog.tls.skipverify = "yes": must be true or false'
      )
    })
  )

  it.effect("null, {} and [] where text is expected", () =>
    Effect.gen(function* () {
      expect(yield* failure(decodeEntry({ "file.path": null }))).toBe(
        "/etc/sf/pipeline.json: pipeline[1] (exporter): file.path = null: must be a non-empty string"
      )
      expect(yield* failure(decodeEntry({ buffer: {} }))).toBe(
        "/etc/sf/pipeline.json: pipeline[1] (exporter): buffer = {}: must be a whole number from 0 to 100000"
      )
      expect(yield* failure(decodeEntry({ export: ["file"] }))).toBe(
        '/etc/sf/pipeline.json: pipeline[1] (exporter): export = ["file"]: must be one of terminal, file, null'
      )
    })
  )

  it.effect("every bad key at once, in the struct's order", () =>
    Effect.gen(function* () {
      expect(yield* failure(decodeEntry({ "file.path": "" }, { EXPORTER_BUFFER: "x" }))).toBe(
        '/etc/sf/pipeline.json: pipeline[1] (exporter): buffer = "x" (from EXPORTER_BUFFER): must be a whole number from 0 to 100000; ' +
          'file.path = "": must be a non-empty string'
      )
    })
  )

  it.effect("values are shown as JSON: control characters escaped (no forged log lines), URL credentials masked, long values cut", () =>
    Effect.gen(function* () {
      expect(yield* failure(decodeEntry({ export: "file\n[Error] forged\u001b[31m" }))).toBe(
        '/etc/sf/pipeline.json: pipeline[1] (exporter): export = "file\\n[Error] forged\\u001b[31m": must be one of terminal, file, null'
      )
      expect(previewValue("http://a:9200, https://user:s3cr3t@b:9200")).toBe('"http://a:9200, https://***@b:9200"')
      expect(previewValue("x".repeat(100))).toBe(`"${"x".repeat(56)}...`)
    })
  )

  it.effect("good values decode, absent keys take their defaults, other keys are left alone", () =>
    Effect.gen(function* () {
      expect(yield* decodeEntry({ buffer: 10, export: "null", other: { a: 1 } }, { EXPORTER_SYSLOG_TLS_SKIPVERIFY: "TRUE" })).toEqual({
        buffer: 10,
        "file.path": "./export.out",
        "syslog.tls.skipverify": true,
        export: "null"
      })
    })
  )

  it.effect("keyError and entryError are located the same way", () =>
    Effect.gen(function* () {
      const entry = exporterEntry({ "es.tls.ca": "/x.pem" }, { EXPORTER_ES_TLS_CA: "/y.pem" })
      const attrs = Object.fromEntries(entry.attributes)
      const located = withAttributeOrigin(pluginEntryOrigin(entry))
      expect(yield* failure(keyError("exporter", attrs, "es.tls.ca", "cannot read the file: ENOENT").pipe(located))).toBe(
        '/etc/sf/pipeline.json: pipeline[1] (exporter): es.tls.ca = "/y.pem" (from EXPORTER_ES_TLS_CA): cannot read the file: ENOENT'
      )
      expect(yield* failure(entryError("exporter", "es.index is required").pipe(located))).toBe(
        "/etc/sf/pipeline.json: pipeline[1] (exporter): es.index is required"
      )
    })
  )

  it.effect("a driver's config block is named as drivers[i]", () =>
    Effect.gen(function* () {
      const text = JSON.stringify({ drivers: [{ driver: "socket", out: "s sysflowchan", "queue.size": 0 }] })
      const entry = Either.getOrThrow(parsePipelineConfig(text, "p.json")).drivers[0]
      const decoded = decodeAttributes("socket", { "queue.size": optionalKey(WholeNumber({ min: 1 })) }, Object.fromEntries(entry.attributes))
      expect(yield* failure(decoded.pipe(withAttributeOrigin(driverEntryOrigin(entry))))).toBe(
        'p.json: drivers[0] (socket): queue.size = "0": must be a whole number, 1 or more'
      )
    })
  )

  it.effect("without an origin (a processor built directly) errors start with the component", () =>
    Effect.gen(function* () {
      expect(yield* failure(decodeAttributes("exporter", Keys, { buffer: "-1" }))).toBe(
        'exporter: buffer = "-1": must be a whole number from 0 to 100000'
      )
    })
  )
})

describe("config value kinds", () => {
  const decode = <A>(schema: Schema.Schema<A, unknown>, value: unknown) => Schema.decodeUnknownEither(schema)(value)

  it("whole numbers: Go Atoi syntax within the bounds; exponents only where allowed", () => {
    expect(decode(WholeNumber({ min: 1, max: 65535 }), "+601")).toEqual(Either.right(601))
    expect(decode(WholeNumber({ min: 0 }), 42)).toEqual(Either.right(42))
    expect(decode(WholeNumber({ min: -1 }), "-1")).toEqual(Either.right(-1))
    expect(Either.isLeft(decode(WholeNumber({ min: 0 }), "5e+6"))).toBe(true)
    expect(decode(WholeNumber({ min: 0, exponent: true }), "5e+6")).toEqual(Either.right(5_000_000))
    expect(Either.isLeft(decode(WholeNumber({ min: 0 }), " 5"))).toBe(true)
    expect(Either.isLeft(decode(WholeNumber({ min: 0 }), "99999999999999999999"))).toBe(true)
  })

  it("seconds, flags, words, URLs", () => {
    expect(decode(Seconds, "0.5")).toEqual(Either.right(0.5))
    expect(Either.isLeft(decode(Seconds, "-1"))).toBe(true)
    expect(decode(Flag, true)).toEqual(Either.right(true))
    expect(decode(Flag, "False")).toEqual(Either.right(false))
    expect(decode(OneOf(["on", "off"]), "on")).toEqual(Either.right("on"))
    expect(Either.isLeft(decode(OneOf(["on", "off"]), "ON"))).toBe(true)
    expect(decode(HttpUrl, "https://h/x/")).toEqual(Either.right("https://h/x"))
    expect(Either.isLeft(decode(HttpUrl, "ftp://h"))).toBe(true)
  })
})
