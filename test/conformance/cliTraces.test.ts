/**
 * Issue "end to end": `sfprocessor -config <reader -> exporter(file,json)> <trace>` on each shared trace
 * exports exactly one line per flattened record (PE, FF, FE, NF, KE counts of the Avro file).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { fileExportPipeline, lines, runCli, tempDir, writePipeline } from "../support/cli.js"
import { hasShared, sharedPath, sharedTraces } from "../support/shared.js"

const eventTypes = ["PE", "FF", "FE", "NF", "KE"]

describe.skipIf(!hasShared)("sfprocessor CLI on the shared traces", () => {
  for (const trace of sharedTraces) {
    it(`${trace.name}: one JSON line per event/flow record of the file`, async () => {
      const dir = tempDir()
      const out = path.join(dir, "out.jsonl")
      const config = writePipeline(dir, fileExportPipeline(out))
      const res = await runCli(["-config", config, "-driver", "file", sharedPath("traces", trace.name)])
      expect(res.stderr).toBe("")
      expect(res.code).toBe(0)
      const perType: Record<string, number> = {}
      for (const l of lines(out)) {
        const t = (JSON.parse(l) as { type: string }).type
        perType[t] = (perType[t] ?? 0) + 1
      }
      expect(perType).toEqual(Object.fromEntries(Object.entries(trace.counts).filter(([t]) => eventTypes.includes(t))))
    })
  }

  it("a directory is read in name order as one input", async () => {
    const dir = tempDir()
    const traces = path.join(dir, "traces")
    fs.mkdirSync(traces)
    // Names chosen so name order differs from the order of creation.
    fs.copyFileSync(sharedPath("traces", "tcp.sf"), path.join(traces, "b_tcp"))
    fs.copyFileSync(sharedPath("traces", "httpd.sf"), path.join(traces, "a_httpd"))
    const out = path.join(dir, "out.jsonl")
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", traces])
    expect(res.code).toBe(0)
    const exported = lines(out).map((l) => (JSON.parse(l) as { node: { id: string } }).node.id)
    expect(exported.length).toBe(5 + 10)
    expect(exported.slice(0, 5).every((id) => id === "gladiator-1")).toBe(true)
    expect(exported.slice(5).every((id) => id !== "gladiator-1")).toBe(true)
  })

  it("a truncated trace: records before the fault are exported, the error names file and offset, exit 1", async () => {
    const dir = tempDir()
    const whole = fs.readFileSync(sharedPath("traces", "k8s_small.sf"))
    const cut = path.join(dir, "cut.sf")
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)))
    const out = path.join(dir, "out.jsonl")
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", cut])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/\[Error\] .*Datum reading error: .*cut\.sf: corrupt or truncated block at byte offset \d+/)
    const exported = lines(out)
    expect(exported.length).toBeGreaterThan(1000)
    expect(exported.length).toBeLessThan(5247)
    // What was exported is exactly the beginning of the whole trace's export.
    const fullOut = path.join(dir, "full.jsonl")
    const full = await runCli(["-config", writePipeline(dir, fileExportPipeline(fullOut), "full.json"), "-driver", "file", sharedPath("traces", "k8s_small.sf")])
    expect(full.code).toBe(0)
    expect(exported).toEqual(lines(fullOut).slice(0, exported.length))
  })
})
