/**
 * Every pipeline the reference ships (../shared/conformance/pipelines) loads and validates.
 */
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { loadPipelineConfig } from "../../src/services/pipeline/ConfigLoader.js"
import { applyEnvOverrides } from "../../src/services/pipeline/EnvOverrides.js"
import { buildPipelineGraph, selectDrivers } from "../../src/services/pipeline/PipelineGraph.js"
import { builtinRegistry } from "../../src/layers/MainLive.js"
import { knownKeysOf } from "../../src/services/pipeline/Registry.js"
import { sharedPath } from "../support/shared.js"

const dir = sharedPath("conformance", "pipelines")
const present = fs.existsSync(dir)
if (!present) console.warn(`[skip] ${dir} is absent: the reference pipeline configs are not validated`)
const files = present ? fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : []

const load = (file: string) =>
  Effect.runPromise(loadPipelineConfig(`${dir}/${file}`)).then((c) => applyEnvOverrides(c, {}, knownKeysOf(builtinRegistry)))

describe.skipIf(!present)("reference pipeline configs", () => {
  it("are all present", () => {
    expect(files).toEqual([
      "pipeline.distribution.json",
      "pipeline.elk.json",
      "pipeline.findings.json",
      "pipeline.local.json",
      "pipeline.otel.json",
      "pipeline.template.json",
      "pipeline.terminal.json"
    ])
  })

  for (const file of files.filter((f) => f !== "pipeline.otel.json")) {
    it(`${file} validates with -driver file`, async () => {
      const config = await load(file)
      const drivers = Either.getOrThrow(selectDrivers(config, "file"))
      const graph = Either.getOrThrow(buildPipelineGraph(config, builtinRegistry, drivers))
      expect(graph.stages.map((s) => s.spec.name)).toEqual(["sysflowreader", "policyengine", "exporter"])
      expect(graph.root).toEqual({ name: "sysflow", type: "sysflowchan" })
      // None of them has a drivers block (§14), so -driver is required.
      expect(Either.isLeft(selectDrivers(config, ""))).toBe(true)
    })
  }

  it.skipIf(!files.includes("pipeline.otel.json"))("pipeline.otel.json validates with its otelkafka drivers block", async () => {
    const config = await load("pipeline.otel.json")
    const drivers = Either.getOrThrow(selectDrivers(config, ""))
    expect(drivers).toEqual(["otelkafka"])
    const graph = Either.getOrThrow(buildPipelineGraph(config, builtinRegistry, drivers))
    expect(graph.stages.map((s) => s.spec.name)).toEqual(["policyengine", "exporter"])
    expect(graph.drivers[0].output).toEqual({ name: "otel", type: "otelchan" })
    expect(config.pipeline[1].attributes.get("kafka.config")).toEqual({ "bootstrap.servers": "kafka1:29092" })
    expect(config.drivers[0].attributes.get("kafka.topics")).toEqual(["otel-logs"])
  })

  it.skipIf(!files.includes("pipeline.otel.json"))("pipeline.otel.json with -driver file is a type error (the file driver writes sysflowchan)", async () => {
    const config = await load("pipeline.otel.json")
    const r = buildPipelineGraph(config, builtinRegistry, ["file"])
    expect(Either.isLeft(r) && r.left.detail).toBe(
      "driver 'file' writes sysflowchan, but its channel 'otel' (the root channel: the first in of pipeline[0] (policyengine)) has type otelchan"
    )
  })
})
