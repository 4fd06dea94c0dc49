import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { type FlatRecord } from "../../src/domain/flatRecord.js"
import { RecordShortName } from "../../src/domain/sysflow.js"
import { readTraceFile } from "../../src/services/drivers/TraceFiles.js"
import { Flattener } from "../../src/services/reader/Flattener.js"
import { hasShared, sharedPath, sharedTraces } from "../support/shared.js"

describe.skipIf(!hasShared)("shared traces: every datum is decoded and every event flattened", () => {
  for (const trace of sharedTraces) {
    it(`${trace.name}: record counts per type equal the Avro file's`, async () => {
      const counts: Record<string, number> = {}
      const flat: Record<string, number> = {}
      const flattener = new Flattener()
      await Effect.runPromise(
        readTraceFile(sharedPath("traces", trace.name)).pipe(
          Stream.runForEach((chunk) =>
            Effect.sync(() => {
              for (const d of chunk) counts[RecordShortName[d.code]] = (counts[RecordShortName[d.code]] ?? 0) + 1
              const out: FlatRecord[] = []
              flattener.flatten(chunk, out)
              for (const r of out) flat[r.type] = (flat[r.type] ?? 0) + 1
            })
          )
        )
      )
      expect(counts).toEqual(trace.counts)
      const events = Object.fromEntries(
        Object.entries(trace.counts).filter(([t]) => ["PE", "FF", "FE", "NF", "KE"].includes(t))
      )
      expect(flat).toEqual(events)
      expect(flattener.diagnostics.missingProcess).toBe(0)
    })
  }
})
