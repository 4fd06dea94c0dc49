/**
 * The `file` driver under operating faults, through the built CLI (issue 10 §2, §3): FIFOs nobody writes
 * to, bad files inside a collector directory, a missing input, a block header that claims gigabytes.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { SysFlowSchemaV4 } from "../../src/domain/avroSchema.js"
import { encodeHeader, fileSink, syncMarker } from "../../src/services/avro/OcfWriter.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { zigzag } from "../fuzz/support.js"
import { type CliResult, fileExportPipeline, lines, runCli, tempDir, writePipeline } from "../support/cli.js"

/** Generous: the CLI starts in about a second; a stop must not wait for anything else. */
const STOP_DEADLINE_MS = 10_000

/** The Summary line's error count. */
const summaryErrors = (res: CliResult): number => {
  const m = /Summary: .* (\d[\d,]*) errors/.exec(res.stdout)
  expect(m, `no Summary line in:\n${res.stdout}`).not.toBeNull()
  return Number(m![1].replace(/,/g, ""))
}

/** Runs the CLI; once its stdout matches `ready`, sends SIGTERM and records how long it took to exit. */
const runUntilThenStop = async (args: ReadonlyArray<string>, ready: RegExp) => {
  let stoppedAt = 0
  let out = ""
  const res = await runCli(args, {
    onSpawn: (child: ChildProcess) => {
      child.stdout!.on("data", (d: Buffer | string) => {
        out += String(d)
        if (stoppedAt === 0 && ready.test(out)) {
          stoppedAt = Date.now()
          child.kill("SIGTERM")
        }
      })
      // Never let a hang outlive the test: a kill after the deadline shows up as signal SIGKILL.
      const guard = setTimeout(() => child.kill("SIGKILL"), 30_000)
      child.on("exit", () => clearTimeout(guard))
    }
  })
  return { res, stoppedAt, exitedAfterMs: Date.now() - stoppedAt }
}

describe("file driver: FIFOs with no writer (a stop always stops the run)", () => {
  it("the input path is a FIFO nobody writes to: SIGTERM ends the run with exit 0", async () => {
    const dir = tempDir()
    const fifo = path.join(dir, "trace.fifo")
    execFileSync("mkfifo", [fifo])
    const out = path.join(dir, "out.jsonl")
    const { exitedAfterMs, res, stoppedAt } = await runUntilThenStop(
      ["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", fifo],
      /Reading trace file .*trace\.fifo/
    )
    expect(stoppedAt).toBeGreaterThan(0)
    expect(res.signal).toBeNull()
    expect(res.code).toBe(0)
    expect(exitedAfterMs).toBeLessThan(STOP_DEADLINE_MS)
    expect(summaryErrors(res)).toBe(0)
  })

  it("a FIFO inside a directory: the files before it are exported, SIGTERM ends the run with exit 0", async () => {
    const dir = tempDir()
    const traces = path.join(dir, "traces")
    fs.mkdirSync(traces)
    generateSyntheticTrace(fileSink(path.join(traces, "a.sf")), { records: 300, seed: 5 })
    execFileSync("mkfifo", [path.join(traces, "b.fifo")])
    generateSyntheticTrace(fileSink(path.join(traces, "c.sf")), { records: 300, seed: 6 })
    const aOnly = path.join(dir, "a.jsonl")
    expect((await runCli(["-config", writePipeline(dir, fileExportPipeline(aOnly), "a.json"), "-driver", "file", path.join(traces, "a.sf")])).code).toBe(0)
    const out = path.join(dir, "out.jsonl")
    const { exitedAfterMs, res } = await runUntilThenStop(
      ["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", traces],
      /Reading trace file .*b\.fifo/
    )
    expect(res.signal).toBeNull()
    expect(res.code).toBe(0)
    expect(exitedAfterMs).toBeLessThan(STOP_DEADLINE_MS)
    expect(lines(out)).toEqual(lines(aOnly))
    expect(res.stdout).not.toMatch(/Reading trace file .*c\.sf/)
  })

  it("a FIFO that gets a writer is read to its end, in a directory between two files", async () => {
    const dir = tempDir()
    const traces = path.join(dir, "traces")
    fs.mkdirSync(traces)
    generateSyntheticTrace(fileSink(path.join(traces, "a.sf")), { records: 200, seed: 7 })
    const bSource = path.join(dir, "b.src")
    generateSyntheticTrace(fileSink(bSource), { records: 5000, seed: 8 })
    const fifo = path.join(traces, "b.fifo")
    execFileSync("mkfifo", [fifo])
    generateSyntheticTrace(fileSink(path.join(traces, "c.sf")), { records: 200, seed: 9 })
    // The same files, all regular, give the expected export.
    const plain = path.join(dir, "plain")
    fs.mkdirSync(plain)
    for (const [from, to] of [[path.join(traces, "a.sf"), "a.sf"], [bSource, "b.sf"], [path.join(traces, "c.sf"), "c.sf"]]) {
      fs.copyFileSync(from, path.join(plain, to))
    }
    const expectedOut = path.join(dir, "expected.jsonl")
    expect((await runCli(["-config", writePipeline(dir, fileExportPipeline(expectedOut), "p1.json"), "-driver", "file", plain])).code).toBe(0)

    // The writer's open waits for the reader: it writes once the driver reaches the FIFO.
    const writer = spawn("sh", ["-c", "exec cat \"$1\" > \"$2\"", "sh", bSource, fifo], { stdio: "ignore" })
    try {
      const out = path.join(dir, "out.jsonl")
      const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out), "p2.json"), "-driver", "file", traces])
      expect(res.code).toBe(0)
      expect(lines(out)).toEqual(lines(expectedOut))
    } finally {
      if (writer.exitCode === null) writer.kill()
    }
  })
})

