/**
 * The `exporter` processor (pipeline.md §11): encodes the events it receives and hands them to its
 * transport in batches of exactly `buffer` records (`buffer: 0` sends every chunk as it arrives), or
 * fewer when the pending records' bytes reach MAX_PENDING_BYTES (a memory bound whatever the config
 * says); an idle ticker sends a non-empty batch that waited more than a second; the rest is sent when
 * the input closes (with whatever the encoder held back), before the transport's scope closes it.
 */
import { Effect, Schedule, type Scope } from "effect"
import { ExportError, type PipelineConfigError } from "../../domain/errors.js"
import type { FlatRecord } from "../../domain/flatRecord.js"
import { bareEvent, type PolicyEvent } from "../../domain/policyEvent.js"
import { withHealth } from "../metrics/Health.js"
import { add, exportDrops, exported } from "../metrics/Metrics.js"
import type { ProcessorDefinition } from "../kernel/ProcessorRegistry.js"
import type { Stage } from "../kernel/Stage.js"
import { type Encoder, EncoderRegistry } from "./Encoder.js"
import { decodeExporterConfig, exporterKeys } from "./ExporterConfig.js"
import { BufferPool } from "./encoders/BufferPool.js"
import { batchSize, bytesOf, concatBatches, type ExportBatch, sliceBatch, withRecords } from "./ExportBatch.js"
import { type DeliveryTag, tagOf } from "../kernel/Delivery.js"
import { type TerminalOutput, TransportRegistry } from "./Transport.js"

/** The element an exporter reads: an event from a policy engine, or (our extension) a bare flat record. */
export type ExporterInput = PolicyEvent | FlatRecord

export const asEvents = (chunk: ReadonlyArray<ExporterInput>): ReadonlyArray<PolicyEvent> =>
  chunk.length > 0 && "record" in chunk[0] ? (chunk as ReadonlyArray<PolicyEvent>) : (chunk as ReadonlyArray<FlatRecord>).map(bareEvent)

export { MAX_BUFFER } from "./ExporterConfig.js"

/**
 * Encoded bytes the exporter holds at most (plus the chunk that crossed the bound) before it sends them,
 * whatever `buffer` says: with a batch's joined copy, its memory stays under about twice this plus two
 * chunks (a chunk of 2048 JSON records is about 2.5 MiB). 4 MiB keeps the largest `buffer` within the
 * 200 MiB a processor may take (8 MiB peaked at 200 MiB on the bench replay).
 */
export const MAX_PENDING_BYTES = 4 * 1024 * 1024

/** Batches of encoded records waiting to be sent. */
class Pending {
  private batches: ExportBatch[] = []
  count = 0
  bytes = 0
  add(batch: ExportBatch): void {
    const n = batchSize(batch)
    if (n === 0) return
    this.batches.push(batch)
    this.count += n
    this.bytes += bytesOf(batch)
  }
  /** Everything pending, or (with `max`) the first `max` records: the batches that hold them, the last one split if needed. */
  take(max = Number.POSITIVE_INFINITY): ExportBatch[] {
    const parts: ExportBatch[] = []
    let n = 0
    let i = 0
    for (; i < this.batches.length && n < max; i++) {
      const b = this.batches[i]
      const size = batchSize(b)
      this.bytes -= bytesOf(b)
      if (n + size <= max) {
        parts.push(b)
        n += size
        continue
      }
      parts.push(sliceBatch(b, 0, max - n))
      this.batches[i] = sliceBatch(b, max - n, size)
      this.bytes += bytesOf(this.batches[i])
      n = max
      break
    }
    this.batches = this.batches.slice(i)
    this.count -= n
    return parts
  }
}

/**
 * The exporter stage; `sendEncoded` takes documents encoded elsewhere (a file worker, docs/parallel.md)
 * with this exporter's format, and batches and sends them as the records of a chunk.
 */
export interface ExporterStage extends Stage<ExporterInput, never, ExportError> {
  /** `owner` gets the batch back once nothing reads its bytes any more (as `Encoder.release`). */
  readonly sendEncoded: (batch: ExportBatch, owner: (batch: ExportBatch) => void) => Effect.Effect<void, ExportError>
  /** The exporter's encoder (the main thread's file worker encodes with it). */
  readonly encoder: Encoder
}

