/**
 * A pipeline channel (`"<name> <type>"` in pipeline.json): a bounded queue of chunks with exactly one
 * writer and one reader. Backpressure is per chunk; the per-record work stays a plain loop. The writer
 * ends the stream with `close`, after which the reader drains what is queued and stops.
 */
import { Effect, Queue, Stream } from "effect"

/** Records per chunk the built-in stages aim for. */
export const CHUNK_SIZE = 2048

/**
 * Records a channel holds before its writer waits. The reference allows 100000; what a channel holds
 * stays in the old generation of the heap and is paid for in GC time and RSS, and a few chunks are
 * enough to keep every stage busy (compatibility row X2).
 */
export const CHANNEL_CAPACITY = 4 * CHUNK_SIZE

const END: unique symbol = Symbol("end of stream")
type Item<A> = ReadonlyArray<A> | typeof END

export interface Channel<A> {
  readonly name: string
  readonly type: string
  readonly queue: Queue.Queue<Item<A>>
  /**
   * `closed`: set by the first `close` (later closes do nothing); `ended`: the reader saw the end;
   * `sent`: records sent so far (for progress and the summary).
   */
  readonly state: { closed: boolean; ended: boolean; sent: number }
}

/**
 * A channel whose element type its holder does not need: the runner drains, closes and samples
 * channels whatever they carry; the stages and drivers that read and write them are typed.
 */
// biome-ignore lint: `any` is the existential element type here, not an escape from checking.
export type SomeChannel = Channel<any>

/** A channel holding about `capacity` records (in chunks of CHUNK_SIZE). */
export const makeChannel = <A>(name: string, type: string, capacity = CHANNEL_CAPACITY): Effect.Effect<Channel<A>> =>
  Effect.map(Queue.bounded<Item<A>>(Math.max(2, Math.ceil(capacity / CHUNK_SIZE))), (queue) => ({
    name,
    type,
    queue,
    state: { closed: false, ended: false, sent: 0 }
  }))

/** Sends a chunk, waiting while the channel is full. Empty chunks are not sent. */
export const send = <A>(ch: Channel<A>, chunk: ReadonlyArray<A>): Effect.Effect<void> =>
  chunk.length === 0
    ? Effect.void
    : Effect.suspend(() => {
        ch.state.sent += chunk.length
        return Queue.offer(ch.queue, chunk)
      })

/** Ends the stream: the reader drains what is queued, then stops. Closing twice is harmless. */
export const close = <A>(ch: Channel<A>): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (ch.state.closed) return Effect.void
    ch.state.closed = true
    return Queue.offer(ch.queue, END)
  })

/** The chunks of a channel until it is closed. */
export const chunks = <A>(ch: Channel<A>): Stream.Stream<ReadonlyArray<A>> =>
  ch.state.ended
    ? Stream.empty
    : Stream.fromQueue(ch.queue).pipe(
        Stream.takeWhile((x): x is ReadonlyArray<A> => {
          if (x !== END) return true
          ch.state.ended = true
          return false
        })
      )

/** Chunks currently queued (for metrics and tests); 0, not Queue.size's negative count, while the reader waits. */
export const depth = <A>(ch: Channel<A>): Effect.Effect<number> => Effect.map(Queue.size(ch.queue), (n) => Math.max(0, n))

/** The next chunk, or undefined once the channel was closed and drained. */
export const takeChunk = <A>(ch: Channel<A>): Effect.Effect<ReadonlyArray<A> | undefined> =>
  ch.state.ended
    ? Effect.succeed(undefined)
    : Effect.map(Queue.take(ch.queue), (x) => {
        if (x !== END) return x
        ch.state.ended = true
        return undefined
      })

/** Offers a chunk without waiting; false when the channel is full. */
export const trySend = <A>(ch: Channel<A>, chunk: ReadonlyArray<A>): boolean => {
  const ok = Queue.unsafeOffer(ch.queue, chunk)
  if (ok) ch.state.sent += chunk.length
  return ok
}
