import { it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { describe, expect } from "vitest"
import { type Channel, chunks, close, makeChannel, send, takeChunk, trySend } from "../../src/services/kernel/Channel.js"

/** Lets other fibers run until the channel's reader waits for a send. */
const readerWaits = (ch: Channel<number>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000 && ch.state.waiting === undefined; i++) yield* Effect.yieldNow()
    expect(ch.state.waiting).toBeDefined()
  })

// A channel's reader takes what is queued without waiting and, on an empty channel, waits for the writer's
// wake-up (Channel.ts): these pin that no send, close or end is missed, and that backpressure holds.
describe("channel hand-over", () => {
  it.effect("a stream reader waiting on an empty channel gets what is sent later, in order, up to the close", () =>
    Effect.gen(function* () {
      const ch = yield* makeChannel<number>("c", "t")
      const reader = yield* Effect.fork(Stream.runCollect(chunks(ch)))
      yield* readerWaits(ch)
      yield* send(ch, [1, 2])
      yield* readerWaits(ch)
      yield* send(ch, [3])
      expect(trySend(ch, [4])).toBe(true)
      yield* close(ch)
      expect([...(yield* Fiber.join(reader))]).toEqual([[1, 2], [3], [4]])
      expect(ch.state.ended).toBe(true)
      expect(ch.state.sent).toBe(4)
    })
  )

  it.effect("a close while the reader waits ends its stream; a channel read to its end yields nothing more", () =>
    Effect.gen(function* () {
      const ch = yield* makeChannel<number>("c", "t")
      const reader = yield* Effect.fork(Stream.runCollect(chunks(ch)))
      yield* readerWaits(ch)
      yield* close(ch)
      expect([...(yield* Fiber.join(reader))]).toEqual([])
      expect([...(yield* Stream.runCollect(chunks(ch)))]).toEqual([])
      expect(yield* takeChunk(ch)).toBeUndefined()
    })
  )

  it.effect("a reader interrupted while it waits leaves the channel to the next reader, which misses nothing", () =>
    Effect.gen(function* () {
      const ch = yield* makeChannel<number>("c", "t")
      const first = yield* Effect.fork(takeChunk(ch))
      yield* readerWaits(ch)
      yield* Fiber.interrupt(first)
      const stale = ch.state.waiting
      // The runner's drain after a failed stage reads the same channel with a new stream, which waits in turn.
      const next = yield* Effect.fork(Stream.runCollect(chunks(ch)))
      for (let i = 0; i < 1000 && ch.state.waiting === stale; i++) yield* Effect.yieldNow()
      expect(ch.state.waiting).not.toBe(stale)
      yield* send(ch, [7])
      yield* close(ch)
      expect([...(yield* Fiber.join(next))]).toEqual([[7]])
    })
  )

  it.effect("a writer waits while the channel is full and goes on once the reader takes; nothing is lost", () =>
    Effect.gen(function* () {
      // Room for two chunks (the smallest channel).
      const ch = yield* makeChannel<number>("c", "t", 1)
      const writer = yield* Effect.fork(
        Effect.gen(function* () {
          for (let i = 0; i < 5; i++) yield* send(ch, [i])
          yield* close(ch)
        })
      )
      yield* Effect.yieldNow()
      expect(writer.unsafePoll()).toBeNull()
      expect(trySend(ch, [99])).toBe(false)
      const got: Array<ReadonlyArray<number>> = []
      for (let c = yield* takeChunk(ch); c !== undefined; c = yield* takeChunk(ch)) got.push(c)
      yield* Fiber.join(writer)
      expect(got).toEqual([[0], [1], [2], [3], [4]])
    })
  )
})
