/**
 * Our JSON export of the five shared traces against what the reference exported for them
 * (../shared/golden/<trace>.all.jsonl.gz), byte for byte after applying our documented fixes to the
 * reference's lines: D1/Q13 (true flow counters), D2 (FE file.fd 0), D4 (no trailing space in
 * proc.cmdline), D8 ("" for an uncached parent), D11/Q11 (READ/WRITE for files, RECV/SEND for network).
 */
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { bareEvent } from "../../src/domain/policyEvent.js"
import { encodeJsonEvent } from "../../src/services/export/encoders/JsonEncoder.js"
import { readTraceRecords } from "../../src/services/reader/TraceRecords.js"
import { applyFixes, goldenLines } from "../support/golden.js"
import { hasShared, sharedPath, sharedTraces } from "../support/shared.js"

const exportAll = async (trace: string): Promise<string[]> => {
  const lines: string[] = []
  await Effect.runPromise(
    readTraceRecords(sharedPath("traces", trace)).pipe(
      Stream.runForEach((records) => Effect.sync(() => void lines.push(...records.map((r) => encodeJsonEvent(bareEvent(r), "5")))))
    )
  )
  return lines
}

describe.skipIf(!hasShared)("JSON export equals the reference's, with our fixes", () => {
  for (const { name } of sharedTraces) {
    it(`${name}: every record`, async () => {
      const golden = goldenLines(`${name}.all.jsonl.gz`).map(applyFixes)
      const ours = await exportAll(name)
      expect(ours.length).toBe(golden.length)
      const firstDiff = ours.findIndex((l, i) => l !== golden[i])
      if (firstDiff >= 0) {
        expect({ line: firstDiff + 1, ours: ours[firstDiff] }).toEqual({ line: firstDiff + 1, ours: golden[firstDiff] })
      }
    })
  }
})
