/**
 * The ECS document id (data-model.md §5.4): 16 hex digits of xxHash64 over node.id, container.id,
 * int64 LE ts, tid, process createTS, opflags, then per type the file OID hex (FF/FE), the five network
 * ints (NF) or action, kind and message (KE). The expected ids are computed here from the spec's field
 * list with an independent pure-BigInt xxHash64, and one is pinned literally.
 */
import { describe, expect, it } from "vitest"
import { ecsDocumentId } from "../../src/services/export/encoders/EcsEncoder.js"
import { exampleA, exampleB, exampleC, fe, file, header, httpdEntities, ke, pe, proc } from "../domain/fixtures.js"

// ---- an independent xxHash64 (seed 0), straight from the algorithm description
const M = (1n << 64n) - 1n
const P1 = 11400714785074694791n
const P2 = 14029467366897019727n
const P3 = 1609587929392839161n
const P4 = 9650029242287828579n
const P5 = 2870177450012600261n
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M
const round = (acc: bigint, input: bigint): bigint => (rotl((acc + input * P2) & M, 31n) * P1) & M
const merge = (acc: bigint, v: bigint): bigint => (((acc ^ round(0n, v)) * P1) + P4) & M
const u64 = (b: Uint8Array, i: number): bigint => Buffer.from(b.buffer, b.byteOffset, b.length).readBigUInt64LE(i)
const u32 = (b: Uint8Array, i: number): bigint => BigInt(Buffer.from(b.buffer, b.byteOffset, b.length).readUInt32LE(i))

