/**
 * Fuzzing the pipeline config decoder: `parsePipelineConfig(text, file)` then `buildPipelineGraph` (the
 * built-in registry, `-driver file`) on random JSON values, generated pipelines (known and unknown
 * processors, channel strings, drivers blocks), mutations of the shipped pipelines
 * (resources/pipelines, plugins/**, and ../shared/conformance/pipelines when present), JSON soup and deep
 * nesting.
 *
 * Also the attribute decoder behind the built-in processors, on any values of their keys from the file
 * or the environment: the config, or one line naming the file, the entry, and each bad key's variable.
 *
 * Property: always a typed `PipelineConfigError` (naming the file; a syntax error names a line and column
 * inside the text) or a valid graph — producers before consumers, every channel with exactly one producer
 * and one consumer, one `file` driver on a sysflowchan channel — never a throw, in bounded time, and the
 * same answer every time.
 *
 * Deterministic by default (fixed seed and run counts). Run longer locally with
 *   FUZZ_RUNS=<n> FUZZ_SEED=<n> [FUZZ_TIME_MS=<n>] npx vitest run test/fuzz/pipelineConfig.test.ts
 * (see test/fuzz/support.ts).
 */
import { Cause, Effect, Either, Exit, Option } from "effect"
import fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { PipelineConfigError } from "../../src/domain/errors.js"
import { decodeExporterConfig } from "../../src/services/export/ExporterConfig.js"
import { decodeFindingsConfig } from "../../src/services/export/findings/FindingsConfig.js"
import { decodeSyslogConfig } from "../../src/services/export/transports/syslog/SyslogConfig.js"
import { pluginEntryOrigin, withAttributeOrigin } from "../../src/services/kernel/AttributeDecoder.js"
import { parsePipelineConfig } from "../../src/services/pipeline/ConfigLoader.js"
import { applyEnvOverrides } from "../../src/services/pipeline/EnvOverrides.js"
import { buildPipelineGraph, type PipelineGraph, selectDrivers } from "../../src/services/pipeline/PipelineGraph.js"
import { builtinEncoders } from "../../src/layers/Encoders.js"
import { builtinRegistry } from "../../src/layers/MainLive.js"
import { builtinTransports } from "../../src/layers/Transports.js"
import { extendRegistry, knownKeysOf, pluginProcessor, type Registry } from "../../src/services/pipeline/Registry.js"
import { decodePolicyEngineConfig } from "../../src/services/policy/PolicyEngineConfig.js"
import { projectRoot } from "../support/cli.js"
import { bounded, CASE_LIMIT_MS, describeThrown, fuzzParams, testTimeout } from "./support.js"

const FILE = "fuzz/pipeline.json"

type Outcome = { readonly graph: PipelineGraph } | { readonly error: PipelineConfigError }

/**
 * The built-in registry plus the example processor plugin (what `-plugdir plugins/processors/example`
 * adds), so the shipped plugin pipelines build too.
 */
const withExample = extendRegistry(builtinRegistry, { processors: [pluginProcessor("example")] })

const load = (text: string, registry: Registry = builtinRegistry): Outcome =>
  bounded("parse and build", CASE_LIMIT_MS, (): Outcome => {
    let r: Either.Either<PipelineGraph, PipelineConfigError>
    try {
      r = Either.flatMap(parsePipelineConfig(text, FILE), (config) =>
        Either.flatMap(selectDrivers(config, "file"), (drivers) => buildPipelineGraph(config, registry, drivers))
      )
    } catch (e) {
      throw new Error(`parsePipelineConfig/buildPipelineGraph threw on ${JSON.stringify(text.slice(0, 200))}: ${describeThrown(e)}`)
    }
    return Either.isLeft(r) ? { error: r.left } : { graph: r.right }
  })

const lineCount = (text: string) => text.split("\n").length

