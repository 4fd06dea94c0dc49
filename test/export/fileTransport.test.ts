/**
 * `export: file` on real files: creating the transport only validates; `start` keeps a previous export
 * as `<file>.1` and starts empty; devices, FIFOs and files reached through /proc are written, never
 * moved; unwritable locations and a full disk are clear errors naming the path, and the file never ends
 * inside a line.
 */
import { it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect } from "vitest"
import { makeExporter } from "../support/stages.js"
import type { JsonLinesText } from "../../src/services/export/ExportBatch.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { resolveFileTarget } from "../../src/services/export/transports/FileTarget.js"
import { cutToWholeLine, LineFile, WriteFailure } from "../../src/services/export/transports/LineFile.js"
import { runHardExitHooks } from "../../src/services/lifecycle/HardExit.js"
import { tempDir } from "../support/cli.js"
import { ff } from "../policy/fixtures.js"

const exporter = (filePath: string, extra: Record<string, string> = {}) =>
  makeExporter({ export: "file", format: "json", "file.path": filePath, ...extra }).pipe(Effect.provide(TerminalOutput.capture([])))

/** An exporter whose file was opened, as the CLI does once the whole pipeline loaded. */
const started = (filePath: string, extra: Record<string, string> = {}) =>
  Effect.tap(exporter(filePath, extra), (stage) => stage.start ?? Effect.void)

const types = (file: string) =>
  fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { type: string }).type)

/** Documents as the JSON encoder writes them: bytes, and the end of each line. */
const jsonLines = (docs: ReadonlyArray<string>): JsonLinesText => {
  const bytes = Buffer.from(docs.map((d) => d + "\n").join(""))
  const ends = new Uint32Array(docs.length)
  let at = 0
  docs.forEach((d, i) => (ends[i] = at += Buffer.byteLength(d) + 1))
  return { bytes, ends }
}

const endsWithWholeLine = (file: string) => {
  const text = fs.readFileSync(file, "utf8")
  return text === "" || text.endsWith("\n")
}

describe("file export: the previous run's output", () => {
  it.scoped("creating the transport touches nothing; start keeps the previous export as <file>.1 and starts empty", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const file = path.join(dir, "out.jsonl")
      fs.writeFileSync(file, "previous run\n")
      fs.writeFileSync(`${file}.1`, "older run\n")
      const stage = yield* exporter(file)
      expect(fs.readFileSync(file, "utf8")).toBe("previous run\n")
      expect(fs.readFileSync(`${file}.1`, "utf8")).toBe("older run\n")
      yield* stage.start!
      yield* stage.onChunk([ff(), ff()])
      expect(types(file)).toEqual(["FF", "FF"])
      expect(fs.readFileSync(`${file}.1`, "utf8")).toBe("previous run\n")
      expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("644")
    })
  )

  it.scoped("a missing or empty previous file is simply used (nothing to keep)", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const missing = path.join(dir, "new.jsonl")
      const stage = yield* exporter(missing)
      expect(fs.existsSync(missing)).toBe(false)
      yield* stage.start!
      expect(fs.existsSync(missing)).toBe(true)
      const empty = path.join(dir, "empty.jsonl")
      fs.writeFileSync(empty, "")
      yield* Effect.flatMap(started(empty), (s) => s.onChunk([ff()]))
      expect(types(empty)).toEqual(["FF"])
      expect(fs.readdirSync(dir).sort()).toEqual(["empty.jsonl", "new.jsonl"])
    })
  )

  it.scoped("through a symlink: the file it reaches is kept beside itself, and the link stays", () =>
    Effect.gen(function* () {
      const data = tempDir()
      const links = tempDir()
      const target = path.join(data, "alerts.jsonl")
      const link = path.join(links, "current.jsonl")
      fs.writeFileSync(target, "previous run\n")
      fs.symlinkSync(target, link)
      yield* Effect.flatMap(started(link), (s) => s.onChunk([ff()]))
      expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
      expect(fs.readFileSync(`${target}.1`, "utf8")).toBe("previous run\n")
      expect(types(target)).toEqual(["FF"])
      expect(fs.readdirSync(links)).toEqual(["current.jsonl"])
    })
  )

  it.scoped("a dangling symlink: the file it names is created", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const link = path.join(dir, "link.jsonl")
      fs.symlinkSync("target.jsonl", link)
      yield* Effect.flatMap(started(link), (s) => s.onChunk([ff()]))
      expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
      expect(types(path.join(dir, "target.jsonl"))).toEqual(["FF"])
    })
  )

  it.scoped("a device is written to, never moved (/dev/null)", () =>
    Effect.gen(function* () {
      const stage = yield* started("/dev/null")
      yield* stage.onChunk([ff()])
      expect(fs.statSync("/dev/null").isCharacterDevice()).toBe(true)
      expect(fs.existsSync("/dev/null.1")).toBe(false)
    })
  )

  it.scoped("a FIFO is only opened: its reader gets the records", () =>
    Effect.gen(function* () {
      const fifo = path.join(tempDir(), "out.fifo")
      execFileSync("mkfifo", [fifo])
      const read = new Promise<string>((resolve, reject) => {
        let text = ""
        fs.createReadStream(fifo, "utf8").on("data", (d) => (text += d)).on("end", () => resolve(text)).on("error", reject)
      })
      yield* Effect.scoped(Effect.flatMap(started(fifo), (s) => s.onChunk([ff(), ff()])))
      expect((yield* Effect.promise(() => read)).split("\n").filter((l) => l !== "")).toHaveLength(2)
      expect(fs.statSync(fifo).isFIFO()).toBe(true)
    })
  )

  it.scoped("a file reached through /proc (as /dev/stdout redirected to a file) is appended to, never moved", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "redirected.log")
      fs.writeFileSync(file, "shell output\n")
      const fd = yield* Effect.acquireRelease(Effect.sync(() => fs.openSync(file, "a")), (fd) => Effect.sync(() => fs.closeSync(fd)))
      const viaProc = `/proc/self/fd/${fd}`
      expect(yield* Effect.promise(() => resolveFileTarget(viaProc))).toMatchObject({ viaProc: true })
      yield* Effect.flatMap(started(viaProc), (s) => s.onChunk([ff()]))
      expect(fs.readFileSync(file, "utf8")).toMatch(/^shell output\n\{.*"type":"FF".*\}\n$/)
      expect(fs.existsSync(`${file}.1`)).toBe(false)
    })
  )
})

