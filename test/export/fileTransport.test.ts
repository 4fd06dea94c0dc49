/**
 * `export: file` on real files: each run starts empty; devices and FIFOs are written, never removed;
 * unwritable locations and a full disk are clear errors naming the path.
 */
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect } from "vitest"
import { makeExporter } from "../../src/services/export/Exporter.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { tempDir } from "../support/cli.js"
import { ff } from "../policy/fixtures.js"

const exporter = (filePath: string) =>
  makeExporter({ export: "file", format: "json", "file.path": filePath }).pipe(Effect.provide(TerminalOutput.capture([])))

describe("file export", () => {
  it.scoped("a previous file is replaced: each run starts empty", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "out.jsonl")
      fs.writeFileSync(file, "old content\n")
      const stage = yield* exporter(file)
      yield* stage.onChunk([ff(), ff()])
      expect(fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).type)).toEqual(["FF", "FF"])
      expect((fs.statSync(file).mode & 0o777).toString(8)).toBe("644")
    })
  )

  it.scoped("a device is written to, not deleted (/dev/null)", () =>
    Effect.gen(function* () {
      const stage = yield* exporter("/dev/null")
      yield* stage.onChunk([ff()])
      expect(fs.statSync("/dev/null").isCharacterDevice()).toBe(true)
    })
  )

  it.scoped("a full disk is a clear write error naming the path (/dev/full)", () =>
    Effect.gen(function* () {
      const stage = yield* exporter("/dev/full")
      const err = yield* Effect.flip(stage.onChunk([ff()]))
      expect(err.message).toMatch(/^file: cannot write to \/dev\/full: ENOSPC/)
      expect(fs.statSync("/dev/full").isCharacterDevice()).toBe(true)
    })
  )

  it.scoped("a directory or a missing parent directory is a clear open error", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      expect((yield* Effect.flip(exporter(dir))).message).toBe(`file: cannot write to ${dir}: it is a directory`)
      expect((yield* Effect.flip(exporter(path.join(dir, "missing", "out.jsonl")))).message).toMatch(/^file: cannot open .*missing\/out\.jsonl: ENOENT/)
    })
  )

  it.scoped("a read-only location is a clear open error", () =>
    Effect.gen(function* () {
      const dir = yield* readOnlyDir
      const err = yield* Effect.flip(exporter(path.join(dir, "out.jsonl")))
      expect(err.message).toMatch(new RegExp(`^file: cannot open ${dir}/out\\.jsonl: (EROFS|EACCES)`))
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