describe("file driver: bad files in a directory are reported, counted and skipped (P16, X1)", () => {
  const dir = tempDir("sfp-baddir-")
  const good1 = path.join(dir, "good1.sf")
  const good2 = path.join(dir, "good2.sf")
  const expected: string[] = []
  beforeAll(async () => {
    generateSyntheticTrace(fileSink(good1), { records: 1500, seed: 11 })
    generateSyntheticTrace(fileSink(good2), { records: 1500, seed: 12 })
    for (const [i, f] of [good1, good2].entries()) {
      const out = path.join(dir, `expected${i}.jsonl`)
      const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out), `expected${i}.json`), "-driver", "file", f])
      expect(res.code).toBe(0)
      expected.push(...lines(out))
    }
  })

  /** A directory with good1, the `bad` entries (made by `make`), then good2, in name order. */
  const runDirectory = async (make: (traces: string) => void) => {
    const run = tempDir()
    const traces = path.join(run, "traces")
    fs.mkdirSync(traces)
    fs.copyFileSync(good1, path.join(traces, "1-good"))
    make(traces)
    fs.copyFileSync(good2, path.join(traces, "3-good"))
    const out = path.join(run, "out.jsonl")
    const res = await runCli(["-config", writePipeline(run, fileExportPipeline(out)), "-driver", "file", traces])
    return { res, out, traces }
  }

  it("good, junk, good: both good files are exported in order, the junk file is named with its offset, 1 error, exit 1", async () => {
    const { out, res, traces } = await runDirectory((t) => fs.writeFileSync(path.join(t, "2-junk"), "this is not a trace\n".repeat(50)))
    expect(res.code).toBe(1)
    expect(lines(out)).toEqual(expected)
    expect(res.stderr).toContain(`Reader error: ${path.join(traces, "2-junk")}: bad Avro container header at byte offset 0: not an Avro object container file (bad magic)`)
    expect(summaryErrors(res)).toBe(1)
    expect(res.stderr).toMatch(/1 trace file\(s\) could not be read completely: .*2-junk/)
  })

  it("entries that cannot be read (a sub-directory, a dangling symlink, a header cut short, an unreadable schema) are each an error; the good files are exported", async () => {
    const { out, res, traces } = await runDirectory((t) => {
      fs.mkdirSync(path.join(t, "2a-subdir"))
      fs.symlinkSync(path.join(t, "gone"), path.join(t, "2b-dangling"))
      fs.writeFileSync(path.join(t, "2c-cut"), fs.readFileSync(good1).subarray(0, 100))
      // An Avro container whose schema is not a SysFlow schema.
      fs.writeFileSync(path.join(t, "2d-schema"), encodeHeader({ schema: { type: "record", name: "x", fields: [] }, codec: "null", sync: syncMarker("s") }))
    })
    expect(res.code).toBe(1)
    expect(lines(out)).toEqual(expected)
    expect(res.stderr).toContain(`Reader error: ${path.join(traces, "2a-subdir")}: cannot open trace at byte offset 0: EISDIR`)
    expect(res.stderr).toContain(`Reader error: ${path.join(traces, "2b-dangling")}: cannot open trace at byte offset 0: ENOENT`)
    expect(res.stderr).toContain(`Reader error: ${path.join(traces, "2c-cut")}: bad Avro container header at byte offset 100: truncated header`)
    expect(res.stderr).toContain(`Reader error: ${path.join(traces, "2d-schema")}: unsupported writer schema at byte offset 0: not a SysFlow schema`)
    expect(summaryErrors(res)).toBe(4)
  })

  it("a single junk file as the path: an error naming the file and offset, exit 1", async () => {
    const run = tempDir()
    const junk = path.join(run, "junk.sf")
    fs.writeFileSync(junk, "junk")
    const res = await runCli(["-config", writePipeline(run, fileExportPipeline(path.join(run, "out.jsonl"))), "-driver", "file", junk])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`${junk}: bad Avro container header at byte offset 0: not an Avro object container file (bad magic)`)
    expect(summaryErrors(res)).toBe(1)
  })
})

describe("file driver: the input is checked when the driver is initialised, before any output is touched", () => {
  it.each([
    ["a missing path", (dir: string) => path.join(dir, "nonexistent.sf"), /no such file or directory.*nonexistent\.sf/],
    ["an empty directory", (dir: string) => fs.mkdtempSync(path.join(dir, "empty-")), /No files present in directory: .*empty-/]
  ])("%s is exit 1 and the previous export is untouched", async (_name, input, error) => {
    const dir = tempDir()
    const out = path.join(dir, "out.jsonl")
    fs.writeFileSync(out, "{\"previous\":\"run\"}\n")
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", input(dir)])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(error)
    expect(fs.readFileSync(out, "utf8")).toBe("{\"previous\":\"run\"}\n")
  })
})

describe("file driver: block bounds", () => {
  it("a block header claiming 4 GiB is refused with the file and offset, without allocating it", async () => {
    const dir = tempDir()
    const header = encodeHeader({ schema: SysFlowSchemaV4, codec: "deflate", sync: syncMarker("claim") })
    const trace = path.join(dir, "claim.sf")
    // Enough bytes after the claim that buffering them would show (the reader used to buffer the whole file).
    fs.writeFileSync(trace, Buffer.concat([header, zigzag(1000n), zigzag(4n << 30n), Buffer.alloc(64 << 20)]))
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(path.join(dir, "out.jsonl"))), "-driver", "file", trace])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(new RegExp(`${trace}: corrupt or truncated block at byte offset ${header.length}: block of 4294967296 bytes, more than the \\d+ allowed`))
  })
})
