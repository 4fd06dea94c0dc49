/**
 * The `sfprocessor` binary as a user runs it, on traces our own writer makes (no ../shared needed).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { VERSION_LINE } from "../../src/domain/manifest.js"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { fileExportPipeline, lines, projectRoot, runCli, tempDir, writePipeline } from "../support/cli.js"

const sample = path.join(projectRoot, "resources", "traces", "sample.sf")
const jsonLines = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("{"))

describe("sfprocessor CLI", () => {
  it("-version prints the reference's version line", async () => {
    const res = await runCli(["-version"])
    expect(res).toMatchObject({ code: 0, stdout: `${VERSION_LINE}\n`, stderr: "" })
  })

  it("runs the bundled telemetry pipeline on the sample trace: one JSON line per record on stdout", async () => {
    const res = await runCli(["-config", "resources/pipelines/pipeline.telemetry.json", "-driver", "file", sample])
    expect(res.code).toBe(0)
    const records = jsonLines(res.stdout).map((l) => JSON.parse(l) as { type: string })
    expect(records.length).toBe(74)
    expect(new Set(records.map((r) => r.type))).toEqual(new Set(["PE", "FF", "FE", "NF", "KE"]))
    expect(res.stdout).toMatch(/^\[Info\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d .*Successfully loaded pipeline configuration$/m)
  })

  it("-test validates without reading input: exit 0 for a good pipeline", async () => {
    const dir = tempDir()
    const res = await runCli(["-test", "-driver", "file", "-config", writePipeline(dir, fileExportPipeline(path.join(dir, "o")))])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain("[Health]")
    expect(res.stdout).toContain("Health checks: passed")
    expect(fs.existsSync(path.join(dir, "o"))).toBe(false) // the exporter was initialised, its output not touched
  })

  it("-test fails with exit 1 and the reason for a broken graph", async () => {
    const dir = tempDir()
    const broken = fileExportPipeline("o")
    broken.pipeline[1].in = "flat eventchan"
    const res = await runCli(["-test", "-driver", "file", "-config", writePipeline(dir, broken)])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/^\[Error\] .*Unable to load pipeline error: {2}.*channel 'flat' is named with two types/m)
  })

  it("a missing config file is exit 1 naming the file", async () => {
    const res = await runCli(["-config", "/nonexistent/p.json", "-driver", "file", sample])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain("/nonexistent/p.json")
  })

  it("a missing input path is exit 1 with the OS error", async () => {
    const dir = tempDir()
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(path.join(dir, "o"))), "-driver", "file", "/nonexistent/trace.sf"])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/Error caught while starting the pipeline: {2}.*no such file or directory.*\/nonexistent\/trace\.sf/)
  })

  it("without -driver and a drivers block: the reference's error with a hint", async () => {
    const dir = tempDir()
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(path.join(dir, "o"))), sample])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain("No drivers configured on command line or in pipeline config (pass -driver file")
  })

  it("a drivers block selects the driver and may name the input path", async () => {
    const dir = tempDir()
    const out = path.join(dir, "o.jsonl")
    const config = { ...fileExportPipeline(out), drivers: [{ driver: "file", out: "sysflow sysflowchan", path: sample }] }
    const res = await runCli(["-config", writePipeline(dir, config), "ignored-path"])
    expect(res.stdout).toContain("Loading driver: file")
    expect(res.code).toBe(0)
    expect(lines(out).length).toBe(74)
  })

  it("environment overrides set exporter keys (EXPORTER_FILE_PATH) and numbers are accepted (buffer)", async () => {
    const dir = tempDir()
    const out = path.join(dir, "from-env.jsonl")
    const config = writePipeline(dir, fileExportPipeline(path.join(dir, "from-file.jsonl"), { buffer: 1000 }))
    const res = await runCli(["-config", config, "-driver", "file", sample], { env: { EXPORTER_FILE_PATH: out } })
    expect(res.code).toBe(0)
    expect(lines(out).length).toBe(74)
    expect(fs.existsSync(path.join(dir, "from-file.jsonl"))).toBe(false)
  })

  it("flags after the path are ignored with a warning (P15)", async () => {
    const dir = tempDir()
    const out = path.join(dir, "o.jsonl")
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", sample, "-log", "quiet"])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/\[Warn\] .*Ignoring arguments after the input path \(flags must come before it\): -log$/m)
  })

  it("-log error hides info lines; -log quiet prints nothing but the records", async () => {
    const quiet = await runCli(["-log", "quiet", "-config", "resources/pipelines/pipeline.telemetry.json", "-driver", "file", sample])
    expect(quiet.code).toBe(0)
    expect(quiet.stdout.split("\n").filter((l) => l !== "").every((l) => l.startsWith("{"))).toBe(true)
    expect(quiet.stderr).toBe("")
  })

  it("-cpuprofile and -memprofile write V8 profiles", async () => {
    const dir = tempDir()
    const cpu = path.join(dir, "run.cpuprofile")
    const heap = path.join(dir, "run.heapsnapshot")
    const res = await runCli(["-log", "quiet", "-cpuprofile", cpu, "-memprofile", heap, "-config", "resources/pipelines/pipeline.telemetry.json", "-driver", "file", sample])
    expect(res.code).toBe(0)
    const profile = JSON.parse(fs.readFileSync(cpu, "utf8")) as { nodes: unknown[]; samples: unknown[] }
    expect(profile.nodes.length).toBeGreaterThan(0)
    expect(fs.statSync(heap).size).toBeGreaterThan(1000)
  })
})

describe("signals", () => {
  const dir = tempDir("sfp-signal-")
  const big = path.join(dir, "big.sf")
  beforeAll(() => {
    generateSyntheticTrace(fileSink(big), { records: 400_000, seed: 3 })
  })

  /** Starts an export of the big trace and sends SIGINT once the output file has data. */
  const interrupted = async () => {
    const out = path.join(dir, "out.jsonl")
    const config = writePipeline(dir, fileExportPipeline(out))
    const res = await runCli(["-log", "info", "-config", config, "-driver", "file", big], {
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (fs.existsSync(out) && fs.statSync(out).size > 1_000_000) {
            clearInterval(poll)
            child.kill("SIGINT")
          }
        }, 20)
      }
    })
    return { res, out }
  }

  it("the first SIGINT drains: exit 0, every exported line complete, a prefix of the whole export", async () => {
    const { res, out } = await interrupted()
    expect(res.code).toBe(0)
    expect(res.stdout).toContain("\r- Ctrl+C pressed in terminal\n")
    expect(res.stdout).toMatch(/\[Info\] .*Stopping the processing pipeline/)
    const text = fs.readFileSync(out, "utf8")
    expect(text.endsWith("\n")).toBe(true)
    const exported = text.split("\n").slice(0, -1)
    expect(exported.length).toBeGreaterThan(100)
    expect(exported.length).toBeLessThan(400_000)
    for (const l of [exported[0], exported[exported.length - 1]]) expect(() => JSON.parse(l)).not.toThrow()
  })

  it("a second SIGINT exits 130 at once, even while the drain is blocked", async () => {
    // Export to stdout and stop reading it: the exporter's writes block, so the drain cannot finish.
    let sent = false
    const res = await runCli(["-log", "info", "-config", "resources/pipelines/pipeline.telemetry.json", "-driver", "file", big], {
      onSpawn: (child) => {
        const onData = (d: Buffer) => {
          if (!d.toString().includes('{"version"')) return
          child.stdout!.off("data", onData)
          child.stdout!.pause()
          child.kill("SIGINT")
          // Signals of one kind do not queue: the second must come after the first was handled.
          setTimeout(() => {
            sent = true
            child.kill("SIGINT")
            child.stdout!.resume()
          }, 200)
        }
        child.stdout!.on("data", onData)
      }
    })
    expect(sent).toBe(true)
    expect(res.code).toBe(130)
  })
})