/** A graph that `Runner` can wire: the structural invariants `buildPipelineGraph` promises. */
const checkGraph = (g: PipelineGraph, registry: Registry): void => {
  expect(g.stages.length).toBeGreaterThan(0)
  expect(g.drivers.map((d) => d.spec.name)).toEqual(["file"])
  expect(g.drivers[0].output.type).toBe("sysflowchan")
  const producers = new Map<string, number>()
  const consumers = new Map<string, number>()
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)
  for (const d of g.drivers) bump(producers, d.output.name)
  const available = new Set(g.drivers.map((d) => d.output.name))
  for (const s of g.stages) {
    expect(registry.processors.get(s.spec.name)).toBe(s.spec)
    expect(s.inputs.length).toBeGreaterThan(0)
    expect(s.inputs.length).toBeLessThanOrEqual(s.spec.maxInputs)
    for (const c of s.inputs) {
      // Producers come before their consumers.
      expect(available.has(c.name), `stage ${s.entry.index} reads '${c.name}' before it is produced`).toBe(true)
      bump(consumers, c.name)
      if (s.spec.accepts !== "any") expect(s.spec.accepts).toContain(c.type)
    }
    for (const c of s.outputs) {
      bump(producers, c.name)
      available.add(c.name)
    }
  }
  for (const c of g.channels) {
    expect(registry.channelTypes.has(c.type)).toBe(true)
    expect(producers.get(c.name), `producers of '${c.name}'`).toBe(1)
    expect(consumers.get(c.name), `consumers of '${c.name}'`).toBe(1)
  }
}

const checkError = (e: PipelineConfigError, text: string): void => {
  expect(e).toBeInstanceOf(PipelineConfigError)
  expect(["Read", "Parse", "Schema", "Graph", "Plugin", "Attribute"]).toContain(e.reason)
  expect(e.file).toBe(FILE)
  expect(e.message.startsWith(`${FILE}: `)).toBe(true)
  expect(e.detail.length).toBeGreaterThan(0)
  if (e.reason === "Parse") {
    const m = /^JSON syntax error at line (\d+), column (\d+): /.exec(e.detail)
    expect(m, e.detail).not.toBeNull()
    const line = Number(m![1])
    const column = Number(m![2])
    expect(line >= 1 && line <= lineCount(text), `${e.detail}: line outside the text`).toBe(true)
    expect(column >= 1 && column <= text.split("\n")[line - 1].length + 1, `${e.detail}: column outside line ${line}`).toBe(true)
  }
}

const check = (text: string, registry: Registry = builtinRegistry): void => {
  const out = load(text, registry)
  if ("graph" in out) checkGraph(out.graph, registry)
  else checkError(out.error, text)
  // Deterministic.
  const again = load(text, registry)
  expect("graph" in again ? "graph" : again.error.message).toBe("graph" in out ? "graph" : out.error.message)
}

// ---------------------------------------------------------------------------------------------------
// Arbitraries

const channelTypes = [...builtinRegistry.channelTypes]
const channelName = fc.constantFrom("sysflow", "flat", "evt", "a", "b", "otel", "flat2")
const channel = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(channelName, fc.constantFrom(...channelTypes)).map(([n, t]) => `${n} ${t}`) },
  { weight: 1, arbitrary: fc.tuple(channelName, fc.constantFrom(...channelTypes)).map(([n, t]) => `  ${n}\t${t} `) },
  { weight: 1, arbitrary: fc.constantFrom("sysflow", "", "a b c", "x nochan", "sysflow sysflowchan extra") }
)
const channels = fc.oneof({ weight: 4, arbitrary: channel }, { weight: 1, arbitrary: fc.array(channel, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) })

const entry = fc.record(
  {
    processor: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...builtinRegistry.processors.keys()) }, { weight: 1, arbitrary: fc.constantFrom("nosuch", "", "Exporter") }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
    handler: fc.oneof(fc.constant("flattener"), fc.constantFrom("nosuch", ""), fc.jsonValue({ maxDepth: 1 })),
    in: channels,
    out: channels,
    export: fc.constantFrom("terminal", "file", "syslog"),
    buffer: fc.oneof(fc.integer(), fc.boolean(), fc.string({ maxLength: 4 })),
    "kafka.config": fc.jsonValue({ maxDepth: 2 })
  },
  { requiredKeys: [] }
)

