/**
 * Our JSON export of the five shared traces against what the reference exported for them
 * (../shared/golden/<trace>.all.jsonl.gz), byte for byte after applying our documented fixes to the
 * reference's lines: D1/Q13 (true flow counters), D2 (FE file.fd 0), D4 (no trailing space in
 * proc.cmdline), D8 ("" for an uncached parent), D11/Q11 (READ/WRITE for files, RECV/SEND for network).
 */
import { Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as zlib from "node:zlib"
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { bareEvent } from "../../src/domain/policyEvent.js"
import { readTraceFile } from "../../src/services/drivers/TraceFiles.js"
import { encodeJsonEvent } from "../../src/services/export/encoders/JsonEncoder.js"
import { Flattener } from "../../src/services/reader/Flattener.js"
import { hasShared, sharedPath, sharedTraces } from "../support/shared.js"

const exportAll = async (trace: string): Promise<string[]> => {
  const lines: string[] = []
  const flattener = new Flattener()
  await Effect.runPromise(
    readTraceFile(sharedPath("traces", trace)).pipe(
      Stream.runForEach((chunk) =>
        Effect.sync(() => {
          const out: FlatRecord[] = []
          flattener.flatten(chunk, out)
          for (const r of out) lines.push(encodeJsonEvent(bareEvent(r), "5"))
        })
      )
    )
  )
  return lines
}

const fileOps: Record<string, string> = { RECV: "READ", SEND: "WRITE" }
const netOps: Record<string, string> = { READ: "RECV", WRITE: "SEND" }

/** The reference's line with our fixes applied. */
export const applyFixes = (line: string): string => {
  const type = /"type":"(PE|FF|FE|NF|KE)"/.exec(line)![1]
  let out = line
    .replace(/"flow":\{"rbytes":(\d+),"rops":(\d+),"wbytes":(\d+),"wops":(\d+)\}/, (_m, rb, ro, wb, wo) =>
      `"flow":{"rbytes":${BigInt(rb) / 2n},"rops":${BigInt(ro) / 2n},"wbytes":${BigInt(wb) / 2n},"wops":${BigInt(wo) / 2n}}`)
    .replace(/"cmdline":"((?:[^"\\]|\\.)*) ","createts"/, '"cmdline":"$1","createts"')
    .replaceAll('"\\"\\""', '""')
  const ops = type === "NF" ? netOps : type === "FF" ? fileOps : undefined
  if (ops !== undefined) {
    out = out.replace(/^(\{"version":\d+,"endts":-?\d+,"opflags":\[)([^\]]*)\]/, (_m, head, list: string) =>
      head + list.replace(/"([A-Z]+)"/g, (_n, f: string) => `"${ops[f] ?? f}"`) + "]")
  }
  if (type === "FE") out = out.replace(/("file":\{"directory":"(?:[^"\\]|\\.)*","fd":)\d+/, "$10")
  return out
}

describe.skipIf(!hasShared)("JSON export equals the reference's, with our fixes", () => {
  for (const { name } of sharedTraces) {
    it(`${name}: every record`, async () => {
      const golden = zlib
        .gunzipSync(fs.readFileSync(sharedPath("golden", `${name}.all.jsonl.gz`)))
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map(applyFixes)
      const ours = await exportAll(name)
      expect(ours.length).toBe(golden.length)
      const firstDiff = ours.findIndex((l, i) => l !== golden[i])
      if (firstDiff >= 0) {
        expect({ line: firstDiff + 1, ours: ours[firstDiff] }).toEqual({ line: firstDiff + 1, ours: golden[firstDiff] })
      }
    })
  }
})
