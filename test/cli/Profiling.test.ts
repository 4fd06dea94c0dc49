import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ProfileError, startProfiling } from "../../src/services/Profiling.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfprofile-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const busy = Effect.sync(() => {
  let x = 0
  for (let i = 0; i < 2e6; i++) x += Math.sqrt(i)
  return x
})

describe("profiling", () => {
  it("creates the files up front and writes CPU, trace and heap profiles when the scope closes", async () => {
    const files = {
      cpuprofile: path.join(dir, "run.cpuprofile"),
      traceprofile: path.join(dir, "run.trace.json"),
      memprofile: path.join(dir, "run.heapsnapshot")
    }
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          yield* startProfiling(files)
          for (const file of Object.values(files)) expect(fs.existsSync(file)).toBe(true)
          yield* busy
        })
      )
    )
    const cpu = JSON.parse(fs.readFileSync(files.cpuprofile, "utf8"))
    expect(Array.isArray(cpu.nodes) && cpu.nodes.length > 0).toBe(true)
    expect(cpu.endTime).toBeGreaterThan(cpu.startTime)

    const trace = JSON.parse(fs.readFileSync(files.traceprofile, "utf8"))
    expect(Array.isArray(trace.traceEvents)).toBe(true)
    expect(trace.traceEvents.length).toBeGreaterThan(0)

    const fd = fs.openSync(files.memprofile, "r")
    const head = Buffer.alloc(64)
    fs.readSync(fd, head, 0, 64, 0)
    fs.closeSync(fd)
    expect(head.toString("utf8")).toMatch(/^\{\s*"snapshot"\s*:/)
  })

  it("does nothing without profile flags", async () => {
    await Effect.runPromise(Effect.scoped(startProfiling({ cpuprofile: "", traceprofile: "", memprofile: "" })))
  })

  it("fails with the reference's message when a file cannot be created", async () => {
    const missing = path.join(dir, "no", "such", "dir", "x.prof")
    for (const [flag, text] of [
      ["cpuprofile", "Could not create CPU profile:  "],
      ["traceprofile", "Could not create trace profile:  "],
      ["memprofile", "Could not create memory profile:  "]
    ] as const) {
      const exit = await Effect.runPromiseExit(
        Effect.scoped(startProfiling({ cpuprofile: "", traceprofile: "", memprofile: "", [flag]: missing }))
      )
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        expect(error).toBeInstanceOf(ProfileError)
        expect(error?.message.startsWith(text)).toBe(true)
        expect(error?.message).toContain("ENOENT")
      }
    }
  })
})
