import { it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { describe, expect } from "vitest"
import { type Channel, makeChannel, send } from "../../src/services/pipeline/Channel.js"
import { type RunnableDriver, type RunnableStage, startPipeline, streamStage } from "../../src/services/pipeline/Runner.js"
import type { Stage } from "../../src/services/pipeline/Stage.js"

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)

/** A driver that sends `chunks` chunks of 100 numbers, optionally failing after them. */
const counter = (out: Channel<unknown>, chunks: number, failWith?: string): RunnableDriver => ({
  name: "counter",
  output: out,
  run: (ch) =>
    Effect.gen(function* () {
      for (let c = 0; c < chunks; c++) yield* send(ch, range(c * 100, 100))
      if (failWith !== undefined) return yield* Effect.fail(failWith)
    })
})

/** A sink that collects everything, flushing a pending tail only in onEnd (like the exporter). */
const collector = (sink: number[]): Stage<number, never, never> => {
  let pending: number[] = []
  return {
    name: "collector",
    onChunk: (chunk) =>
      Effect.sync(() => {
        pending.push(...chunk)
        if (pending.length >= 250) {
          sink.push(...pending)
          pending = []
        }
        return []
      }),
    onEnd: Effect.sync(() => {
      sink.push(...pending)
      pending = []
      return []
    })
  }
}

const doubler: Stage<number, number, never> = {
  name: "doubler",
  onChunk: (chunk) => Effect.succeed(chunk.map((x) => x * 2)),
  onEnd: Effect.succeed([])
}

const runnable = (stage: Stage<never, unknown, unknown>, input: Channel<unknown>, outputs: Channel<unknown>[]): RunnableStage =>
  streamStage(stage as Stage<unknown, unknown, unknown>, input, outputs)

describe("pipeline runner", () => {
  it.effect("delivers every record in order, flushing the sink's tail on end of input", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const mid = yield* makeChannel<unknown>("mid", "t", 300)
      const got: number[] = []
      const run = yield* startPipeline(
        [counter(root, 51)],
        [runnable(doubler, root, [mid]), runnable(collector(got) as never, mid, [])]
      )
      yield* run.done
      expect(got).toEqual(range(0, 5100).map((x) => x * 2))
    })
  )

  it.effect("fan-out sends the same chunks to both branches", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const l = yield* makeChannel<unknown>("l", "t", 300)
      const r = yield* makeChannel<unknown>("r", "t", 300)
      const a: number[] = []
      const b: number[] = []
      const run = yield* startPipeline(
        [counter(root, 20)],
        [runnable(doubler, root, [l, r]), runnable(collector(a) as never, l, []), runnable(collector(b) as never, r, [])]
      )
      yield* run.done
      expect(a).toEqual(range(0, 2000).map((x) => x * 2))
      expect(b).toEqual(a)
    })
  )

  it.effect("stop ends the driver; everything it had sent is still delivered", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const sent: number[] = []
      const started = yield* Deferred.make<void>()
      const endless: RunnableDriver = {
        name: "endless",
        output: root,
        run: (ch) =>
          Effect.gen(function* () {
            for (let c = 0; ; c++) {
              const chunk = range(c * 10, 10)
              yield* send(ch, chunk)
              sent.push(...chunk)
              if (c === 5) yield* Deferred.succeed(started, undefined)
              yield* Effect.yieldNow()
            }
          })
      }
      const got: number[] = []
      const run = yield* startPipeline([endless], [runnable(collector(got) as never, root, [])])
      yield* Deferred.await(started)
      yield* run.stop
      yield* run.done
      expect(got.length).toBeGreaterThan(0)
      expect(got).toEqual(sent)
    })
  )

  it.effect("a driver error drains what was accepted, then fails the run", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const got: number[] = []
      const run = yield* startPipeline([counter(root, 7, "bad block")], [runnable(collector(got) as never, root, [])])
      const result = yield* Effect.flip(run.done)
      expect(result).toBe("bad block")
      expect(got).toEqual(range(0, 700))
    })
  )

  it.effect("a failing stage stops the driver, upstream does not block, downstream flushes", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 200)
      const mid = yield* makeChannel<unknown>("mid", "t", 200)
      let seen = 0
      const flaky: Stage<number, number, string> = {
        name: "flaky",
        onChunk: (chunk) => (++seen === 3 ? Effect.fail("disk full") : Effect.succeed(chunk)),
        onEnd: Effect.succeed([])
      }
      const got: number[] = []
      const run = yield* startPipeline(
        [counter(root, 1000)],
        [runnable(flaky as never, root, [mid]), runnable(collector(got) as never, mid, [])]
      )
      const err = yield* Effect.flip(run.done)
      expect(err).toBe("disk full")
      expect(got).toEqual(range(0, 200))
    })
  )
})

describe("pipeline runner: failures at the end of input", () => {
  it.effect("a stage whose final flush fails still ends the run (no hang) with that error", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const failingFlush: Stage<number, never, string> = {
        name: "exporter",
        onChunk: () => Effect.succeed([]),
        onEnd: Effect.fail("final write failed")
      }
      const run = yield* startPipeline([counter(root, 3)], [runnable(failingFlush as never, root, [])])
      expect(yield* Effect.flip(run.done)).toBe("final write failed")
    })
  )
})