/** A well-wired chain (reader → engine → exporter) that the random entries are mixed into. */
const baseChain = [
  { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
  { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan" },
  { processor: "exporter", in: "evt eventchan", export: "terminal" }
]

/**
 * Near-valid pipelines: the chain (or a prefix ending in a sink-less stage) with renamed channels,
 * entries in any order (the graph must sort them), extra attributes, and an optional drivers block.
 */
const nearValid = fc
  .record({
    names: fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/)),
    length: fc.constantFrom(1, 2, 3, 3, 3),
    order: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
    extra: fc.dictionary(fc.constantFrom("mode", "policies", "format", "buffer", "x", "PROCESSOR"), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
    drivers: fc.option(fc.constantFrom([{ driver: "file" }], [{ driver: "file", out: "CH0 sysflowchan" }], [{ driver: "socket" }], [{ driver: "file", out: "zz sysflowchan" }]))
  })
  .map(({ names, length, order, extra, drivers }) => {
    const [a, b, c] = names
    const chain: Array<Record<string, unknown>> = [
      { processor: "sysflowreader", handler: "flattener", in: `${a} sysflowchan`, out: `${b} flattenerchan`, ...extra },
      { processor: "policyengine", in: `${b} flattenerchan`, out: `${c} eventchan` },
      { processor: "exporter", in: `${c} eventchan`, export: "terminal" }
    ]
    if (length === 2) chain.splice(1, 2, { processor: "exporter", in: `${b} flattenerchan` })
    if (length === 1) delete chain[0].out
    const entries = chain.slice(0, length)
    // Any order except moving the root (the first `in` is the driver's channel).
    const rest = entries.slice(1).map((e, i) => ({ e, k: order[i] })).sort((x, y) => x.k - y.k).map((x) => x.e)
    const out: Record<string, unknown> = { pipeline: [entries[0], ...rest] }
    if (drivers !== null) out.drivers = JSON.parse(JSON.stringify(drivers).replace("CH0", a))
    return JSON.stringify(out)
  })

const pipelineObject = fc
  .record(
    {
      pipeline: fc.oneof(
        { weight: 3, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: entry }, { weight: 2, arbitrary: fc.constantFrom(...baseChain) }), { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }
      ),
      drivers: fc.oneof(
        fc.array(fc.record({ driver: fc.oneof(fc.constantFrom("file", "socket", "nosuch"), fc.jsonValue({ maxDepth: 1 })), out: fc.oneof(channel, fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }), { maxLength: 3 }),
        fc.jsonValue({ maxDepth: 1 })
      ),
      metrics: fc.oneof(fc.constantFrom("127.0.0.1:9464", "9464", ""), fc.jsonValue({ maxDepth: 1 })),
      PIPELINE: fc.constant([]),
      _comment: fc.string({ maxLength: 8 })
    },
    { requiredKeys: ["pipeline"] }
  )
  .map((o) => JSON.stringify(o))

const textMutation = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), s: fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom("{", "}", "[", "]", ",", ":", '"', "\\", "\\u12", "-", "1e999", "\n", "\u0000", "\ud800")) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) })
)
type TextMutation = typeof textMutation extends fc.Arbitrary<infer T> ? T : never

const mutateText = (text: string, m: TextMutation): string => {
  const at = m.at % (text.length + 1)
  switch (m.kind) {
    case "insert":
      return text.slice(0, at) + m.s + text.slice(at)
    case "delete":
      return text.slice(0, at) + text.slice(at + m.len)
    case "truncate":
      return text.slice(0, at)
    case "duplicate":
      return text.slice(0, at + m.len) + text.slice(at, at + m.len) + text.slice(at + m.len)
  }
}

/** Replaces the value at a random path of a JSON value with another (structure-aware mutation). */
const replaceAt = (v: unknown, pathSeed: ReadonlyArray<number>, by: unknown): unknown => {
  if (pathSeed.length === 0 || v === null || typeof v !== "object") return by
  const [k, ...rest] = pathSeed
  if (Array.isArray(v)) {
    if (v.length === 0) return by
    const i = k % v.length
    return v.map((x, j) => (j === i ? replaceAt(x, rest, by) : x))
  }
  const keys = Object.keys(v)
  if (keys.length === 0) return by
  const key = keys[k % keys.length]
  return { ...(v as Record<string, unknown>), [key]: replaceAt((v as Record<string, unknown>)[key], rest, by) }
}

// ---------------------------------------------------------------------------------------------------
// Shipped pipelines

const findPipelines = (dir: string, re: RegExp): Array<string> =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile() && re.test(e.name))
        .map((e) => path.join(e.parentPath, e.name))
        .sort()
    : []