export const makeExporter = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<ExporterStage, PipelineConfigError | ExportError, Scope.Scope | TerminalOutput | TransportRegistry | EncoderRegistry> =>
  Effect.gen(function* () {
    const transports = yield* TransportRegistry
    const encoders = yield* EncoderRegistry
    const config = yield* decodeExporterConfig(attrs, [...transports.keys()], [...encoders.keys()])
    for (const w of config.warnings) yield* Effect.logWarning(w)
    const encoder = yield* encoders.get(config.format)!(attrs, config)
    const transport = yield* transports.get(config.export)!(attrs, config)
    const lock = yield* Effect.makeSemaphore(1)
    const pending = new Pending()
    // Time from the runtime's Clock (TestClock in tests), read without an Effect at each send.
    const clock = yield* Effect.clock
    let lastFlush = clock.unsafeCurrentTimeMillis()
    let dropped = 0

    // /healthz: the transport's own state, and whether its last send worked.
    let lastSendError: string | undefined
    yield* withHealth((h) =>
      h.probe(`exporter ${transport.name}`, () => {
        const s = transport.status?.() ?? { ok: true, detail: "ok" }
        return lastSendError !== undefined ? { ok: false, detail: lastSendError } : s
      })
    )
    const tags = { transport: transport.name }
    // Batches exactly as the encoder (or a file worker) made them: once sent whole (or copied into a
    // joined batch), their memory goes back to its owner. Joined batches live in the exporter's own pooled
    // blocks; a split batch's halves are views on the owner's block, left to the GC.
    const owners = new WeakMap<ExportBatch, (batch: ExportBatch) => void>()
    const release = (batch: ExportBatch) => {
      const owner = owners.get(batch)
      if (owner === undefined) return
      owners.delete(batch)
      owner(batch)
    }
    const joinPool = new BufferPool()
    const joined = new WeakSet<ExportBatch>()
    const join = (parts: ReadonlyArray<ExportBatch>): ExportBatch | undefined => {
      if (parts.length <= 1) return parts[0]
      const batch = concatBatches(parts, (n) => joinPool.get(n))
      if (batch.text !== undefined) {
        joined.add(batch)
        for (const p of parts) release(p)
      }
      return batch
    }
    // Delivery tracking (kernel/Delivery.ts): the tags of chunks whose records are pending, in order, each
    // with how many of its documents are not delivered yet; released as the transport delivers them.
    const undelivered: Array<{ readonly tag: DeliveryTag; left: number }> = []
    const delivered = (n: number) => {
      while (n > 0 && undelivered.length > 0) {
        const head = undelivered[0]
        const k = Math.min(n, head.left)
        head.left -= k
        n -= k
        if (head.left === 0) {
          undelivered.shift()
          head.tag.release()
        }
      }
    }
    const sendBatch = (batch: ExportBatch | undefined) =>
      batch === undefined
        ? Effect.void
        : transport.send(batch).pipe(
            Effect.tapBoth({
              // What reached the target before the failure (e.g. whole lines before a full disk) was exported.
              onFailure: (e) => Effect.zipRight(Effect.sync(() => void (lastSendError = e.message)), add(exported, e.delivered ?? 0, tags)),
              onSuccess: (n) =>
                Effect.zipRight(
                  Effect.sync(() => {
                    dropped += n
                    lastSendError = undefined
                    if (undelivered.length > 0) delivered(batchSize(batch))
                    release(batch)
                    if (joined.has(batch)) joinPool.release(batch.text!.bytes)
                  }),
                  Effect.zipRight(add(exported, batchSize(batch) - n, tags), add(exportDrops, n, tags))
                )
            }),
            Effect.asVoid
          )
    const flushUnlocked = Effect.suspend(() => {
      lastFlush = clock.unsafeCurrentTimeMillis()
      return sendBatch(join(pending.take()))
    })
    // As the reference: a batch goes out as soon as it holds `buffer` records (every chunk with 0); and
    // (a bound the reference lacks) with whatever is pending, fewer records, once their bytes reach
    // MAX_PENDING_BYTES.
    const due = () => pending.count >= config.buffer || pending.bytes >= MAX_PENDING_BYTES
    const sendFullBatches = Effect.suspend(() => {
      if (config.buffer === 0) return flushUnlocked
      lastFlush = clock.unsafeCurrentTimeMillis()
      return Effect.whileLoop({ while: due, body: () => sendBatch(join(pending.take(config.buffer))), step: () => undefined })
    })
    const flush = lock.withPermits(1)(flushUnlocked)

    // The reference's 1-s ticker: send a waiting batch when more than a second passed since the last send.
    yield* Effect.forkScoped(
      Effect.repeat(
        lock.withPermits(1)(Effect.suspend(() => (clock.unsafeCurrentTimeMillis() - lastFlush > 1000 ? flushUnlocked : Effect.void))),
        Schedule.spaced("1 second")
      ).pipe(Effect.catchAll((e) => Effect.logError(`Error flushing exporter batch: ${e.message}`)))
    )

    const none: ReadonlyArray<never> = []
    return {
      name: "exporter",
      onChunk: (chunk) =>
        lock.withPermits(1)(
          Effect.suspend(() => {
            const events = asEvents(chunk)
            const wants = transport.wantsRecords
            const batch =
              wants === undefined ? encoder.encode(events) : withRecords(wants === "only" ? { lines: new Array<string>(events.length).fill("") } : encoder.encode(events), events)
            const tag = tagOf(chunk)
            if (tag !== undefined) {
              // Held until the transport delivered this chunk's documents (an encoder that holds records
              // back, the occurrence encoder, releases them now: see docs/nats.md).
              const n = batchSize(batch)
              if (n > 0) {
                tag.retain(1)
                undelivered.push({ tag, left: n })
              }
            }
            if (encoder.release !== undefined) owners.set(batch, encoder.release)
            pending.add(batch)
            return sendFullBatches
          })
        ).pipe(Effect.as(none)),
      onEnd: Effect.gen(function* () {
        if (encoder.flush !== undefined) {
          const held = yield* encoder.flush
          yield* lock.withPermits(1)(Effect.sync(() => pending.add(held)))
        }
        yield* flush
        if (dropped > 0) yield* Effect.logError(`Exporter (${transport.name}) dropped ${dropped} records after permanent errors`)
        return none
      }),
      encoder,
      sendEncoded: (batch, owner) =>
        lock.withPermits(1)(
          Effect.suspend(() => {
            owners.set(batch, owner)
            pending.add(batch)
            return sendFullBatches
          })
        ),
      test: transport.test,
      start: transport.open
    }
  })

/** The `exporter` processor: a sink. Reading flattenerchan directly (telemetry without an engine) is our extension. */
export const exporterProcessor: ProcessorDefinition<"eventchan" | "flattenerchan", never, TerminalOutput | TransportRegistry | EncoderRegistry> = {
  spec: { name: "exporter", accepts: ["eventchan", "flattenerchan"], emits: [], maxInputs: 1, knownKeys: exporterKeys },
  make: makeExporter
}