describe("file export: errors", () => {
  it.scoped("a directory or a missing parent directory is a clear error when the transport is created", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      expect((yield* Effect.flip(exporter(dir))).message).toBe(`file: cannot write to ${dir}: it is a directory`)
      expect((yield* Effect.flip(exporter(path.join(dir, "missing", "out.jsonl")))).message).toMatch(/^file: cannot open .*missing\/out\.jsonl: ENOENT/)
    })
  )

  it.scoped("a read-only location is a clear error when the transport is created", () =>
    Effect.gen(function* () {
      const dir = yield* readOnlyDir
      const err = yield* Effect.flip(exporter(path.join(dir, "out.jsonl")))
      expect(err.message).toMatch(new RegExp(`^file: cannot open ${dir}/out\\.jsonl: (EROFS|EACCES)`))
    })
  )

  it.scoped("a full disk is a clear write error naming the path (/dev/full), with nothing counted as written", () =>
    Effect.gen(function* () {
      const stage = yield* started("/dev/full")
      const err = yield* Effect.flip(stage.onChunk([ff()]))
      expect(err.message).toMatch(/^file: cannot write to \/dev\/full: ENOSPC.*\(0 of 1 records written whole\)$/)
      expect(err).toMatchObject({ _tag: "ExportError", delivered: 0 })
      expect(fs.statSync("/dev/full").isCharacterDevice()).toBe(true)
    })
  )

  it.scoped("a disk that fills mid-batch: the partial last line is cut, the whole ones are counted", () =>
    Effect.gen(function* () {
      const disk = yield* exportToSmallDisk
      if (disk === undefined) return
      const { file, stage } = disk
      const err = yield* Effect.flip(stage.onChunk(Array.from({ length: 400 }, () => ff())))
      expect(err.message).toMatch(/^file: cannot write to .*out\.jsonl: ENOSPC/)
      const written = types(file).length
      expect(written).toBeGreaterThan(0)
      expect(written).toBeLessThan(400)
      expect(err).toMatchObject({ delivered: written })
      expect(endsWithWholeLine(file)).toBe(true)
    })
  )

  it.scoped("small batches (written synchronously) on a disk that fills: the partial last line is cut, the whole ones are counted", () =>
    Effect.gen(function* () {
      const disk = yield* exportToSmallDisk
      if (disk === undefined) return
      const { file, stage } = disk
      let sent = 0
      for (;;) {
        const result = yield* Effect.either(stage.onChunk(Array.from({ length: 10 }, () => ff())))
        if (result._tag === "Right") {
          sent += 10
          continue
        }
        const err = result.left
        expect(err.message).toMatch(/^file: cannot write to .*out\.jsonl: ENOSPC/)
        const written = types(file).length
        expect(written).toBeGreaterThanOrEqual(sent)
        expect(written).toBeLessThan(sent + 10)
        expect(err).toMatchObject({ delivered: written - sent })
        expect(endsWithWholeLine(file)).toBe(true)
        return
      }
    })
  )

  it("a hard exit during a write leaves the file ending with a whole line", async () => {
    const file = path.join(tempDir(), "out.jsonl")
    const target = await resolveFileTarget(file)
    const lineFile = await LineFile.open(target)
    await lineFile.append(jsonLines(['{"first":1}']))
    const big = jsonLines(Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ n: i, pad: "x".repeat(200) })))
    const writing = lineFile.append(big).then(
      () => "written",
      (e: unknown) => (e instanceof WriteFailure ? `failed: ${e.message}` : String(e))
    )
    runHardExitHooks() // as a second signal does, while the write is in flight
    // The hook closed the file's descriptor (the process would exit now): hold its number, so closing
    // the handle below cannot close another file of this test process.
    const placeholder = fs.openSync("/dev/null", "r")
    const outcome = await writing
    await lineFile.close().catch(() => undefined)
    try {
      fs.closeSync(placeholder)
    } catch {
      // it had the same number, closed with the handle
    }
    const text = fs.readFileSync(file, "utf8")
    // The hook lets the write call under way land (the batch is written in calls of 512 KiB), then cuts
    // after the last whole line: the file holds the first line and a prefix of the batch's lines.
    expect(text.startsWith('{"first":1}\n')).toBe(true)
    expect(Buffer.from(big.bytes).toString("utf8").startsWith(text.slice('{"first":1}\n'.length))).toBe(true)
    expect(endsWithWholeLine(file)).toBe(true)
    expect(outcome).toMatch(/^(written|failed: EBADF)/)
  })
})