const ours = [
  ...findPipelines(path.join(projectRoot, "resources", "pipelines"), /\.json$/),
  ...findPipelines(path.join(projectRoot, "plugins"), /^pipeline.*\.json$/)
].map((p) => fs.readFileSync(p, "utf8"))
const sharedDir = path.resolve(projectRoot, "..", "shared", "conformance", "pipelines")
const sharedPresent = fs.existsSync(sharedDir)
const shared = findPipelines(sharedDir, /\.json$/).map((p) => fs.readFileSync(p, "utf8"))

// ---------------------------------------------------------------------------------------------------

describe("fuzz: pipeline config (parsePipelineConfig + buildPipelineGraph)", () => {
  it("random JSON values and random text", () => {
    const text = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.jsonValue().map((v) => JSON.stringify(v, null, 2)),
      fc.json(),
      fc.string({ maxLength: 40 }),
      fc.array(fc.constantFrom("{", "}", "[", "]", ",", ":", '"a"', "1", "-", "true", "nul", " ", "\n", '"\\', '"\\u00"', "1.", ".5", "01", "1e", "\t"), { maxLength: 30 }).map((t) => t.join(""))
    )
    fc.assert(
      fc.property(text, (t) => {
        check(t)
      }),
      fuzzParams(1500, 1_000)
    )
  }, testTimeout(1_000))

  it("generated pipelines: a valid graph or a typed error", () => {
    const seen = { graph: 0, error: 0 }
    fc.assert(
      fc.property(fc.oneof(pipelineObject, nearValid), (t) => {
        check(t)
        seen["graph" in load(t) ? "graph" : "error"]++
      }),
      fuzzParams(1500, 1_200)
    )
    // The generator reaches both outcomes (else the graph checks would be vacuous).
    expect(seen.graph).toBeGreaterThan(0)
    expect(seen.error).toBeGreaterThan(0)
  }, testTimeout(1_200))

  it("the shipped pipelines build, and their mutations give a typed error or a valid graph", () => {
    expect(ours.length).toBeGreaterThanOrEqual(3)
    for (const t of ours) expect("graph" in load(t, withExample), t.slice(0, 200)).toBe(true)
    fc.assert(
      fc.property(
        fc.nat({ max: ours.length - 1 }),
        fc.oneof(
          fc.array(textMutation, { minLength: 1, maxLength: 3 }).map((ms) => (t: string) => ms.reduce(mutateText, t)),
          fc.tuple(fc.array(fc.nat(), { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 })).map(([p, by]) => (t: string) => JSON.stringify(replaceAt(JSON.parse(t), p, by)))
        ),
        (i, mutate) => {
          check(mutate(ours[i]), withExample)
        }
      ),
      fuzzParams(1000, 1_000)
    )
  }, testTimeout(1_000))

  // ../shared is the conformance checkout next to this repository; CI images without it skip this part.
  it.skipIf(!sharedPresent)("mutations of ../shared/conformance/pipelines (skipped when ../shared is absent)", () => {
    expect(shared.length).toBeGreaterThan(0)
    for (const t of shared) check(t)
    fc.assert(
      fc.property(fc.nat({ max: shared.length - 1 }), fc.array(textMutation, { minLength: 1, maxLength: 3 }), (i, ms) => {
        check(ms.reduce(mutateText, shared[i]))
      }),
      fuzzParams(600, 800)
    )
  }, testTimeout(800))

  it("deep nesting is a typed error, not a stack overflow", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom("[", '{"a":', '{"pipeline":['), fc.boolean(), (n, open, closed) => {
        const close = open === "[" ? "]" : open === '{"a":' ? "}" : "]}"
        check(open.repeat(n) + (closed ? `1${close.repeat(n)}` : ""))
        // Inside an attribute of a valid entry (decoded by Schema after parsing).
        const entry = '{"pipeline":[{"processor":"sysflowreader","handler":"flattener","in":"s sysflowchan","out":"f flattenerchan"},{"processor":"exporter","in":"f flattenerchan","x":'
        check(entry + open.repeat(n) + (closed ? `1${close.repeat(n)}}]}` : ""))
      }),
      fuzzParams(60, 1_000)
    )
  }, testTimeout(1_000))
})

// ---------------------------------------------------------------------------------------------------
// Regressions: the inputs that found bugs, kept as explicit cases.

