/**
 * The exporter's batching (pipeline.md §11.2): batches of exactly `buffer` records, every chunk with
 * `buffer: 0`, a waiting batch sent after about a second of idleness, the rest at the end of input;
 * `buffer` bounded by count (a load error) and pending bytes (a batch goes out early). Every test runs on
 * the TestClock (`it.scoped`): time passes only where a test adjusts it.
 */
import { it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { describe, expect } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { MAX_BUFFER, MAX_PENDING_BYTES } from "../../src/services/export/Exporter.js"
import { makeExporter } from "../support/stages.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { ff, pe } from "../policy/fixtures.js"

/** Records that all differ (a byte counter numbered from `from`), so a corrupted join would show. */
const numbered = (from: number, n: number): FlatRecord[] => Array.from({ length: n }, (_, i) => ff({}, 2, { wb: BigInt(from + i) }))

const records = (n: number): FlatRecord[] => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? ff() : pe()))
const lineCounts = (writes: ReadonlyArray<string>) => writes.map((w) => w.split("\n").length - 1)

describe("exporter batching", () => {
  it.scoped("sends batches of exactly `buffer` records and the rest when the input ends", () => {
    const writes: string[] = []
    return Effect.gen(function* () {
      const stage = yield* makeExporter({ export: "terminal", format: "json", buffer: "10" })
      yield* stage.onChunk(records(25))
      expect(lineCounts(writes)).toEqual([10, 10])
      yield* stage.onChunk(records(4))
      expect(lineCounts(writes)).toEqual([10, 10])
      yield* stage.onEnd
      expect(lineCounts(writes)).toEqual([10, 10, 9])
    }).pipe(Effect.provide(TerminalOutput.capture(writes)))
  })

  it.scoped("buffer 0 sends every chunk as it arrives", () => {
    const writes: string[] = []
    return Effect.gen(function* () {
      const stage = yield* makeExporter({ export: "terminal", format: "json" })
      yield* stage.onChunk(records(3))
      yield* stage.onChunk(records(7))
      expect(lineCounts(writes)).toEqual([3, 7])
    }).pipe(Effect.provide(TerminalOutput.capture(writes)))
  })

  it.scoped("a batch that waited more than a second is sent by the idle ticker (TestClock)", () => {
    const writes: string[] = []
    return Effect.gen(function* () {
      const stage = yield* makeExporter({ export: "terminal", format: "json", buffer: "1000" })
      yield* stage.onChunk(records(5))
      expect(writes).toEqual([])
      // The ticker runs every second and sends what waited more than a second: not at 1 s, at 2 s.
      yield* TestClock.adjust("1 second")
      expect(writes).toEqual([])
      yield* TestClock.adjust("1500 millis")
      expect(lineCounts(writes)).toEqual([5])
    }).pipe(Effect.provide(TerminalOutput.capture(writes)))
  })

  it.scoped("buffer above the bound is a load error naming the key", () =>
    Effect.gen(function* () {
      const err = yield* Effect.flip(makeExporter({ export: "terminal", format: "json", buffer: String(MAX_BUFFER + 1) }))
      expect(err.message).toMatch(/buffer = .*100001.*: must be .*100000/)
      yield* makeExporter({ export: "terminal", format: "json", buffer: String(MAX_BUFFER) })
    }).pipe(Effect.provide(TerminalOutput.capture([])))
  )

  it.scoped("a large buffer goes out early once the pending bytes reach the bound: same bytes, in order, bounded batches", () => {
    const bounded: string[] = []
    const unbuffered: string[] = []
    const chunks = Array.from({ length: 40 }, (_, c) => numbered(c * 500, 500))
    const run = (buffer: string) =>
      Effect.gen(function* () {
        const stage = yield* makeExporter({ export: "terminal", format: "json", buffer })
        for (const chunk of chunks) yield* stage.onChunk(chunk)
        yield* stage.onEnd
      })
    return Effect.gen(function* () {
      yield* Effect.scoped(run(String(MAX_BUFFER))).pipe(Effect.provide(TerminalOutput.capture(bounded)))
      yield* Effect.scoped(run("0")).pipe(Effect.provide(TerminalOutput.capture(unbuffered)))
      const chunkBytes = Math.max(...unbuffered.map((w) => Buffer.byteLength(w)))
      expect(20_000 * (chunkBytes / 500)).toBeGreaterThan(2 * MAX_PENDING_BYTES) // the input is large enough to matter
      expect(bounded.length).toBeGreaterThan(2)
      for (const w of bounded) expect(Buffer.byteLength(w)).toBeLessThan(MAX_PENDING_BYTES + chunkBytes)
      for (const w of bounded.slice(0, -1)) expect(Buffer.byteLength(w)).toBeGreaterThanOrEqual(MAX_PENDING_BYTES)
      expect(bounded.join("")).toBe(unbuffered.join(""))
    })
  })
})
