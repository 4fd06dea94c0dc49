import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { jsonString } from "../../src/domain/attributes.js"
import { BufferPool } from "../../src/services/export/encoders/BufferPool.js"
import { Utf8Writer } from "../../src/services/export/encoders/Utf8Writer.js"

const written = (f: (w: Utf8Writer) => void): string => {
  const w = new Utf8Writer(new BufferPool(), 4)
  f(w)
  return w.toString()
}

describe("Utf8Writer", () => {
  it("writes every int64 bigint as BigInt#toString does (digit by digit, from the two halves)", () => {
    const edges = [0n, 1n, -1n, 9n, 10n, -10n, 2n ** 31n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 7n,
      999_999_999n, 1_000_000_000n, 1_700_000_000_123_456_789n, 10n ** 18n, 10n ** 18n - 1n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) + 1n]
    for (const v of edges) expect(written((w) => w.big(v))).toBe(v.toString())
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => written((w) => w.big(v)) === v.toString()), { numRuns: 20_000 })
  })

  it("writes bigints beyond 64 bits through toString", () => {
    for (const v of [2n ** 64n, -(2n ** 70n), 10n ** 30n]) expect(written((w) => w.big(v))).toBe(v.toString())
  })

  it("writes JSON strings exactly as jsonString escapes them (ASCII copied, everything else escaped)", () => {
    for (const s of ["", "/usr/bin/bash", 'a"b', "a\\b", "<x>&y", "tab\tnl\n", "\u0000", "\u007f", "é€😀", "\ud800x", "\u2028"]) {
      expect(written((w) => w.jsonString(s))).toBe(jsonString(s))
    }
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => written((w) => w.jsonString(s)) === jsonString(s)), { numRuns: 5_000 })
  })

  it("writes safe integers, negative ones too", () => {
    for (const n of [0, 5, 10, 99, 100, 12345, -3, -100, 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1), 1e15, 999_999_999_999_999]) {
      expect(written((w) => w.int(n))).toBe(String(n))
    }
  })

  it("assembles fragments, ASCII and any text as UTF-8, growing as needed; take hands the bytes over", () => {
    const pool = new BufferPool()
    const w = new Utf8Writer(pool, 2)
    w.bytes(Buffer.from('{"a":'))
    w.int(-42)
    w.ascii(',"b":')
    w.text('"é€😀"')
    w.bytes(Buffer.from(",".repeat(40)))
    w.byte(0x7d)
    const expected = '{"a":-42,"b":"é€😀"' + ",".repeat(40) + "}"
    expect(w.toString()).toBe(expected)
    const out = w.take()
    w.ascii("overwritten")
    expect(out.toString("utf8")).toBe(expected)
    expect(w.toString()).toBe("overwritten")
    // Given back, the block is lent again (and overwritten) by a later batch.
    pool.release(out)
    expect(w.take().toString()).toBe("overwritten")
    w.ascii("next")
    expect(w.take().buffer).toBe(out.buffer)
  })

  it("a pool lends each block once, takes back only what it lent, and keeps the largest free blocks", () => {
    const pool = new BufferPool(1)
    const small = pool.get(100)
    const large = pool.get(1 << 20)
    expect(small.buffer).not.toBe(large.buffer)
    pool.release(large)
    pool.release(large) // twice: ignored
    pool.release(Buffer.alloc(10)) // not lent: ignored
    pool.release(small) // the free list is full: the smaller block is dropped
    const c = pool.get(50)
    expect(c.buffer).toBe(large.buffer)
    expect(c.length).toBe(50)
    expect(pool.get(50).buffer).not.toBe(small.buffer)
  })
})
