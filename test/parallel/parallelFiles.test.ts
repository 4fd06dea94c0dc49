/**
 * Trace files on worker threads (docs/parallel.md): the same bytes out, the same log lines in the same
 * order, the same counters and exit codes as on one thread; a stop leaves a prefix of the whole output.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { generateSyntheticTrace, writeSampleTrace } from "../../src/services/trace/SampleTraces.js"
import { type CliResult, runCli, tempDir, writePipeline } from "../support/cli.js"

const reader = { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" }
const engine = (mode: string) => ({ processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode, policies: path.resolve("policies/runtimeintegrity") })
const fileExporter = (input: string, out: string, format = "json", extra: Record<string, unknown> = {}) =>
  ({ processor: "exporter", in: input, export: "file", format, "file.path": out, ...extra })

/** Log lines without their timestamps and the summary's timing (trace lines are debugging output: not compared). */
const logLines = (r: CliResult) =>
  (r.stdout + r.stderr)
    .split("\n")
    .filter((l) => l.startsWith("[") && !l.startsWith("[Trace]"))
    .map((l) => l.replace(/^\[(\w+)\] \S+ \S+ /, "[$1] ").replace(/ in [\d.]+ s \([\d,]+\/s\)/, ""))

/** Outputs are compared by length and hash: a failure then prints two short lines, not megabytes. */
const digest = (text: string) => `${text.length} bytes, sha1 ${createHash("sha1").update(text).digest("hex")}`