describe("file export: the hard-exit hook", () => {
  const first = '{"first":1}\n'
  const batch = jsonLines(['{"a":1}', '{"b":22}', '{"c":333}'])

  it("a write that stopped inside a line is cut after the batch's last whole document", () => {
    const file = path.join(tempDir(), "out.jsonl")
    fs.writeFileSync(file, first + Buffer.from(batch.bytes).toString().slice(0, batch.ends[1] + 3))
    const fd = fs.openSync(file, "a")
    cutToWholeLine(fd, { base: first.length, length: batch.bytes.length, ends: batch.ends })
    expect(fs.readFileSync(file, "utf8")).toBe(first + '{"a":1}\n{"b":22}\n')
    expect(() => fs.fstatSync(fd)).toThrow(/EBADF/) // closed: a queued write cannot land after the cut
  })

  it("a batch that landed whole is kept", () => {
    const file = path.join(tempDir(), "out.jsonl")
    fs.writeFileSync(file, first + Buffer.from(batch.bytes).toString())
    cutToWholeLine(fs.openSync(file, "a"), { base: first.length, length: batch.bytes.length, ends: batch.ends })
    expect(fs.readFileSync(file, "utf8")).toBe(first + '{"a":1}\n{"b":22}\n{"c":333}\n')
  })

  it.scoped("is removed when the exporter's scope closes", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "out.jsonl")
      const fiber = yield* Effect.fork(Effect.scoped(Effect.flatMap(started(file), (s) => s.onChunk([ff()]))))
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      runHardExitHooks() // nothing registered any more: the closed file is not touched
      expect(types(file)).toEqual(["FF"])
    })
  )
})

/**
 * A directory nobody may write to: as root (which ignores permissions) a read-only tmpfs mounted for the
 * test, otherwise a directory without write permission.
 */
const readOnlyDir = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = tempDir()
    if (process.getuid?.() !== 0) {
      fs.chmodSync(dir, 0o500)
      return { dir, mounted: false }
    }
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir])
    return { dir, mounted: true }
  }),
  ({ dir, mounted }) => Effect.sync(() => (mounted ? execFileSync("umount", [dir]) : fs.chmodSync(dir, 0o700)))
).pipe(Effect.map(({ dir }) => dir))

/** A 64-KiB tmpfs (undefined, with a note, where mounting is not permitted: run as root to cover it). */
const smallTmpfs = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = tempDir()
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { stdio: "ignore" })
      return dir
    } catch {
      console.warn("skipped: mounting a small tmpfs is not permitted here (needs root)")
      return undefined
    }
  }),
  (dir) => Effect.sync(() => dir !== undefined && execFileSync("umount", [dir]))
)

/** A started file exporter writing to out.jsonl on a 64-KiB tmpfs, or undefined where none can be mounted. */
const exportToSmallDisk = Effect.flatMap(smallTmpfs, (dir) => {
  if (dir === undefined) return Effect.succeed(undefined)
  const file = path.join(dir, "out.jsonl")
  return Effect.map(started(file), (stage) => ({ file, stage }))
})
