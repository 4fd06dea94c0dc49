import { it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { describe, expect } from "vitest"
import { DriverError, ExportError } from "../../src/domain/errors.js"
import { type Channel, depth, makeChannel, send, takeChunk } from "../../src/services/kernel/Channel.js"
import { type RunnableDriver, type RunnableStage, startPipeline, streamStage } from "../../src/services/kernel/Runner.js"
import type { Stage } from "../../src/services/kernel/Stage.js"

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)

/** A driver that sends `chunks` chunks of 100 numbers, optionally failing after them. */
const counter = (out: Channel<unknown>, chunks: number, failWith?: string): RunnableDriver => ({
  name: "counter",
  output: out,
  run: Effect.gen(function* () {
    for (let c = 0; c < chunks; c++) yield* send(out, range(c * 100, 100))
    if (failWith !== undefined) return yield* new DriverError({ reason: "Run", driver: "counter", detail: failWith })
  })
})

/** A stage's failure, as the exporter reports one. */
const writeError = (detail: string) => new ExportError({ reason: "Write", transport: "test", detail })

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

const runnable = <I, O>(stage: Stage<I, O, ExportError>, input: Channel<unknown>, outputs: Channel<unknown>[]): RunnableStage =>
  streamStage(stage, input as Channel<I>, outputs as Channel<O>[])

describe("pipeline runner", () => {
  it.scoped("delivers every record in order, flushing the sink's tail on end of input", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const mid = yield* makeChannel<unknown>("mid", "t", 300)
      const got: number[] = []
      const run = yield* startPipeline(
        [counter(root, 51)],
        [runnable(doubler, root, [mid]), runnable(collector(got), mid, [])]
      )
      yield* run.done
      expect(got).toEqual(range(0, 5100).map((x) => x * 2))
    })
  )

  it.scoped("fan-out sends the same chunks to both branches", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const l = yield* makeChannel<unknown>("l", "t", 300)
      const r = yield* makeChannel<unknown>("r", "t", 300)
      const a: number[] = []
      const b: number[] = []
      const run = yield* startPipeline(
        [counter(root, 20)],
        [runnable(doubler, root, [l, r]), runnable(collector(a), l, []), runnable(collector(b), r, [])]
      )
      yield* run.done
      expect(a).toEqual(range(0, 2000).map((x) => x * 2))
      expect(b).toEqual(a)
    })
  )

  it.scoped("stop ends the driver; everything it had sent is still delivered", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const sent: number[] = []
      const started = yield* Deferred.make<void>()
      const endless: RunnableDriver = {
        name: "endless",
        output: root,
        run: Effect.gen(function* () {
            for (let c = 0; ; c++) {
              const chunk = range(c * 10, 10)
              yield* send(root, chunk)
              sent.push(...chunk)
              if (c === 5) yield* Deferred.succeed(started, undefined)
              yield* Effect.yieldNow()
            }
          })
      }
      const got: number[] = []
      const run = yield* startPipeline([endless], [runnable(collector(got), root, [])])
      yield* Deferred.await(started)
      yield* run.stop
      yield* run.done
      expect(got.length).toBeGreaterThan(0)
      expect(got).toEqual(sent)
    })
  )

  it.scoped("a driver error drains what was accepted, then fails the run", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const got: number[] = []
      const run = yield* startPipeline([counter(root, 7, "bad block")], [runnable(collector(got), root, [])])
      const result = yield* Effect.flip(run.done)
      expect(result.message).toBe("bad block")
      expect(got).toEqual(range(0, 700))
    })
  )

  it.scoped("a failing stage stops the driver, upstream does not block, downstream flushes", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 200)
      const mid = yield* makeChannel<unknown>("mid", "t", 200)
      let seen = 0
      const flaky: Stage<number, number, ExportError> = {
        name: "flaky",
        onChunk: (chunk) => (++seen === 3 ? Effect.fail(writeError("disk full")) : Effect.succeed(chunk)),
        onEnd: Effect.succeed([])
      }
      const got: number[] = []
      const run = yield* startPipeline(
        [counter(root, 1000)],
        [runnable(flaky, root, [mid]), runnable(collector(got), mid, [])]
      )
      const err = yield* Effect.flip(run.done)
      expect(err.detail).toBe("disk full")
      expect(got).toEqual(range(0, 200))
    })
  )
})

