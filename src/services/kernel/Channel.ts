/**
 * A pipeline channel (`"<name> <type>"` in pipeline.json): a bounded queue of chunks with exactly one
 * writer and one reader. Backpressure is per chunk; the per-record work stays a plain loop. The writer
 * ends the stream with `close`, after which the reader drains what is queued and stops.
 *
 * The reader takes what the queue holds without waiting (`Queue.takeAll`, `Queue.poll`) and, when it is
 * empty, waits for the writer's wake-up (`untilSent`) instead of in `Queue.take`. Why: each `Queue.take`
 * that waits (a Deferred, and interrupt bookkeeping around it) left objects that outlived two scavenges,
 * so on a quiet stream (one record per chunk) every hand-over was promoted to the old generation: about
 * 0.6 MB per scavenge at 1,000 chunks/s, with 2–5 ms scavenge pauses and major collections behind them
 * (docs/performance.md, the live path). A plain wake-up without a canceler leaves nothing behind.
 */
import { Chunk, Effect, Option, Queue, Stream } from "effect"

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
   * `sent`: records sent so far (for progress and the summary); `waiting`: the reader's wake-up while it
   * waits for an empty channel to receive something.
   */
  readonly state: { closed: boolean; ended: boolean; sent: number; waiting: ((wake: Effect.Effect<void>) => void) | undefined }
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
    state: { closed: false, ended: false, sent: 0, waiting: undefined }
  }))

/** Wakes the reader if it waits for something to be sent. */
const wakeReader = <A>(ch: Channel<A>): void => {
  const wake = ch.state.waiting
  if (wake === undefined) return
  ch.state.waiting = undefined
  wake(Effect.void)
}

/**
 * Waits until the channel holds something (at once if it does). It needs no canceler: a reader
 * interrupted while it waits ignores a later wake-up, and the next send clears the slot.
 */
const untilSent = <A>(ch: Channel<A>): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (Option.getOrElse(ch.queue.unsafeSize(), () => 0) > 0) resume(Effect.void)
    else ch.state.waiting = resume
  })

/** What `take` finds queued; while it finds nothing (`none`), waits for a send and takes again. */
const takeQueued = <A, B>(ch: Channel<A>, take: Effect.Effect<B>, none: (b: B) => boolean): Effect.Effect<B> =>
  Effect.flatMap(take, (b) => (none(b) ? Effect.zipRight(untilSent(ch), Effect.suspend(() => takeQueued(ch, take, none))) : Effect.succeed(b)))

/** Queues an item (waiting while the channel is full), then wakes the reader. */
const put = <A>(ch: Channel<A>, item: Item<A>): Effect.Effect<void> =>
  Effect.zipRight(Queue.offer(ch.queue, item), Effect.sync(() => wakeReader(ch)))

/** Sends a chunk, waiting while the channel is full. Empty chunks are not sent. */
export const send = <A>(ch: Channel<A>, chunk: ReadonlyArray<A>): Effect.Effect<void> =>
  chunk.length === 0
    ? Effect.void
    : Effect.suspend(() => {
        ch.state.sent += chunk.length
        return put(ch, chunk)
      })

/** Ends the stream: the reader drains what is queued, then stops. Closing twice is harmless. */
export const close = <A>(ch: Channel<A>): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (ch.state.closed) return Effect.void
    ch.state.closed = true
    return put(ch, END)
  })

/** The chunks of items up to the end mark (noting that the reader saw it). */
const beforeEnd = <A>(ch: Channel<A>, items: Chunk.Chunk<Item<A>>): Chunk.Chunk<ReadonlyArray<A>> => {
  const end = Chunk.findFirstIndex(items, (x) => x === END)
  if (Option.isNone(end)) return items as Chunk.Chunk<ReadonlyArray<A>>
  ch.state.ended = true
  return Chunk.take(items, end.value) as Chunk.Chunk<ReadonlyArray<A>>
}

/** The chunks of a channel until it is closed: each pull takes everything queued, or waits for a send. */
export const chunks = <A>(ch: Channel<A>): Stream.Stream<ReadonlyArray<A>> => {
  const queued = takeQueued(ch, Queue.takeAll(ch.queue), Chunk.isEmpty)
  return Stream.repeatEffectChunkOption(
    Effect.suspend(() => (ch.state.ended ? Effect.fail(Option.none()) : Effect.map(queued, (items) => beforeEnd(ch, items))))
  )
}

/** Chunks currently queued (for metrics and tests); never negative, as the reader never waits in `Queue.take`. */
export const depth = <A>(ch: Channel<A>): Effect.Effect<number> => Queue.size(ch.queue)

/** The next chunk, or undefined once the channel was closed and drained. */
export const takeChunk = <A>(ch: Channel<A>): Effect.Effect<ReadonlyArray<A> | undefined> =>
  Effect.suspend(() =>
    ch.state.ended
      ? Effect.succeed(undefined)
      : Effect.map(takeQueued(ch, Queue.poll(ch.queue), Option.isNone), (item) => {
          const x = Option.getOrUndefined(item)
          if (x !== END) return x
          ch.state.ended = true
          return undefined
        })
  )

/** Offers a chunk without waiting; false when the channel is full. */
export const trySend = <A>(ch: Channel<A>, chunk: ReadonlyArray<A>): boolean => {
  const ok = Queue.unsafeOffer(ch.queue, chunk)
  if (ok) {
    ch.state.sent += chunk.length
    wakeReader(ch)
  }
  return ok
}
