/**
 * Issue 10 §6: a run that starts and then fails is not reported as a failure "while starting the
 * pipeline" (the reference's text, kept for failures before the first record: driver init, metrics
 * bind, opening the outputs).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { fileExportPipeline, runCli, tempDir, writePipeline } from "../support/cli.js"

describe("the log line of a failed run", () => {
  it("a trace cut in the middle of a block fails the run after it started: 'Pipeline failed', exit 1", async () => {
    const dir = tempDir("sfp-runfail-")
    const trace = path.join(dir, "cut.sf")
    generateSyntheticTrace(fileSink(trace), { records: 20_000, seed: 2 })
    fs.truncateSync(trace, Math.floor(fs.statSync(trace).size / 2))
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(path.join(dir, "out.jsonl"))), "-driver", "file", trace])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^\[Error\] .*Pipeline failed: +.*cut\.sf/m)
    expect(res.stderr).not.toContain("Error caught while starting the pipeline")
    expect(res.stdout).toMatch(/Summary: [\d,]+ records read/)
  })

  it("a failure before the first record keeps the reference's text", async () => {
    const dir = tempDir("sfp-runfail-")
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(path.join(dir, "out.jsonl"))), "-driver", "file", path.join(dir, "missing.sf")])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^\[Error\] .*Error caught while starting the pipeline: +.*missing\.sf/m)
  })
})