describe("fuzz regressions: pipeline config", () => {
  it("deep nesting is a Parse error at the bracket past the limit (seed 20240611: 45356 levels threw a RangeError)", () => {
    const text = '{"a":'.repeat(45356) + "1" + "}".repeat(45356)
    const out = load(text)
    expect("error" in out && out.error.reason).toBe("Parse")
    expect("error" in out && out.error.detail).toBe('JSON syntax error at line 1, column 2561: JSON nested too deeply (more than 512 levels), found "{"')
    // 2000 levels inside an attribute parsed, then overflowed the Schema decoder.
    const attr = '{"pipeline":[{"processor":"exporter","in":"e eventchan","x":' + "[".repeat(2000) + "]".repeat(2000) + "}]}"
    expect("error" in load(attr) && (load(attr) as { error: PipelineConfigError }).error.reason).toBe("Parse")
    // 500 levels are fine (and reach the graph check).
    const ok = '{"pipeline":[{"processor":"exporter","in":"e eventchan","x":' + "[".repeat(500) + "]".repeat(500) + "}]}"
    const r = load(ok)
    expect("error" in r && r.error.reason).toBe("Graph")
  })
})

// ---------------------------------------------------------------------------------------------------
// The attribute decoder behind every built-in processor (the config decoders without I/O): whatever the
// values of their keys, from the file or the environment, the answer is the config or one located line.

const decoders: ReadonlyArray<readonly [string, ReadonlyArray<string>, (attrs: Readonly<Record<string, unknown>>) => Effect.Effect<unknown, PipelineConfigError>]> = [
  ["exporter", ["export", "format", "buffer", "file.path"], (a) => decodeExporterConfig(a, builtinTransports.map(([name]) => name), builtinEncoders.map(([name]) => name))],
  ["exporter", ["syslog.proto", "syslog.port", "syslog.tls.skipverify", "syslog.host"], (a) => decodeSyslogConfig(a, () => "h")],
  ["exporter", ["findings.url", "findings.pool.capacity", "findings.pool.maxage", "findings.path"], decodeFindingsConfig],
  ["policyengine", ["mode", "concurrency", "monitor.interval", "bench.ruleindex"], decodePolicyEngineConfig]
]

describe("fuzz: attribute decoding (every built-in processor's keys)", () => {
  it("any values, from the file or the environment: the config, or one line naming the file, the entry, each bad key and its variable", () => {
    const seen = { config: 0, error: 0 }
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom("-1", "0", "1e20", "+5", " 5", "true", "TRUE", "on", "", "1.5", "http://x", "a\nb"))
    fc.assert(
      fc.property(fc.nat({ max: decoders.length - 1 }), fc.array(fc.tuple(fc.nat(3), value, fc.boolean()), { maxLength: 4 }), (d, settings) => {
        const [processor, keys, decode] = decoders[d]
        const fileAttrs: Record<string, unknown> = { processor, in: "a flattenerchan" }
        const env: Record<string, string> = {}
        for (const [k, v, fromEnv] of settings) {
          if (fromEnv) env[`${processor.toUpperCase()}_${keys[k].toUpperCase().replaceAll(".", "_")}`] = typeof v === "string" ? v : JSON.stringify(v)
          else fileAttrs[keys[k]] = v
        }
        const config = Either.getOrThrow(parsePipelineConfig(JSON.stringify({ pipeline: [fileAttrs] }), FILE))
        const entry = applyEnvOverrides(config, env, knownKeysOf(builtinRegistry)).pipeline[0]
        const exit = Effect.runSyncExit(decode(Object.fromEntries(entry.attributes)).pipe(withAttributeOrigin(pluginEntryOrigin(entry))))
        seen[Exit.isSuccess(exit) ? "config" : "error"]++
        if (Exit.isSuccess(exit)) return
        const error = Cause.failureOption(exit.cause)
        expect(Option.isSome(error), `a defect: ${Cause.pretty(exit.cause)}`).toBe(true)
        const message = Option.getOrThrow(error).message
        expect(message.startsWith(`${FILE}: pipeline[0] (${processor}): `), message).toBe(true)
        expect(message).not.toMatch(/[\n\r\u001b]/)
        for (const [key, variable] of entry.sources) {
          if (message.includes(`${key} = `)) expect(message, message).toContain(`(from ${variable})`)
        }
      }),
      fuzzParams(1500, 1_500)
    )
    expect(seen.config).toBeGreaterThan(0)
    expect(seen.error).toBeGreaterThan(0)
  }, testTimeout(1_500))
})
