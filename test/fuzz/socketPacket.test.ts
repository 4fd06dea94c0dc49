/**
 * Fuzzing socket-packet decoding: `makeSysFlowDecoder(SysFlowSchemaV4).decodeOne(bytes)` on packets from
 * `encodeDatum` (every record type), mutated, and on random bytes. Property: a well-formed datum (checked
 * against the v4 schema) or a `DatumError` — never another exception, never a hang, never a huge
 * allocation.
 *
 * Deterministic by default (fixed seed and run counts). Run longer locally with
 *   FUZZ_RUNS=<n> FUZZ_SEED=<n> [FUZZ_TIME_MS=<n>] npx vitest run test/fuzz/socketPacket.test.ts
 * (see test/fuzz/support.ts).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { SysFlowSchemaV4 } from "../../src/domain/avroSchema.js"
import { RecordCode, type SysFlowDatum } from "../../src/domain/sysflow.js"
import { MemorySink } from "../../src/services/avro/OcfWriter.js"
import { OcfParser } from "../../src/services/avro/OcfReader.js"
import { DatumError, makeSysFlowDecoder } from "../../src/services/avro/SysFlowDecoder.js"
import { writeSampleTrace } from "../../src/services/trace/SampleTraces.js"
import { encodeDatum } from "../../src/services/trace/TraceWriter.js"
import { canonical, shapeChecker } from "./avroShape.js"
import { bounded, byteMutation, CASE_LIMIT_MS, describeThrown, fuzzParams, mutateAll, testTimeout, zigzag } from "./support.js"

const decoder = makeSysFlowDecoder(SysFlowSchemaV4)
const shapes = shapeChecker(SysFlowSchemaV4)

/** Every datum of the sample trace (all record types the writer has), as v4 packets. */
const sample: ReadonlyArray<SysFlowDatum> = (() => {
  const sink = new MemorySink()
  writeSampleTrace(sink)
  const parser = new OcfParser("sample.sf")
  parser.push(sink.bytes())
  const out: Array<SysFlowDatum> = []
  for (let b = parser.next(); b !== undefined; b = parser.next()) {
    makeSysFlowDecoder(parser.header!.schema).decodeBlock(b.data, b.count, (x) => out.push(x))
  }
  return out
})()
const packets: ReadonlyArray<Buffer> = sample.map((d) => encodeDatum(d))

type Outcome = { readonly datum: SysFlowDatum } | { readonly error: DatumError }

/** decodeOne, with the "datum or DatumError, in bounded time, without a big allocation" checks. */
const decode = (packet: Uint8Array): Outcome => {
  const before = process.memoryUsage().arrayBuffers
  const out = bounded("decodeOne", CASE_LIMIT_MS, (): Outcome => {
    try {
      return { datum: decoder.decodeOne(packet) }
    } catch (e) {
      if (e instanceof DatumError) return { error: e }
      throw new Error(`decodeOne threw something other than a DatumError: ${describeThrown(e)}`)
    }
  })
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024)
  if ("datum" in out) expect(shapes.check(out.datum)).toBeUndefined()
  else {
    expect(out.error.bytePos).toBeGreaterThanOrEqual(0)
    expect(out.error.bytePos).toBeLessThanOrEqual(packet.length)
  }
  return out
}

describe("fuzz: socket packets (decodeOne)", () => {
  it("every sample packet decodes back to its datum", () => {
    expect(new Set(sample.map((d) => d.code)).size).toBeGreaterThanOrEqual(8)
    for (const [i, p] of packets.entries()) {
      const out = decode(p)
      expect("datum" in out, `packet ${i}`).toBe(true)
      // v4 has no cwd/env: compare the fields v4 carries.
      const { cwd: _c, env: _e, ...rec } = sample[i].rec as unknown as Record<string, unknown>
      const expected = sample[i].code === RecordCode.Process ? { code: sample[i].code, rec } : sample[i]
      expect(canonical(out)).toBe(canonical({ datum: expected }))
    }
  })

  it("mutated packets: a well-formed datum or a DatumError", () => {
    fc.assert(
      fc.property(fc.nat({ max: packets.length - 1 }), fc.array(byteMutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        decode(mutateAll(packets[i], ms).bytes)
      }),
      fuzzParams(3000, 1_000)
    )
  }, testTimeout(1_000))

  it("random packets, and a valid union index followed by random bytes", () => {
    const packet = fc.oneof(
      fc.uint8Array({ maxLength: 256 }),
      fc.tuple(fc.integer({ min: 0, max: 11 }), fc.uint8Array({ maxLength: 256 })).map(([b, rest]) => Buffer.concat([zigzag(BigInt(b)), rest]))
    )
    fc.assert(
      fc.property(packet, (p) => {
        decode(p)
      }),
      fuzzParams(3000, 1_000)
    )
  }, testTimeout(1_000))

  describe("regressions", () => {
    const pe = encodeDatum({
      code: RecordCode.ProcessEvent,
      rec: { procOID: { hpid: 1n, createTS: 2n }, ts: 3n, tid: 1n, opFlags: 1, args: ["a", "b"], ret: 0 }
    })

    it("a corrupt array count (2^29 for ProcessEvent.args) is a DatumError, not an out-of-memory crash", () => {
      // Bytes: union 4, procOID, ts, tid, opFlags, then args' block count at byte 6 (was 2, now 2^29).
      expect(pe.toString("hex")).toBe("08040206020204026102620000")
      const packet = Buffer.concat([pe.subarray(0, 6), zigzag(1n << 29n), pe.subarray(7)])
      const out = decode(packet)
      expect("error" in out && out.error.message).toMatch(/corrupt array block count 536870912/)
      // 2^40 too (avsc threw a RangeError for `new Array(2^40)` here: still a DatumError).
      expect("error" in decode(Buffer.concat([pe.subarray(0, 6), zigzag(1n << 40n), pe.subarray(7)]))).toBe(true)
    })

    it("a 200 kB varint in a long field is rejected at once (was quadratic, and beyond int64)", () => {
      const packet = Buffer.concat([pe.subarray(0, 3), Buffer.alloc(200_000, 0xff), pe.subarray(3)])
      const out = decode(packet)
      expect("error" in out && out.error.message).toMatch(/varint longer than 10 bytes/)
      // Ten bytes, but more than 64 bits.
      const wide = Buffer.concat([pe.subarray(0, 3), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), pe.subarray(4)])
      expect("error" in decode(wide) && (decode(wide) as { error: Error }).error.message).toMatch(/beyond 64 bits/)
      // The extremes of int64 still decode.
      for (const ts of [(1n << 63n) - 1n, -(1n << 63n)]) {
        const ok = Buffer.concat([pe.subarray(0, 3), zigzag(ts), pe.subarray(4)])
        const d = decode(ok)
        expect("datum" in d && (d.datum.rec as { ts: bigint }).ts).toBe(ts)
      }
    })

    it("an int field holding a long's varint is a DatumError (was opFlags = 1700000000097000000)", () => {
      const packet = Buffer.concat([pe.subarray(0, 5), zigzag(1_700_000_000_097_000_000n), pe.subarray(6)])
      const out = decode(packet)
      expect("error" in out && out.error.message).toMatch(/outside int32/)
      for (const v of [2147483647n, -2147483648n]) {
        const d = decode(Buffer.concat([pe.subarray(0, 5), zigzag(v), pe.subarray(6)]))
        expect("datum" in d && (d.datum.rec as { opFlags: number }).opFlags).toBe(Number(v))
      }
    })
  })
})
