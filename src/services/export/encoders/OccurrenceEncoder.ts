/**
 * `format: occurrence` (data-model.md §5.6; decision F1): every event joins its container's pool and is
 * written to the pool's Avro event file; events that raise an alert also become an occurrence, one JSON
 * line each (`Occurrence`), which the `findings` transport posts. Most events therefore produce no line.
 *
 * F4: at the end (`flush`) and, failing that, when the exporter's scope closes, every pool's pending
 * events are written out before the files are closed.
 */
import { Effect, Runtime } from "effect"
import type { EncoderFactory } from "../Encoder.js"
import { EventPools, type PoolClock, type PoolLog } from "../findings/EventPools.js"
import { decodeFindingsConfig } from "../findings/FindingsConfig.js"
import { occurrenceLine } from "../findings/Occurrence.js"

export interface OccurrenceEncoderOptions {
  /** The pools' clock (tests move it forward to age pools). */
  readonly clock?: PoolClock
}

export const makeOccurrenceEncoderWith =
  (options: OccurrenceEncoderOptions = {}): EncoderFactory =>
  (attrs) =>
    Effect.gen(function* () {
      const config = yield* decodeFindingsConfig(attrs)
      // Logging from the synchronous encode path goes through the pipeline's own logger.
      const runtime = yield* Effect.runtime<never>()
      const log: PoolLog = (level, message) =>
        Runtime.runSync(runtime)(
          level === "Error" ? Effect.logError(message) : level === "Warn" ? Effect.logWarning(message) : Effect.logInfo(message)
        )
      // The runtime's Clock, in ms with the microseconds the occurrence ids carry.
      const clock = yield* Effect.clock
      const effectClock: PoolClock = { now: () => Number(clock.unsafeCurrentTimeNanos() / 1000n) / 1000 }
      const pools = yield* Effect.acquireRelease(
        Effect.sync(() => new EventPools(config, options.clock ?? effectClock, log)),
        (p) =>
          Effect.sync(() => {
            p.flushAll()
            p.close()
          })
      )
      return {
        encode: (events) => {
          const lines: string[] = []
          const ids: string[] = []
          for (const ev of events) {
            const occ = pools.add(ev)
            if (occ !== undefined) {
              lines.push(occurrenceLine(occ))
              ids.push(occ.id)
            }
          }
          return { lines, ids }
        },
        flush: Effect.sync(() => {
          pools.flushAll()
          return { lines: [] }
        })
      }
    })

export const makeOccurrenceEncoder: EncoderFactory = makeOccurrenceEncoderWith()
