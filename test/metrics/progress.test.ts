/**
 * Progress of a run on Effect's Clock, driven by TestClock: the progress line every 5 s with the read
 * rate since the previous line, and the summary's seconds (the stopwatch the processor reads).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { makeChannel, send } from "../../src/services/kernel/Channel.js"
import { startProgress, stopwatch, summaryLine } from "../../src/services/metrics/Progress.js"

const capture = (lines: string[], isTTY = true) => ({ isTTY, write: (l: string) => lines.push(l) })
const records = (n: number): ReadonlyArray<unknown> => Array.from({ length: n }, (_, i) => i)

describe("progress (TestClock)", () => {
  it.scoped("prints a line every 5 s of Clock time, with the read rate since the previous line", () =>
    Effect.gen(function* () {
      const ch = yield* makeChannel<unknown>("in", "x")
      yield* send(ch, records(500))
      const lines: string[] = []
      yield* startProgress([ch], true, "5 seconds", capture(lines))
      yield* send(ch, records(1000))
      yield* TestClock.adjust("4999 millis")
      expect(lines).toEqual([])
      yield* TestClock.adjust("1 millis")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^sfprocessor: 1,500 records read \(200\/s\), .* exported, .* rule matches, .* dropped, .* errors\n$/)
      yield* send(ch, records(2000))
      yield* TestClock.adjust("5 seconds")
      expect(lines).toHaveLength(2)
      expect(lines[1]).toMatch(/^sfprocessor: 3,500 records read \(400\/s\), /)
    })
  )

  it.scoped("prints nothing when the output is not a terminal, or when progress is off", () =>
    Effect.gen(function* () {
      const ch = yield* makeChannel<unknown>("in", "x")
      const lines: string[] = []
      yield* startProgress([ch], true, "5 seconds", capture(lines, false))
      yield* startProgress([ch], false, "5 seconds", capture(lines))
      yield* TestClock.adjust("1 minute")
      expect(lines).toEqual([])
    })
  )

  it.effect("the summary's seconds are the Clock time since the stopwatch started", () =>
    Effect.gen(function* () {
      const elapsed = yield* stopwatch
      yield* TestClock.adjust("2500 millis")
      const seconds = yield* elapsed
      expect(seconds).toBe(2.5)
      expect(summaryLine({ read: 5000, exported: 5000, alerts: 3, dropped: 0, errors: 0 }, seconds)).toBe(
        "Summary: 5,000 records read in 2.5 s (2,000/s), 5,000 exported, 3 rule matches, 0 dropped, 0 errors"
      )
    })
  )
})
