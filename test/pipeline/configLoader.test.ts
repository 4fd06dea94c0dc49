import { Effect, Either } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { PipelineConfigError } from "../../src/domain/errors.js"
import { loadPipelineConfig, parsePipelineConfig } from "../../src/services/pipeline/ConfigLoader.js"

const parse = (text: string) => parsePipelineConfig(text, "test.json")
const parsed = (json: unknown) => Either.getOrThrow(parse(JSON.stringify(json)))
const parseError = (text: string): PipelineConfigError => {
  const r = parse(text)
  if (Either.isRight(r)) throw new Error("expected a decoding error")
  return r.left
}

describe("pipeline config decoding (pipeline.md §3)", () => {
  it("keeps strings, turns numbers and booleans into their JSON text (P3) and keeps objects and arrays", () => {
    const config = parsed({
      pipeline: [
        {
          processor: "exporter",
          in: "evt eventchan",
          export: "kafka",
          buffer: 1000,
          "vault.secrets": true,
          "syslog.port": 514.5,
          "kafka.config": { "bootstrap.servers": "k:9092" },
          tags: ["a", 1],
          nothing: null
        }
      ]
    })
    const [entry] = config.pipeline
    expect(entry.processor).toBe("exporter")
    expect(Object.fromEntries(entry.attributes)).toEqual({
      export: "kafka",
      buffer: "1000",
      "vault.secrets": "true",
      "syslog.port": "514.5",
      "kafka.config": { "bootstrap.servers": "k:9092" },
      tags: ["a", 1],
      nothing: null
    })
    expect(entry.converted).toEqual(["buffer", "vault.secrets", "syslog.port"])
  })

  it("normalises in/out to lists of raw channel strings and keeps handler keys as attributes", () => {
    const config = parsed({
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", handlerlibpath: "/h", in: "sysflow sysflowchan", out: ["a flattenerchan", "b flattenerchan"] },
        { processor: "exporter", in: ["a flattenerchan"] },
        { processor: "policyengine" }
      ]
    })
    expect(config.pipeline.map((e) => [e.index, e.processor, e.in, e.out])).toEqual([
      [0, "sysflowreader", ["sysflow sysflowchan"], ["a flattenerchan", "b flattenerchan"]],
      [1, "exporter", ["a flattenerchan"], undefined],
      [2, "policyengine", undefined, undefined]
    ])
    expect(Object.fromEntries(config.pipeline[0].attributes)).toEqual({ handler: "flattener", handlerlibpath: "/h" })
  })

  it("matches the top-level keys case-insensitively and ignores other top-level keys", () => {
    const config = parsed({
      _comment: "ignored",
      PipeLine: [{ processor: "exporter", in: "evt eventchan" }],
      DRIVERS: [{ driver: "otelkafka", out: "otel otelchan", "kafka.topics": ["otel-logs"], port: 9092 }, { path: "/x" }]
    })
    expect(config.file).toBe("test.json")
    expect(config.pipeline).toHaveLength(1)
    expect(config.drivers.map((d) => [d.index, d.driver, d.out])).toEqual([
      [0, "otelkafka", "otel otelchan"],
      [1, undefined, undefined]
    ])
    expect(Object.fromEntries(config.drivers[0].attributes)).toEqual({ "kafka.topics": ["otel-logs"], port: "9092" })
    expect(config.drivers[0].converted).toEqual(["port"])
  })

  it("keeps the case of keys inside entries, and a repeated key keeps its last value", () => {
    const config = Either.getOrThrow(parse('{"pipeline":[{"processor":"exporter","Export":"file","export":"null","export":"file"}]}'))
    expect(Object.fromEntries(config.pipeline[0].attributes)).toEqual({ Export: "file", export: "file" })
  })

  it("treats a missing pipeline or drivers key as empty", () => {
    expect(parsed({})).toEqual({ file: "test.json", pipeline: [], drivers: [] })
  })

  describe("errors name the file and the entry", () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ["{\n  \"pipeline\": [\n    {\"processor\": \"exporter\",}\n  ]\n}", "Parse", 'test.json: JSON syntax error at line 3, column 30: expected a double-quoted property name, found "}"'],
      ['{"pipeline": [1,]}', "Parse", 'test.json: JSON syntax error at line 1, column 17: expected a JSON value, found "]"'],
      ['{"pipeline": [] "drivers": []}', "Parse", `test.json: JSON syntax error at line 1, column 17: expected ',' or '}' after a property value, found "\\""`],
      ['{"pipeline": "x', "Parse", "test.json: JSON syntax error at line 1, column 16: unterminated string, found the end of the file"],
      ["", "Parse", "test.json: JSON syntax error at line 1, column 1: expected a JSON value, found the end of the file"],
      ["[]", "Schema", "test.json: the pipeline config = []: must be a JSON object"],
      ['{"pipeline": {}}', "Schema", 'test.json: pipeline = {}: must be an array of processor entries'],
      ['{"drivers": "file"}', "Schema", 'test.json: drivers = "file": must be an array of driver entries'],
      ['{"pipeline": [], "Pipeline": []}', "Schema", 'test.json: top-level key "pipeline" appears more than once ("pipeline", "Pipeline"); top-level keys are case-insensitive'],
      ['{"pipeline": [{"processor": "exporter"}, "x"]}', "Schema", 'test.json: pipeline[1] = "x": must be a JSON object'],
      ['{"pipeline": [{"processor": 7}]}', "Schema", 'test.json: pipeline[0]: processor = 7: must be a string'],
      ['{"pipeline": [{"processor": "exporter", "in": 5}]}', "Schema", 'test.json: pipeline[0] (exporter): in = 5: must be a string or an array of strings'],
      ['{"pipeline": [{"processor": "x"}, {"processor": "exporter", "out": ["a b", 1]}]}', "Schema", 'test.json: pipeline[1] (exporter): out = ["a b",1]: must be a string or an array of strings'],
      ['{"pipeline": [{"processor": "sysflowreader", "handler": {}}]}', "Schema", 'test.json: pipeline[0] (sysflowreader): handler = {}: must be a string'],
      ['{"drivers": [{"driver": "file", "out": ["a b"]}]}', "Schema", 'test.json: drivers[0] (file): out = ["a b"]: must be a string'],
      ['{"drivers": [{"driver": true}]}', "Schema", 'test.json: drivers[0]: driver = true: must be a string']
    ]
    for (const [text, reason, message] of cases) {
      it(message, () => {
        const e = parseError(text)
        expect(e.reason).toBe(reason)
        expect(e.file).toBe("test.json")
        expect(e.message).toBe(message)
      })
    }
  })
})

