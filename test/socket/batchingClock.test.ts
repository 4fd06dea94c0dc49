/**
 * The socket driver batches by what is available, never by time (issue 15), and reads time only through
 * Effect's Clock: with TestClock frozen, records still reach the channel at once, a chunk is never held
 * while the socket is quiet, chunks grow when the pipeline is behind, and the drop warning's "at most
 * every 5 s" follows TestClock. Real SOCK_SEQPACKET collector; waits for socket events are in real time.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, TestClock } from "effect"
import { CHUNK_SIZE } from "../../src/services/kernel/Channel.js"
import { generatedTrace } from "./generated.js"
import { encoded, packets } from "./harness.js"
import { realWaitUntil, scopedCollector, scopedDriver, sendPackets, takeRecords } from "./scopedHarness.js"

const linux = process.platform === "linux"

/** Nothing waits on the clock, and it has not moved. */
const clockUntouched = Effect.gen(function* () {
  expect(yield* TestClock.currentTimeMillis).toBe(0)
  expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toEqual([])
})

describe.skipIf(!linux)("socket driver batching and time (TestClock)", () => {
  it.scoped("a single record sent to an idle driver reaches the channel alone, with the clock frozen", () =>
    Effect.gen(function* () {
      const d = yield* scopedDriver()
      const c = yield* scopedCollector(d.sockPath)
      const [first, second] = packets(generatedTrace({ flows: 1 }).datums)
      yield* sendPackets(c, [first])
      const a = yield* takeRecords(d.channel, 1)
      expect(a.map((chunk) => chunk.length)).toEqual([1])
      // The driver is idle again (waiting on the socket); the next record goes out alone too.
      yield* sendPackets(c, [second])
      const b = yield* takeRecords(d.channel, 1)
      expect(b.map((chunk) => chunk.length)).toEqual([1])
      expect(encoded([...a[0], ...b[0]])).toEqual([first.toString("hex"), second.toString("hex")])
      yield* clockUntouched
    })
  )

  it.scoped("the driver never holds a chunk while the socket is empty: every record arrives, stream open, clock frozen", () =>
    Effect.gen(function* () {
      const d = yield* scopedDriver()
      const c = yield* scopedCollector(d.sockPath)
      for (const flows of [100, 3 * CHUNK_SIZE]) {
        // Less than a chunk, then several chunks' worth; the stream stays open (no end, no stop).
        const trace = generatedTrace({ flows })
        yield* sendPackets(c, packets(trace.datums))
        const chunks = yield* takeRecords(d.channel, trace.datums.length)
        expect(encoded(chunks.flat())).toEqual(encoded(trace.datums))
        for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(CHUNK_SIZE)
      }
      expect(d.linesMatching(/Input stream ended/)).toEqual([])
      yield* clockUntouched
    })
  )

  it.scoped("chunks grow with the backlog: what waited while the pipeline was behind goes out as one chunk", () =>
    Effect.gen(function* () {
      const d = yield* scopedDriver({ channelCapacity: 1 }) // two chunks fit
      const c = yield* scopedCollector(d.sockPath)
      const all = packets(generatedTrace({ flows: 50 }).datums)
      // One record at a time until the driver waits on the full channel with the third chunk.
      for (let i = 0; i < 3; i++) {
        yield* sendPackets(c, [all[i]])
        yield* realWaitUntil(() => d.channel.state.sent === i + 1, `record ${i + 1} sent`)
      }
      const rest = all.slice(3)
      yield* sendPackets(c, rest)
      // The reader hands over what arrives while the driver is behind as one batch once the driver takes
      // packets again; only what it read before it saw the driver behind goes ahead (the native reader
      // reads in rounds, so on a loaded machine that may be two reads): a few chunks, not one per packet.
      const chunks = yield* takeRecords(d.channel, all.length)
      expect(chunks.slice(0, 3).map((chunk) => chunk.length)).toEqual([1, 1, 1])
      expect(chunks.length - 3).toBeLessThanOrEqual(3)
      expect(rest.length).toBeGreaterThan(30)
      expect(encoded(chunks.flat())).toEqual(all.map((p) => p.toString("hex")))
      yield* clockUntouched
    })
  )

  it.scoped("P22: a waiting collector's packets beyond half the bound are dropped; warnings at the first drop, then at most every 5 s of clock time, and once at the stream's end", () =>
    Effect.gen(function* () {
      const d = yield* scopedDriver({ driver: { queueSize: 10 } })
      const served = yield* scopedCollector(d.sockPath)
      yield* realWaitUntil(() => d.linesMatching(/Successfully accepted new input stream/).length === 1, "the first collector served")
      const waiting = yield* scopedCollector(d.sockPath)
      yield* realWaitUntil(() => d.stats.connections === 2, "the second collector connected")
      const all = packets(generatedTrace({ flows: 20 }).datums)
      let next = 0
      // One packet at a time, each received (kept or dropped) before the next is sent.
      const sendOneByOne = (n: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < n; i++) {
            yield* sendPackets(waiting, [all[next++]])
            yield* realWaitUntil(() => d.stats.packets === next, `${next} packets received`)
          }
        })
      const warnings = () => d.linesMatching(/^\[Warn\] .*socket: A waiting collector sent more than its queue holds \(5 records\): /)

      yield* sendOneByOne(5) // kept: half the bound of 10
      expect(d.stats.dropped).toBe(0)

      yield* sendOneByOne(5) // drops 1-5: a warning at the first
      expect(d.stats.dropped).toBe(5)
      expect(warnings()).toHaveLength(1)
      expect(warnings()[0]).toMatch(/: 1 record dropped, 1 since the start;/)

      yield* TestClock.adjust("4999 millis")
      yield* sendOneByOne(5) // drops 6-10: still within 5 s
      expect(warnings()).toHaveLength(1)

      yield* TestClock.adjust("1 millis")
      yield* sendOneByOne(1) // drop 11, 5 s after the first warning
      expect(warnings()).toHaveLength(2)
      expect(warnings()[1]).toMatch(/: 10 records dropped, 11 since the start;/)

      yield* sendOneByOne(3) // drops 12-14, right after a warning
      expect(warnings()).toHaveLength(2)

      // The served stream ends (the held-back drops are reported with it); the waiting one is served.
      yield* Effect.promise(() => served.end())
      yield* Effect.promise(() => waiting.end())
      const chunks = yield* takeRecords(d.channel, 5)
      expect(encoded(chunks.flat())).toEqual(all.slice(0, 5).map((p) => p.toString("hex")))
      yield* realWaitUntil(() => d.linesMatching(/Input stream ended/).length === 2, "both end lines")
      expect(warnings()).toHaveLength(3)
      expect(warnings()[2]).toMatch(/: 3 records dropped, 14 since the start;/)
      expect(d.linesMatching(/Input stream ended \(end of stream\): 5 records, 0 malformed, 0 truncated, 14 dropped/)).toHaveLength(1)
      expect(yield* TestClock.currentTimeMillis).toBe(5_000)
    })
  )
})