const xxh64 = (b: Uint8Array): bigint => {
  const n = b.length
  let i = 0
  let h: bigint
  if (n >= 32) {
    let v1 = (P1 + P2) & M
    let v2 = P2
    let v3 = 0n
    let v4 = (M + 1n - P1) & M
    for (; i + 32 <= n; i += 32) {
      v1 = round(v1, u64(b, i))
      v2 = round(v2, u64(b, i + 8))
      v3 = round(v3, u64(b, i + 16))
      v4 = round(v4, u64(b, i + 24))
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M
    h = merge(merge(merge(merge(h, v1), v2), v3), v4)
  } else {
    h = P5
  }
  h = (h + BigInt(n)) & M
  for (; i + 8 <= n; i += 8) h = ((rotl(h ^ round(0n, u64(b, i)), 27n) * P1) + P4) & M
  if (i + 4 <= n) {
    h = ((rotl(h ^ ((u32(b, i) * P1) & M), 23n) * P2) + P3) & M
    i += 4
  }
  for (; i < n; i++) h = (rotl(h ^ ((BigInt(b[i]) * P5) & M), 11n) * P1) & M
  h ^= h >> 33n
  h = (h * P2) & M
  h ^= h >> 29n
  h = (h * P3) & M
  h ^= h >> 32n
  return h
}

const hex = (h: bigint): string => h.toString(16).padStart(16, "0")
const str = (s: string): Buffer => Buffer.from(s, "utf8")
const i64 = (v: bigint | number): Buffer => {
  const b = Buffer.alloc(8)
  b.writeBigInt64LE(BigInt(v))
  return b
}
const idOf = (...parts: Buffer[]): string => hex(xxh64(Buffer.concat(parts)))

describe("the independent xxHash64", () => {
  it("known digests", () => {
    expect(hex(xxh64(new Uint8Array()))).toBe("ef46db3751d8e999")
    expect(hex(xxh64(str("abc")))).toBe("44bc2cf5ad770999")
    // sf.proc.oid of the §5.3 (a) process: xxh64("105448" + "1621959914567050151")
    expect(hex(xxh64(str("1054481621959914567050151")))).toBe("54272ca288f77a48")
  })
})

describe("ECS document id", () => {
  it("PE (§5.3 a): node id, no container, ts, tid, createTS, opflags; pinned", () => {
    const want = idOf(str("myhost"), str(""), i64(1621959914570130505n), i64(105448n), i64(1621959914567050151n), i64(2))
    expect(ecsDocumentId(exampleA())).toBe(want)
    expect(want).toBe("5011dfdc1f5f9a67")
  })

  it("NF (§5.3 b): then sip, sport, dip, dport, proto as int64", () => {
    const want = idOf(
      str("gladiator-1"),
      str("477216583b2f"),
      i64(1604071235203888327n),
      i64(49035n),
      i64(1604069900217306625n),
      i64(5920),
      i64(16781740),
      i64(47200),
      i64(33558956),
      i64(80),
      i64(6)
    )
    expect(ecsDocumentId(exampleB())).toBe(want)
  })

  it("NF: negative int32s are sign-extended", () => {
    const r = { ...exampleB(), event: { ...exampleB().event, sip: -1062731775, proto: -1 } } as ReturnType<typeof exampleB>
    const e = exampleB().event as { ts: bigint; tid: bigint; opFlags: number; sport: number; dip: number; dport: number }
    const want = idOf(
      str("gladiator-1"),
      str("477216583b2f"),
      i64(e.ts),
      i64(e.tid),
      i64(1604069900217306625n),
      i64(e.opFlags),
      i64(-1062731775),
      i64(e.sport),
      i64(e.dip),
      i64(e.dport),
      i64(-1)
    )
    expect(ecsDocumentId(r)).toBe(want)
  })

  it("FF (§5.3 c): then the file OID hex string", () => {
    const want = idOf(
      str("gladiator-1"),
      str("477216583b2f"),
      i64(1604071235204480411n),
      i64(49035n),
      i64(1604069900217306625n),
      i64(1408),
      str("05fd66f64173181d19e7719fc759ff05b1623c57")
    )
    expect(ecsDocumentId(exampleC())).toBe(want)
  })

  it("FE without a file: the OID string is empty", () => {
    const r = fe({ ...httpdEntities }, { ts: 9n, tid: 49035n, opFlags: 1 << 18 })
    const want = idOf(str("gladiator-1"), str("477216583b2f"), i64(9n), i64(49035n), i64(1604069900217306625n), i64(1 << 18), str(""))
    expect(ecsDocumentId(r)).toBe(want)
    const withFile = fe({ ...httpdEntities, file: file("/tmp/x") }, { ts: 9n, tid: 49035n, opFlags: 1 << 18 })
    expect(ecsDocumentId(withFile)).not.toBe(want)
  })

  it("PE without a process: createTS 0", () => {
    const r = pe({ header: header() }, { ts: 5n, tid: 42n, opFlags: 4 })
    expect(ecsDocumentId(r)).toBe(idOf(str("node"), str(""), i64(5n), i64(42n), i64(0n), i64(4)))
  })

  it("KE: tid, createTS, opflags 0; then action and kind ordinals and the message (D15-stripped)", () => {
    const msg = '{"kind":"Pod","items":[{"name":"ü"}]}'
    const r = ke(header({ exporter: "minikube" }), {
      ts: 1647544504410939817n,
      action: "K8S_COMPONENT_DELETED",
      kind: "K8S_SERVICES",
      message: msg + "\n"
    })
    const want = idOf(str("minikube"), str(""), i64(1647544504410939817n), i64(0), i64(0), i64(0), i64(2), i64(4), str(msg))
    expect(ecsDocumentId(r)).toBe(want)
  })

  it("a long message (more than one 32-byte stripe, buffer growth) and non-ASCII ids", () => {
    const msg = "x".repeat(5000) + "é€😀"
    const r = ke(header({ exporter: "nöde" }), { ts: 1n, action: "K8S_COMPONENT_ADDED", kind: "K8S_NODES", message: msg })
    expect(ecsDocumentId(r)).toBe(idOf(str("nöde"), str(""), i64(1), i64(0), i64(0), i64(0), i64(0), i64(0), str(msg)))
    // The shared scratch buffer does not leak into the next id.
    expect(ecsDocumentId(exampleA())).toBe("5011dfdc1f5f9a67")
  })

  it("ids are 16 lowercase hex digits and differ by record", () => {
    const p = proc({ pid: 7n, createTS: 3n })
    const a = ecsDocumentId(pe({ header: header(), process: p, ptree: [p] }, { ts: 1n, tid: 7n, opFlags: 2 }))
    const b = ecsDocumentId(pe({ header: header(), process: p, ptree: [p] }, { ts: 2n, tid: 7n, opFlags: 2 }))
    expect(a).toMatch(/^[0-9a-f]{16}$/)
    expect(a).not.toBe(b)
  })
})
