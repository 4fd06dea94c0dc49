/**
 * A growable UTF-8 byte buffer for encoders on the hot path: text is assembled from pre-encoded fragments
 * (copied), ASCII constants, and numbers written digit by digit, so a line costs no string allocation and
 * no rope. Buffers come from a pool: `take` hands the written bytes over as they are (no copy), and whoever
 * is done with them gives them back to the pool for the next batches.
 */
import { jsonString } from "../../../domain/attributes.js"
import { highHalf, lowHalf, splitInt64 } from "../../../domain/int64Halves.js"
import { BufferPool } from "./BufferPool.js"

/** "00" to "99" as ASCII bytes. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10))

/** Fragments up to this length are copied byte by byte (cheaper than `set` for a few bytes). */
const SHORT = 16

export class Utf8Writer {
  private buf: Buffer
  pos = 0

  constructor(
    readonly pool: BufferPool = new BufferPool(),
    initialSize = 1 << 16
  ) {
    this.buf = pool.get(initialSize)
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = this.pool.get(Math.max(2 * this.buf.length, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.pool.release(this.buf)
    this.buf = next
  }

  /** Pre-encoded bytes. */
  bytes(b: Uint8Array): void {
    const n = b.length
    this.reserve(n)
    const buf = this.buf
    let pos = this.pos
    if (n <= SHORT) {
      for (let i = 0; i < n; i++) buf[pos++] = b[i]
    } else {
      buf.set(b, pos)
      pos += n
    }
    this.pos = pos
  }

  /** A string of characters below U+0080 (digits, keys, constants), one byte each. */
  ascii(s: string): void {
    const n = s.length
    this.reserve(n)
    const buf = this.buf
    let pos = this.pos
    for (let i = 0; i < n; i++) buf[pos++] = s.charCodeAt(i)
    this.pos = pos
  }

  /**
   * A JSON string literal, quotes included, escaped as `jsonString` (attributes.ts) does. Printable ASCII
   * without `"`, `\\`, `<`, `>` or `&` (nearly every path and name) is copied as it is; anything else goes
   * through `jsonString`.
   */
  jsonString(s: string): void {
    const n = s.length
    this.reserve(n + 2)
    const buf = this.buf
    let pos = this.pos
    buf[pos++] = 0x22
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
        return this.text(jsonString(s)) // from the opening quote again
      }
      buf[pos++] = c
    }
    buf[pos++] = 0x22
    this.pos = pos
  }

  /** Any string, UTF-8 encoded. */
  text(s: string): void {
    this.reserve(3 * s.length)
    this.pos += this.buf.write(s, this.pos, "utf8")
  }

  byte(b: number): void {
    this.reserve(1)
    this.buf[this.pos++] = b
  }

  /** An integer in decimal (a safe-integer number), digit by digit: no number-to-string conversion. */
  int(n: number): void {
    if (n < 0) {
      this.byte(0x2d) // -
      n = -n
    }
    if (n < 0x80000000) return this.uint31(n)
    // Above 2^31: the high part, then the low nine digits (each part in 32-bit integer arithmetic).
    const hi = Math.floor(n / 1e9)
    this.int(hi)
    this.pad9(n - hi * 1e9)
  }

  /**
   * A bigint in decimal: as a double when that is exact, else (nanosecond timestamps) by long division
   * of its two 32-bit halves: no `BigInt#toString`, no allocation.
   */
  big(v: bigint): void {
    const n = Number(v)
    if (n <= Number.MAX_SAFE_INTEGER && n >= -Number.MAX_SAFE_INTEGER) return this.int(n)
    if (!(n < 9.2e18 && n > -9.2e18)) return this.ascii("" + v) // beyond 64 bits (never from Avro)
    splitInt64(v)
    let lo = lowHalf()
    let hi = highHalf()
    if (hi >= 0x80000000) {
      this.byte(0x2d) // -
      // Two's complement negation of the pair.
      lo = (~lo + 1) >>> 0
      hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0
    }
    // The low nine digits exactly, from the halves (2^48 and 2^32 modulo 1e9; every term below 2^53);
    // the rest from the double, whose error (at most 2^10) cannot move (|v| - r) / 1e9 off its integer.
    const t = (hi >>> 16) * 976710656 + (hi & 0xffff) * 294967296 + lo
    const r = t - Math.floor(t / 1e9) * 1e9 // (`%` on doubles is a slow library call)
    const quotient = Math.round((Math.abs(n) - r) / 1e9)
    this.int(quotient)
    this.pad9(r)
  }

  /** 0 ≤ n < 2^31, two digits per step. */
  private uint31(n: number): void {
    const len = n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10
    this.reserve(len)
    const buf = this.buf
    let pos = this.pos + len
    this.pos = pos
    while (n >= 100) {
      const q = (n / 100) | 0
      const d = 2 * (n - 100 * q)
      buf[--pos] = PAIRS[d + 1]
      buf[--pos] = PAIRS[d]
      n = q
    }
    if (n >= 10) {
      buf[--pos] = PAIRS[2 * n + 1]
      buf[--pos] = PAIRS[2 * n]
    } else buf[--pos] = 0x30 + n
  }

  /** 0 ≤ n < 1e9 as exactly nine digits (zero-padded). */
  private pad9(n: number): void {
    this.reserve(9)
    const buf = this.buf
    let pos = this.pos + 9
    this.pos = pos
    for (let i = 0; i < 4; i++) {
      const q = (n / 100) | 0
      const d = 2 * (n - 100 * q)
      buf[--pos] = PAIRS[d + 1]
      buf[--pos] = PAIRS[d]
      n = q
    }
    buf[--pos] = 0x30 + n
  }

  /**
   * Hands over what was written (a view on a pooled block; `pool.release` it when done) and starts
   * again, empty, in another block about as large as what was written.
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos)
    this.buf = this.pool.get(Math.max(1 << 16, this.pos))
    this.pos = 0
    return out
  }

  /** The bytes written since `from` as a string. */
  toString(from = 0): string {
    return this.buf.toString("utf8", from, this.pos)
  }

  reset(): void {
    this.pos = 0
  }
}

/** UTF-8 bytes of a fragment (cached by callers). */
export const utf8 = (s: string): Buffer => Buffer.from(s, "utf8")