describe("loadPipelineConfig reads the given path (P14)", () => {
  let dir = ""
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "sfp-config-"))
  })
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true })
  })

  it("reads a file with any extension", async () => {
    const file = path.join(dir, "pipeline.conf")
    await fs.writeFile(file, JSON.stringify({ pipeline: [{ processor: "exporter", in: "evt eventchan" }] }))
    const config = await Effect.runPromise(loadPipelineConfig(file))
    expect(config.file).toBe(file)
    expect(config.pipeline[0].processor).toBe("exporter")
  })

  it("reports the OS error naming the path", async () => {
    const file = path.join(dir, "missing.json")
    const e = await Effect.runPromise(Effect.flip(loadPipelineConfig(file)))
    expect(e.reason).toBe("Read")
    expect(e.message).toBe(`${file}: ENOENT: no such file or directory`)
  })

  it("rejects a directory", async () => {
    const e = await Effect.runPromise(Effect.flip(loadPipelineConfig(dir)))
    expect(e.reason).toBe("Read")
    expect(e.message).toBe(`${dir}: Pipeline config file is not a file`)
  })

  it("names the file in syntax errors", async () => {
    const file = path.join(dir, "bad.json")
    await fs.writeFile(file, '{\n  "pipeline": [\n')
    const e = await Effect.runPromise(Effect.flip(loadPipelineConfig(file)))
    expect(e.message).toBe(`${file}: JSON syntax error at line 3, column 1: expected a JSON value, found the end of the file`)
  })
})
