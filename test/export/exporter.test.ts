/**
 * The exporter's batching (pipeline.md §11.2): batches of exactly `buffer` records, every chunk with
 * `buffer: 0`, a waiting batch sent after about a second of idleness, the rest at the end of input.
 */
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { describe, expect } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { makeExporter } from "../../src/services/export/Exporter.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { ff, pe } from "../policy/fixtures.js"

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

  it.scopedLive("a batch that waited more than a second is sent by the idle ticker", () => {
    const writes: string[] = []
    return Effect.gen(function* () {
      const stage = yield* makeExporter({ export: "terminal", format: "json", buffer: "1000" })
      yield* stage.onChunk(records(5))
      expect(writes).toEqual([])
      yield* Effect.sleep("2500 millis")
      expect(lineCounts(writes)).toEqual([5])
    }).pipe(Effect.provide(TerminalOutput.capture(writes)))
  })
})
