import { Either } from "effect"
import { describe, expect, it } from "vitest"
import type { PipelineConfig } from "../../src/domain/pipelineConfig.js"
import { parsePipelineConfig } from "../../src/services/pipeline/ConfigLoader.js"
import { buildPipelineGraph, selectDrivers, unknownProcessors } from "../../src/services/pipeline/PipelineGraph.js"
import { builtinRegistry } from "../../src/layers/MainLive.js"
import { extendRegistry, pluginDriver, pluginProcessor, type Registry } from "../../src/services/pipeline/Registry.js"

const config = (json: unknown): PipelineConfig => Either.getOrThrow(parsePipelineConfig(JSON.stringify(json), "test.json"))

const reader = { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" }
const engine = { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", policies: "/p.yaml" }
const exporter = { processor: "exporter", in: "evt eventchan", export: "terminal" }

const withPlugins = extendRegistry(builtinRegistry, { processors: [pluginProcessor("loop")] })

const build = (json: unknown, drivers: ReadonlyArray<string> = ["file"], registry: Registry = builtinRegistry) =>
  buildPipelineGraph(config(json), registry, drivers)
const graph = (json: unknown, drivers?: ReadonlyArray<string>, registry?: Registry) => Either.getOrThrow(build(json, drivers, registry))
const graphError = (json: unknown, drivers?: ReadonlyArray<string>, registry?: Registry): string => {
  const r = build(json, drivers, registry)
  if (Either.isRight(r)) throw new Error("expected a graph error")
  expect(r.left.reason).toBe("Graph")
  expect(r.left.file).toBe("test.json")
  return r.left.message
}
const stageNames = (g: { stages: ReadonlyArray<{ entry: { index: number; processor: string | undefined } }> }) =>
  g.stages.map((s) => `${s.entry.index}:${s.entry.processor}`)

describe("driver selection (pipeline.md §4 step 3, P24)", () => {
  it("uses -driver when given, ignoring the drivers block", () => {
    expect(Either.getOrThrow(selectDrivers(config({ pipeline: [], drivers: [{ driver: "otelkafka" }] }), "file"))).toEqual(["file"])
  })

  it("otherwise takes every drivers[] entry with a driver name, in order", () => {
    const c = config({ pipeline: [], drivers: [{ driver: "socket" }, { path: "/x" }, { driver: "file" }] })
    expect(Either.getOrThrow(selectDrivers(c, ""))).toEqual(["socket", "file"])
  })

  it("fails with the reference's error and a hint when there is no driver", () => {
    for (const cli of [undefined, ""]) {
      const r = selectDrivers(config({ pipeline: [exporter], drivers: [{ path: "/x" }] }), cli)
      expect(Either.isLeft(r) && r.left.message).toBe(
        'No drivers configured on command line or in pipeline config (pass -driver file to read trace files or -driver socket for the collector, or add a "drivers" block)'
      )
    }
  })
})

describe("pipeline graph (pipeline.md §4, P9)", () => {
  it("resolves the reference's three-stage tree", () => {
    const g = graph({ pipeline: [reader, engine, exporter] })
    expect(stageNames(g)).toEqual(["0:sysflowreader", "1:policyengine", "2:exporter"])
    expect(g.root).toEqual({ name: "sysflow", type: "sysflowchan" })
    expect(g.channels.map((c) => c.name)).toEqual(["sysflow", "flat", "evt"])
    expect(g.stages.map((s) => [s.inputs.map((c) => c.name), s.outputs.map((c) => c.name)])).toEqual([
      [["sysflow"], ["flat"]],
      [["flat"], ["evt"]],
      [["evt"], []]
    ])
    expect(g.drivers.map((d) => [d.spec.name, d.config, d.output])).toEqual([["file", undefined, g.root]])
  })

  it("accepts a fan-out: one entry with two out channels feeding two exporters", () => {
    const g = graph({
      pipeline: [
        reader,
        { ...engine, out: ["evt1 eventchan", "evt2 eventchan"] },
        { ...exporter, in: "evt1 eventchan" },
        { ...exporter, in: "evt2 eventchan", export: "file" }
      ]
    })
    expect(stageNames(g)).toEqual(["0:sysflowreader", "1:policyengine", "2:exporter", "3:exporter"])
    expect(g.stages[1].outputs).toEqual([{ name: "evt1", type: "eventchan" }, { name: "evt2", type: "eventchan" }])
  })

  it("orders stages producers first whatever the file order", () => {
    const g = graph({ pipeline: [reader, exporter, engine] })
    expect(stageNames(g)).toEqual(["0:sysflowreader", "2:policyengine", "1:exporter"])
  })

  it("lets an exporter read flat records directly (sfprocessor extension)", () => {
    expect(stageNames(graph({ pipeline: [reader, { ...exporter, in: "flat flattenerchan" }] }))).toEqual(["0:sysflowreader", "1:exporter"])
  })

  it("uses a driver's config block: its out channel and the block itself", () => {
    const g = graph({ pipeline: [reader, engine, exporter], drivers: [{ driver: "file", out: "sysflow sysflowchan", path: "/t" }] })
    expect(g.drivers[0].output).toEqual(g.root)
    expect(g.drivers[0].config?.index).toBe(0)
  })

  it("accepts a single-stage reader with a plugin handler (its output types are known only at init)", () => {
    expect(stageNames(graph({ pipeline: [{ ...reader, handler: "printer", handlerlibpath: "/h", out: undefined }] }))).toEqual(["0:sysflowreader"])
  })

  it("lists processors to try as plugins, and accepts them once registered", () => {
    const json = { pipeline: [{ ...reader, out: "flat flattenerchan" }, { processor: "example", in: "flat flattenerchan" }] }
    expect(unknownProcessors(config(json), builtinRegistry)).toEqual(["example"])
    const registry = extendRegistry(builtinRegistry, { processors: [pluginProcessor("example")] })
    expect(unknownProcessors(config(json), registry)).toEqual([])
    expect(stageNames(graph(json, ["file"], registry))).toEqual(["0:sysflowreader", "1:example"])
  })

  it("accepts plugin channel types and plugin drivers", () => {
    const registry = extendRegistry(withPlugins, { channelTypes: ["mychan"], drivers: [pluginDriver("mydriver")] })
    const g = graph({ pipeline: [{ processor: "loop", in: "m mychan" }] }, ["mydriver"], registry)
    expect(g.drivers[0].output).toEqual({ name: "m", type: "mychan" })
  })

  it("validates the OTel layout with its otelkafka driver, which writes the root channel", () => {
    const json = {
      pipeline: [{ ...engine, in: "otel otelchan" }, exporter],
      drivers: [{ driver: "otelkafka", out: "ignored otelchan" }]
    }
    const g = graph(json, ["otelkafka"])
    expect(g.drivers[0].output).toEqual({ name: "otel", type: "otelchan" })
  })

  describe("errors", () => {
    const cases: ReadonlyArray<{
      readonly what: string
      readonly json: unknown
      readonly drivers?: ReadonlyArray<string>
      readonly registry?: Registry
      readonly message: string
    }> = [
      {
        what: "no processors",
        json: { pipeline: [] },
        message: 'test.json: the pipeline has no processors ("pipeline" is missing or empty)'
      },
      {
        what: "a channel string of one word",
        json: { pipeline: [{ ...reader, in: "sysflow" }] },
        message: 'test.json: pipeline[0] (sysflowreader): in channel "sysflow" must be of the form "<identifier> <type>"'
      },
      {
        what: "a channel string of three words",
        json: { pipeline: [reader, { ...engine, out: "evt eventchan x" }] },
        message: 'test.json: pipeline[1] (policyengine): out channel "evt eventchan x" must be of the form "<identifier> <type>"'
      },
      {
        what: "an unknown channel type",
        json: { pipeline: [reader, { ...engine, in: "flat flatchan" }] },
        message: "test.json: pipeline[1] (policyengine): channel 'flat':'flatchan' not found in plugin cache (channel types: ctxchan, eventchan, flattenerchan, otelchan, sysflowchan)"
      },
      {
        what: "a missing processor",
        json: { pipeline: [reader, { in: "flat flattenerchan" }] },
        message: "test.json: pipeline[1]: processor tag must exist in plugin config"
      },
      {
        what: "a missing in",
        json: { pipeline: [reader, { ...engine, in: undefined }] },
        message: "test.json: pipeline[1] (policyengine): in tag must exist in plugin config"
      },
      {
        what: "an empty in list",
        json: { pipeline: [reader, { ...engine, in: [] }] },
        message: "test.json: pipeline[1] (policyengine): in tag must exist in plugin config"
      },
      {
        what: "an unknown processor",
        json: { pipeline: [reader, { processor: "example", in: "flat flattenerchan" }] },
        message: "test.json: pipeline[1] (example): plugin 'example' not found in plugin cache"
      },
      {
        what: "an unknown driver",
        json: { pipeline: [reader, engine, exporter] },
        drivers: ["kafka"],
        message: "test.json: driver 'kafka' not found in plugin cache"
      },
      {
        what: "two inputs on a built-in",
        json: { pipeline: [reader, { ...engine, out: ["evt eventchan", "evt2 eventchan"] }, { ...exporter, in: ["evt eventchan", "evt2 eventchan"] }] },
        message: "test.json: pipeline[2] (exporter): exporter only supports a single input channel at this time (in: 'evt', 'evt2')"
      },
      {
        what: "a driver config block without out",
        json: { pipeline: [reader, engine, exporter], drivers: [{ driver: "file", path: "/t" }] },
        message: "test.json: drivers[0] (file): out tag does not exist in driver configuration for driver file"
      },
      {
        what: "a socket driver config block without out",
        json: { pipeline: [reader, engine, exporter], drivers: [{ driver: "socket" }] },
        drivers: ["socket"],
        message: "test.json: drivers[0] (socket): out tag does not exist in driver configuration for driver socket"
      },
      {
        what: "a channel named with two types",
        json: { pipeline: [reader, { ...engine, out: "flat eventchan" }] },
        message: "test.json: channel 'flat' is named with two types: flattenerchan (pipeline[0] (sysflowreader) out) and eventchan (pipeline[1] (policyengine) out)"
      },
      {
        what: "fan-in from two processors",
        json: { pipeline: [reader, engine, exporter, { ...engine, in: "flat2 flattenerchan" }, { ...reader, out: "flat2 flattenerchan", in: "s2 sysflowchan" }] },
        message: "test.json: channel 'evt' has 2 producers (pipeline[1] (policyengine), pipeline[3] (policyengine)); a channel must have exactly one producer (fan-in is not supported)"
      },
      {
        what: "fan-in from two drivers on the root channel",
        json: { pipeline: [reader, engine, exporter] },
        drivers: ["file", "socket"],
        message: "test.json: channel 'sysflow' has 2 producers (driver 'file', driver 'socket'); a channel must have exactly one producer (fan-in is not supported)"
      },
      {
        what: "a channel read by two processors",
        json: { pipeline: [reader, engine, exporter, { ...exporter, export: "file" }] },
        message: "test.json: channel 'evt' is read by 2 processors (pipeline[2] (exporter), pipeline[3] (exporter)); a channel must have exactly one consumer (to feed several processors, give the producer one out channel for each)"
      },
      {
        what: "an in with no producer",
        json: { pipeline: [reader, { ...engine, out: undefined }, exporter] },
        message: "test.json: channel 'evt' read by pipeline[2] (exporter) has no producer (no driver or processor writes it)"
      },
      {
        what: "an out with no consumer",
        json: { pipeline: [reader, engine] },
        message: "test.json: channel 'evt' written by pipeline[1] (policyengine) has no consumer (no processor reads it)"
      },
      {
        what: "a root channel that no driver writes",
        json: { pipeline: [reader, engine, exporter], drivers: [{ driver: "file", out: "other sysflowchan" }] },
        message: "test.json: channel 'sysflow' read by pipeline[0] (sysflowreader) has no producer (no driver or processor writes it)"
      },
      {
        what: "a driver out with no consumer",
        json: { pipeline: [reader, engine, exporter], drivers: [{ driver: "file", out: "other sysflowchan" }] },
        drivers: ["socket", "file"],
        message: "test.json: channel 'other' written by driver 'file' has no consumer (no processor reads it)"
      },
      {
        what: "a root channel of a type the file driver does not write",
        json: { pipeline: [engine, exporter] },
        message: "test.json: driver 'file' writes sysflowchan, but its channel 'flat' (the root channel: the first in of pipeline[0] (policyengine)) has type flattenerchan"
      },
      {
        what: "a type the consumer does not read",
        json: { pipeline: [reader, { processor: "sysflowprocessor", handler: "flattener", in: "flat flattenerchan" }] },
        message: "test.json: pipeline[1] (sysflowprocessor) cannot read channel 'flat' of type flattenerchan: sysflowprocessor reads ctxchan"
      },
      {
        what: "a type the producer does not write",
        json: { pipeline: [reader, { ...engine, out: "x flattenerchan" }, { ...exporter, in: "x flattenerchan" }] },
        message: "test.json: pipeline[1] (policyengine) cannot write channel 'x' of type flattenerchan: policyengine writes eventchan"
      },
      {
        what: "a type the reader's handler does not write",
        json: { pipeline: [{ ...reader, out: "flat eventchan" }, { ...exporter, in: "flat eventchan" }] },
        message: "test.json: pipeline[0] (sysflowreader) cannot write channel 'flat' of type eventchan: sysflowreader with handler 'flattener' writes flattenerchan"
      },
      {
        what: "an out on a sink",
        json: { pipeline: [reader, engine, { ...exporter, out: "more eventchan" }, { ...exporter, in: "more eventchan" }] },
        message: "test.json: pipeline[2] (exporter) cannot write channel 'more' of type eventchan: exporter writes no channels"
      },
      {
        what: "a cycle",
        json: {
          pipeline: [reader, { ...exporter, in: "flat flattenerchan" }, { processor: "loop", in: "a flattenerchan", out: "b flattenerchan" }, { processor: "loop", in: "b flattenerchan", out: "a flattenerchan" }]
        },
        registry: withPlugins,
        message: "test.json: the pipeline has a cycle: pipeline[3] (loop) -> 'a' -> pipeline[2] (loop) -> 'b' -> pipeline[3] (loop)"
      },
      {
        what: "a processor reading its own output",
        json: { pipeline: [reader, { ...exporter, in: "flat flattenerchan" }, { processor: "loop", in: "a flattenerchan", out: "a flattenerchan" }] },
        registry: withPlugins,
        message: "test.json: the pipeline has a cycle: pipeline[2] (loop) -> 'a' -> pipeline[2] (loop)"
      }
    ]
    for (const c of cases) {
      it(c.what, () => {
        expect(graphError(c.json, c.drivers, c.registry)).toBe(c.message)
      })
    }
  })
})