describe("pipeline runner: failures at the end of input", () => {
  it.scoped("a stage whose final flush fails still ends the run (no hang) with that error", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const failingFlush: Stage<number, never, ExportError> = {
        name: "exporter",
        onChunk: () => Effect.succeed([]),
        onEnd: Effect.fail(writeError("final write failed"))
      }
      const run = yield* startPipeline([counter(root, 3)], [runnable(failingFlush, root, [])])
      expect((yield* Effect.flip(run.done)).detail).toBe("final write failed")
    })
  )
})

/**
 * Issue 10 §1: a run that waits on no I/O must still let the event loop turn (signals, /healthz). The
 * stop here comes from a timer, a macrotask: without turns it would fire only after the input ended.
 */
describe("pipeline runner: the event loop keeps turning while a run is busy", () => {
  /** Calls `stop` from a timer once the run has started; resolves with whether the timer had fired. */
  const stopFromTimer = (stop: Effect.Effect<void>) => {
    let fired = false
    const timer = setTimeout(() => {
      fired = true
      Effect.runFork(stop)
    }, 0)
    return { fired: () => fired, cancel: () => clearTimeout(timer) }
  }

  it.scoped("a driver and stages that only pass chunks along are stopped by a timer long before the input ends", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      const mid = yield* makeChannel<unknown>("mid", "t", 300)
      const total = 100_000
      const sent: number[] = []
      const busy: RunnableDriver = {
        name: "busy",
        output: root,
        run: Effect.gen(function* () {
            for (let c = 0; c < total; c++) {
              const chunk = range(c * 10, 10)
              yield* send(root, chunk)
              sent.push(...chunk)
            }
          })
      }
      const got: number[] = []
      const run = yield* startPipeline([busy], [runnable(doubler, root, [mid]), runnable(collector(got), mid, [])])
      const timer = stopFromTimer(run.stop)
      yield* run.done
      timer.cancel()
      expect(timer.fired()).toBe(true)
      expect(sent.length).toBeLessThan(total * 10)
      // Everything the driver had sent before the stop went through, in order (the chunk whose send
      // the stop interrupted may have been accepted too).
      expect(got.length).toBeGreaterThanOrEqual(sent.length)
      expect(got).toEqual(range(0, got.length).map((x) => x * 2))
    })
  )

  it.scoped("a driver that never suspends (no channel wait, no I/O) still yields to a timer that stops it", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<unknown>("root", "t", 300)
      // Fewer operations than Effect's default scheduler runs before it falls back to a timer itself.
      const limit = 1_000_000
      let steps = 0
      const spinning: RunnableDriver = {
        name: "spinning",
        output: root,
        run: Effect.whileLoop({ while: () => steps < limit, body: () => Effect.sync(() => steps++), step: () => undefined })
      }
      const run = yield* startPipeline([spinning], [runnable(collector([]), root, [])])
      const timer = stopFromTimer(run.stop)
      yield* run.done
      timer.cancel()
      expect(timer.fired()).toBe(true)
      expect(steps).toBeLessThan(limit)
    })
  )
})

describe("channel depth (the sfprocessor_channel_queued_chunks gauge)", () => {
  it.scoped("counts queued chunks, and is 0, never negative, while the reader waits on an empty channel", () =>
    Effect.gen(function* () {
      const ch = yield* makeChannel<number>("flat", "t", 300)
      yield* send(ch, [1, 2])
      yield* send(ch, [3])
      expect(yield* depth(ch)).toBe(2)
      expect(yield* takeChunk(ch)).toEqual([1, 2])
      expect(yield* takeChunk(ch)).toEqual([3])
      const reader = yield* Effect.fork(takeChunk(ch))
      yield* Effect.yieldNow()
      expect(yield* depth(ch)).toBe(0)
      yield* send(ch, [4])
      expect(yield* Fiber.join(reader)).toEqual([4])
    })
  )
})