const run = (workers: number, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  runCli(["-log", "trace", ...args], { env: { SFPROCESSOR_WORKERS: String(workers), ...env } })

let dir: string
let input: string

beforeAll(() => {
  dir = tempDir("sfp-parallel-")
  input = path.join(dir, "traces")
  fs.mkdirSync(input)
  // A large first file (the other worker runs ahead of it and must wait), small and empty-ish ones,
  // several block sizes, and the sample trace (it raises alerts) more than once.
  generateSyntheticTrace(fileSink(path.join(input, "a00.sf")), { records: 30_000, seed: 3 })
  for (let i = 1; i <= 9; i++) generateSyntheticTrace(fileSink(path.join(input, `a0${i}.sf`)), { records: 300 + i * 997, seed: 10 + i, blockSize: 1000 * i })
  for (const name of ["b1.sf", "b2.sf", "c1.sf"]) writeSampleTrace(fileSink(path.join(input, name)))
})

describe("trace files on worker threads", () => {
  it("alerts, JSON and ECS from a directory: the same bytes, log lines and summary with 1, 2 and 3 workers", async () => {
    const results = []
    for (const workers of [1, 2, 3]) {
      const out = tempDir("sfp-parallel-out-")
      const json = path.join(out, "alerts.json")
      const ecs = path.join(out, "all.ecs")
      // The reader tees to two engines: alerts as JSON, every record enriched as ECS.
      const pipeline = writePipeline(out, {
        pipeline: [
          { ...reader, out: ["flat flattenerchan", "flat2 flattenerchan"] },
          { ...engine("alert"), out: "alerts eventchan" },
          fileExporter("alerts eventchan", json),
          { ...engine("enrich"), in: "flat2 flattenerchan", out: "all eventchan" },
          fileExporter("all eventchan", ecs, "ecs")
        ]
      })
      const r = await run(workers, ["-config", pipeline, "-driver", "file", input])
      results.push({ workers, r, json: fs.readFileSync(json, "utf8"), ecs: fs.readFileSync(ecs, "utf8") })
    }
    const [one, ...more] = results
    expect(one.r.code, one.r.stderr).toBe(0)
    expect(one.json.split("\n").length).toBeGreaterThan(100)
    expect(one.r.stdout + one.r.stderr).toContain("Processing on one thread: SFPROCESSOR_WORKERS is 1")
    for (const m of more) {
      expect(m.r.code, m.r.stderr).toBe(0)
      expect(m.r.stdout + m.r.stderr).toContain(`Processing 13 trace files on ${m.workers} worker threads`)
      expect(digest(m.json)).toBe(digest(one.json))
      expect(digest(m.ecs)).toBe(digest(one.ecs))
      expect(logLines(m.r)).toEqual(logLines(one.r))
    }
  })

  it("reader to a file exporter with a buffer: the same bytes; the summary counts every record read", async () => {
    const outs: string[] = []
    for (const workers of [1, 2]) {
      const out = tempDir("sfp-parallel-out-")
      const file = path.join(out, "all.json")
      const pipeline = writePipeline(out, { pipeline: [reader, fileExporter("flat flattenerchan", file, "json", { buffer: 5000 })] })
      const r = await run(workers, ["-config", pipeline, "-driver", "file", input])
      expect(r.code, r.stderr).toBe(0)
      expect(logLines(r).find((l) => l.includes("Summary"))).toMatch(/Summary: [\d,]+ records read, [\d,]+ exported/)
      outs.push(fs.readFileSync(file, "utf8"))
    }
    expect(digest(outs[1])).toBe(digest(outs[0]))
  })

  it("unreadable and truncated files in the middle: the same output, errors in file order, exit 1", async () => {
    const broken = path.join(dir, "broken")
    fs.mkdirSync(broken)
    for (const f of ["a00.sf", "a01.sf", "a02.sf", "b1.sf"]) fs.copyFileSync(path.join(input, f), path.join(broken, f))
    fs.writeFileSync(path.join(broken, "a015.sf"), "this is not an Avro container\n")
    const whole = fs.readFileSync(path.join(input, "a03.sf"))
    fs.writeFileSync(path.join(broken, "a016.sf"), whole.subarray(0, Math.floor(whole.length * 0.6)))
    const results: Array<{ r: CliResult; out: string }> = []
    for (const workers of [1, 2]) {
      const out = tempDir("sfp-parallel-out-")
      const file = path.join(out, "all.json")
      const pipeline = writePipeline(out, { pipeline: [reader, fileExporter("flat flattenerchan", file)] })
      const r = await run(workers, ["-config", pipeline, "-driver", "file", broken])
      results.push({ r, out: fs.readFileSync(file, "utf8") })
    }
    const [one, two] = results
    expect(one.r.code).toBe(1)
    expect(two.r.code).toBe(1)
    expect(digest(two.out)).toBe(digest(one.out))
    expect(logLines(two.r)).toEqual(logLines(one.r))
    const errors = logLines(two.r).filter((l) => l.startsWith("[Error]"))
    expect(errors[0]).toContain("a015.sf")
    expect(errors[1]).toContain("a016.sf")
    expect(errors.at(-1)).toContain("2 trace file(s) could not be read completely")
  })

  it("SIGTERM mid-run: exit 0, and the output is a prefix of the whole run's, ending in a whole line", async () => {
    const big = path.join(dir, "big")
    fs.mkdirSync(big)
    for (let i = 0; i < 6; i++) generateSyntheticTrace(fileSink(path.join(big, `f${i}.sf`)), { records: 15_000, seed: 40 + i })
    const out = tempDir("sfp-parallel-out-")
    const file = path.join(out, "all.json")
    const pipeline = writePipeline(out, { pipeline: [reader, fileExporter("flat flattenerchan", file)] })
    const whole = await run(2, ["-config", pipeline, "-driver", "file", big])
    expect(whole.code, whole.stderr).toBe(0)
    const all = fs.readFileSync(file)
    fs.rmSync(file)
    const cut = await runCli(["-config", pipeline, "-driver", "file", big], {
      env: { SFPROCESSOR_WORKERS: "2" },
      onSpawn: (child) => {
        // Once the output holds about a file's worth, stop.
        const timer = setInterval(() => {
          if (fs.existsSync(file) && fs.statSync(file).size > 10_000_000) {
            clearInterval(timer)
            child.kill("SIGTERM")
          }
        }, 2)
        child.on("exit", () => clearInterval(timer))
      }
    })
    expect(cut.code, cut.stderr).toBe(0)
    const part = fs.readFileSync(file)
    expect(part.length).toBeGreaterThan(0)
    expect(part.length).toBeLessThan(all.length)
    expect(part.at(-1)).toBe(0x0a)
    expect(all.subarray(0, part.length).equals(part), `${part.length} of ${all.length} bytes`).toBe(true)
    // The files read are named in file order, as in the whole run.
    const reading = (r: CliResult) => logLines(r).filter((l) => l.includes("Reading trace file"))
    expect(reading(cut).length).toBeGreaterThan(0)
    expect(reading(whole).slice(0, reading(cut).length)).toEqual(reading(cut))
  })

  it("pipelines that keep state across files run on one thread, and say why under -log trace", async () => {
    const out = tempDir("sfp-parallel-out-")
    const cases: ReadonlyArray<[ReadonlyArray<unknown>, string]> = [
      [[{ ...reader, "filter.enabled": "on" }, fileExporter("flat flattenerchan", path.join(out, "x.json"))], "rate filter"],
      [[reader, { ...engine("alert"), monitor: "local" }, fileExporter("evt eventchan", path.join(out, "y.json"))], "policy reloads"]
    ]
    for (const [stages, why] of cases) {
      const r = await run(2, ["-config", writePipeline(out, { pipeline: stages }), "-driver", "file", input])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout + r.stderr).toContain("Processing on one thread")
      expect(r.stdout + r.stderr).toContain(why)
    }
  })

  it("a bad SFPROCESSOR_WORKERS is a load error naming the variable", async () => {
    const out = tempDir("sfp-parallel-out-")
    const pipeline = writePipeline(out, { pipeline: [reader, fileExporter("flat flattenerchan", path.join(out, "o.json"))] })
    for (const bad of ["zero", "0", "1.5", "65"]) {
      const r = await runCli(["-config", pipeline, "-driver", "file", input], { env: { SFPROCESSOR_WORKERS: bad } })
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`SFPROCESSOR_WORKERS: expected a whole number from 1 to 64 or 'auto', got '${bad}'`)
      expect(fs.existsSync(path.join(out, "o.json"))).toBe(false)
    }
    const auto = await runCli(["-log", "trace", "-config", pipeline, "-driver", "file", input], { env: { SFPROCESSOR_WORKERS: "auto" } })
    expect(auto.code, auto.stderr).toBe(0)
    const cores = os.availableParallelism()
    expect(auto.stdout + auto.stderr).toContain(cores > 1 ? `on ${cores} worker threads` : "SFPROCESSOR_WORKERS is 1")
  })

  it("without SFPROCESSOR_WORKERS a run stays on one thread", async () => {
    const out = tempDir("sfp-parallel-out-")
    const pipeline = writePipeline(out, { pipeline: [reader, fileExporter("flat flattenerchan", path.join(out, "o.json"))] })
    const r = await runCli(["-log", "trace", "-config", pipeline, "-driver", "file", input], { env: { SFPROCESSOR_WORKERS: "" } })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).toContain("Processing on one thread: SFPROCESSOR_WORKERS is 1")
  })
})
