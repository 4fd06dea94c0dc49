import { Either } from "effect"
import { describe, expect, it } from "vitest"
import type { PipelineConfig } from "../../src/domain/pipelineConfig.js"
import { parsePipelineConfig } from "../../src/services/pipeline/ConfigLoader.js"
import { applyEnvOverrides, envOverrideWarnings, MANIFEST } from "../../src/services/pipeline/EnvOverrides.js"
import { builtinRegistry } from "../../src/layers/MainLive.js"
import { extendRegistry, knownKeysOf, pluginProcessor } from "../../src/services/pipeline/Registry.js"

const config = (json: unknown): PipelineConfig => Either.getOrThrow(parsePipelineConfig(JSON.stringify(json), "test.json"))

const reader = { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" }
const engine = { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", policies: "/p.yaml" }
const exporter = { processor: "exporter", in: "evt eventchan", export: "syslog", "syslog.proto": "udp" }
const base = config({ pipeline: [reader, engine, exporter] })

const apply = (c: PipelineConfig, env: Record<string, string | undefined>) => applyEnvOverrides(c, env, knownKeysOf(builtinRegistry))
const attrs = (c: PipelineConfig, i: number) => Object.fromEntries(c.pipeline[i].attributes)
const manifestKeys = { ...MANIFEST, "cluster.id": "" }

describe("environment overrides (pipeline.md §7, P4)", () => {
  it("matches the processor case-insensitively on the env side and maps every _ to .", () => {
    for (const name of ["EXPORTER_SYSLOG_PROTO", "exporter_syslog_proto", "Exporter_Syslog_Proto"]) {
      expect(attrs(apply(base, { [name]: "tcp" }), 2)["syslog.proto"]).toBe("tcp")
    }
    const c = apply(base, { POLICYENGINE_MONITOR_INTERVAL: "10", SYSFLOWREADER_FILTER_ENABLED: "on", POLICYENGINE_POLICIES: "/other" })
    expect(attrs(c, 1)).toMatchObject({ "monitor.interval": "10", policies: "/other" })
    expect(attrs(c, 0)).toMatchObject({ "filter.enabled": "on" })
  })

  it("stores the value under a known key's canonical spelling (P4)", () => {
    const c = apply(base, { EXPORTER_ES_BULK_NUMWORKERS: "4", EXPORTER_ES_BULK_FLUSHTIMEOUT: "5s", EXPORTER_ES_BULK_FLASHBUFFER: "9" })
    expect(attrs(c, 2)).toMatchObject({ "es.bulk.numWorkers": "4", "es.bulk.flushTimeout": "5s", "es.bulk.flashBuffer": "9" })
    expect(attrs(c, 2)).not.toHaveProperty("es.bulk.numworkers")
  })

  it("replaces a file value whose key equals the attribute case-insensitively, keeping the file's spelling", () => {
    const c = apply(config({ pipeline: [{ processor: "example", in: "a flattenerchan", "Print.Level": "1" }] }), { EXAMPLE_PRINT_LEVEL: "2" })
    expect(attrs(c, 0)).toMatchObject({ "Print.Level": "2" })
    expect(attrs(c, 0)).not.toHaveProperty("print.level")
  })

  it("adds an unknown attribute in lowercase", () => {
    expect(attrs(apply(base, { EXPORTER_SOME_NEW_KEY: "x" }), 2)).toMatchObject({ "some.new.key": "x" })
  })

  it("replaces file values, including numbers converted by P3, which then no longer count as converted", () => {
    const c = config({ pipeline: [{ ...exporter, buffer: 10, "syslog.port": 514 }] })
    expect(c.pipeline[0].converted).toEqual(["buffer", "syslog.port"])
    const o = apply(c, { EXPORTER_BUFFER: "20", EXPORTER_SYSLOG_PROTO: "tls" })
    expect(attrs(o, 0)).toMatchObject({ buffer: "20", "syslog.port": "514", "syslog.proto": "tls" })
    expect(o.pipeline[0].converted).toEqual(["syslog.port"])
  })

  it("applies to every entry with that processor name", () => {
    const c = apply(config({ pipeline: [engine, { ...exporter, out: undefined }, exporter] }), { EXPORTER_EXPORT: "null" })
    expect([attrs(c, 1).export, attrs(c, 2).export]).toEqual(["null", "null"])
    expect(attrs(c, 0)).not.toHaveProperty("export")
  })

  it("needs the prefix to equal the processor exactly", () => {
    const c = config({ pipeline: [{ ...exporter, processor: "Exporter" }, reader] })
    const o = apply(c, { EXPORTER_EXPORT: "file", SYSFLOW_READER_HANDLER: "x", SYSFLOWREADERX_HANDLER: "y", SYSFLOWREADER: "z" })
    expect(attrs(o, 0).export).toBe("syslog")
    expect(attrs(o, 1).handler).toBe("flattener")
  })

  it("lets the later of two variables naming the same attribute win", () => {
    expect(attrs(apply(base, { EXPORTER_SYSLOG_PORT: "1", exporter_syslog_port: "2" }), 2)["syslog.port"]).toBe("2")
    expect(attrs(apply(base, { exporter_syslog_port: "2", EXPORTER_SYSLOG_PORT: "1" }), 2)["syslog.port"]).toBe("1")
  })

  it("can set handler, handlerlibpath, in and out, as in the reference where they share the attribute map", () => {
    const o = apply(base, { SYSFLOWREADER_HANDLER: "printer", SYSFLOWREADER_HANDLERLIBPATH: "/h", SYSFLOWREADER_OUT: "x flattenerchan", EXPORTER_IN: "y eventchan" })
    expect(attrs(o, 0)).toMatchObject({ handler: "printer", handlerlibpath: "/h" })
    expect(o.pipeline[0].out).toEqual(["x flattenerchan"])
    expect(o.pipeline[2].in).toEqual(["y eventchan"])
  })

  it("does not override drivers", () => {
    const c = config({ pipeline: [exporter], drivers: [{ driver: "file", out: "evt eventchan", path: "/a" }] })
    const o = apply(c, { FILE_PATH: "/b", FILE_OUT: "x sysflowchan" })
    expect(o.drivers).toEqual(c.drivers)
  })

  it("skips unset variables and names without an underscore", () => {
    expect(attrs(apply(base, { EXPORTER_EXPORT: undefined, EXPORTER: "x" }), 2)).toEqual({ export: "syslog", "syslog.proto": "udp", ...manifestKeys })
  })

  it("does not modify its input", () => {
    const before = attrs(base, 2)
    apply(base, { EXPORTER_EXPORT: "null" })
    expect(attrs(base, 2)).toEqual(before)
  })
})

describe("manifest keys (pipeline.md §3)", () => {
  it("are set on every entry after the overrides, overwriting file and env values", () => {
    const c = config({ pipeline: [{ ...exporter, version: "9", buildnumber: 7 }, engine] })
    const o = apply(c, { EXPORTER_VERSION: "8", EXPORTER_ECSVERSION: "1", EXPORTER_CLUSTER_ID: "env" })
    for (const i of [0, 1]) {
      expect(attrs(o, i)).toMatchObject({ version: "0.7.0", jsonschemaversion: "5", ecsversion: "8.2", buildnumber: "1", "cluster.id": "" })
    }
    expect(o.pipeline[0].converted).toEqual([])
  })

  it("take cluster.id from CLUSTER_ID", () => {
    expect(attrs(apply(base, { CLUSTER_ID: "prod-1" }), 1)["cluster.id"]).toBe("prod-1")
  })
})

describe("where overridden values came from", () => {
  it("each entry records the variable that set each key, under the key's canonical spelling", () => {
    const c = apply(base, { exporter_es_bulk_numworkers: "4", EXPORTER_SYSLOG_PROTO: "tcp", SYSFLOWREADER_FILTER_ENABLED: "on" })
    expect(c.pipeline[2].sources).toEqual(new Map([["es.bulk.numWorkers", "exporter_es_bulk_numworkers"], ["syslog.proto", "EXPORTER_SYSLOG_PROTO"]]))
    expect(c.pipeline[0].sources).toEqual(new Map([["filter.enabled", "SYSFLOWREADER_FILTER_ENABLED"]]))
    expect(c.pipeline[1].sources).toEqual(new Map())
  })

  it("the later of two variables for one key is the one recorded; a manifest key is never from the environment", () => {
    expect(apply(base, { EXPORTER_SYSLOG_PORT: "1", exporter_syslog_port: "2" }).pipeline[2].sources.get("syslog.port")).toBe("exporter_syslog_port")
    expect(apply(base, { EXPORTER_VERSION: "8" }).pipeline[2].sources.has("version")).toBe(false)
  })
})

describe("overrides that cannot take effect are reported (envOverrideWarnings)", () => {
  const warnings = (c: PipelineConfig, env: Record<string, string | undefined>) => envOverrideWarnings(c, env, knownKeysOf(builtinRegistry))
  const exporterKeys = (builtinRegistry.processors.get("exporter")!.knownKeys as ReadonlyArray<string>).slice().sort().join(", ")

  it("a key the processor does not read: the variable, the entry and the processor's keys", () => {
    expect(warnings(base, { EXPORTER_NOSUCHKEY: "1" })).toEqual([
      `test.json: pipeline[2] (exporter): EXPORTER_NOSUCHKEY sets nosuchkey, which exporter does not read: ignored (its keys: ${exporterKeys})`
    ])
    expect(warnings(base, { SYSFLOWREADER_FILTER_ENABLE: "on" })).toEqual([
      "test.json: pipeline[0] (sysflowreader): SYSFLOWREADER_FILTER_ENABLE sets filter.enable, which sysflowreader does not read: ignored " +
        "(its keys: cache.exitttl, filter.enabled, filter.maxage, handler, handlerlibpath)"
    ])
  })

  it("a manifest key: it has no effect, sfprocessor sets it", () => {
    expect(warnings(base, { POLICYENGINE_VERSION: "9", CLUSTER_ID: "c1", EXPORTER_CLUSTER_ID: "x" })).toEqual([
      'test.json: pipeline[1] (policyengine): POLICYENGINE_VERSION has no effect: version is set by sfprocessor (to "0.7.0")',
      'test.json: pipeline[2] (exporter): EXPORTER_CLUSTER_ID has no effect: cluster.id is set by sfprocessor (to "c1")'
    ])
  })

  it("only variables whose prefix is the processor of an entry count: the rest of the environment is not about us", () => {
    const env = { PATH: "/usr/bin", HOME_DIR: "/root", NODE_OPTIONS: "--x", SYSFLOW_READER_HANDLER: "x", KAFKA_BROKERS: "k", LC_ALL: "C" }
    expect(warnings(base, env)).toEqual([])
    expect(warnings(config({ pipeline: [engine] }), { EXPORTER_NOSUCHKEY: "1" })).toEqual([])
  })

  it("known keys (any case), handler, in, out and processor overrides are not reported", () => {
    const env = { EXPORTER_ES_BULK_NUMWORKERS: "4", exporter_buffer: "1", EXPORTER_IN: "x eventchan", SYSFLOWREADER_HANDLER: "flattener", POLICYENGINE_MONITOR_DEBOUNCE: "1" }
    expect(warnings(base, env)).toEqual([])
  })

  it("plugin processors and readers with a plugin handler read keys of their own: nothing is reported", () => {
    const registry = extendRegistry(builtinRegistry, { processors: [pluginProcessor("example")] })
    const c = config({ pipeline: [{ ...reader, handler: "printer", handlerlibpath: "/h.so" }, { processor: "example", in: "flat flattenerchan" }] })
    expect(envOverrideWarnings(c, { SYSFLOWREADER_PRINT_LEVEL: "2", EXAMPLE_ANYTHING: "1" }, knownKeysOf(registry))).toEqual([])
  })
})
