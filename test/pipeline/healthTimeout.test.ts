/**
 * The load's 10-s health-check deadline (pipeline.md §6, P5) on Effect's Clock, driven by TestClock: a
 * plugin processor whose test() never answers fails the load with the reference's message after 10 s
 * of TestClock time, with no real waiting. The plugin is a real module in a temp plugin directory.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Logger, Option, TestClock } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { MainLive } from "../../src/layers/MainLive.js"
import { loadPipeline } from "../../src/services/pipeline/PipelineLoader.js"
import { tempDir, writePipeline } from "../support/cli.js"

const hangingPlugin = `
class Hang {
  getName() { return "hang" }
  init() {}
  setOutChan() {}
  async process() {}
  async cleanup() {}
  test() { return new Promise(() => {}) } // never answers
}
export const Plugin = { register(pc) { pc.addProcessor("hang", () => new Hang()) } }
`

/** Real time passing (module loading), outside the TestClock. */
const realPause = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** Waits (in real time) until something sleeps until `at` on the TestClock, while `fiber` runs. */
const sleepingUntil = (at: number, fiber: Fiber.Fiber<unknown, unknown>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000; i++) {
      if (Chunk.some(yield* TestClock.sleeps(), (t) => t === at)) return
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return yield* Effect.die(new Error(`ended before sleeping until ${at}: ${JSON.stringify(done.value)}`))
      yield* realPause(5)
    }
    return yield* Effect.die(new Error(`nothing sleeps until ${at}`))
  })

describe("health-check deadline (TestClock)", () => {
  it.scoped("a health check that never answers fails the load after 10 s: 'Health checks timed out:  context deadline exceeded'", () => {
    const logs: string[] = []
    const logger = Logger.make(({ message }) => void logs.push((Array.isArray(message) ? message : [message]).join(" ")))
    return Effect.gen(function* () {
      const dir = tempDir()
      const plugdir = path.join(dir, "plugins")
      fs.mkdirSync(plugdir)
      fs.writeFileSync(path.join(plugdir, "hang.mjs"), hangingPlugin)
      const config = writePipeline(dir, {
        pipeline: [
          { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
          { processor: "hang", in: "flat flattenerchan" }
        ]
      })
      const loading = yield* Effect.fork(
        loadPipeline({ configPath: config, driver: "file", env: {}, plugdir, driverdir: "", input: path.join(dir, "trace.sf") }).pipe(Effect.provide(MainLive))
      )
      yield* sleepingUntil(10_000, loading)
      yield* TestClock.adjust("9999 millis")
      expect(Option.isNone(yield* Fiber.poll(loading))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const error = yield* Effect.flip(Fiber.join(loading))
      expect(error.message).toBe("Health checks timed out:  context deadline exceeded")
      expect(logs).toContain("Health checks timed out:  context deadline exceeded")
    }).pipe(Effect.provide(Layer.merge(TerminalOutput.capture([]), Logger.replace(Logger.defaultLogger, logger))))
  })
})
