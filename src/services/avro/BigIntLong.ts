/**
 * An avsc `long` type whose values are `bigint`: SysFlow timestamps are int64 nanoseconds, beyond 2^53.
 *
 * avsc hands us the raw zig-zag varint bytes (`noUnpack`), which we decode directly: numbers up to 7
 * bytes (49 bits) are accumulated as doubles, longer ones in bigint.
 */
import avro from "avsc"

const decodeVarint = (buf: Uint8Array): bigint => {
  const n = buf.length
  if (n <= 7) {
    let v = 0
    let mul = 1
    for (let i = 0; i < n; i++) {
      v += (buf[i] & 0x7f) * mul
      mul *= 128
    }
    // zig-zag: (v >>> 1) ^ -(v & 1), in double arithmetic (v < 2^49)
    return BigInt(v % 2 === 0 ? v / 2 : -(v + 1) / 2)
  }
  let v = 0n
  let shift = 0n
  for (let i = 0; i < n; i++) {
    v |= BigInt(buf[i] & 0x7f) << shift
    shift += 7n
  }
  return (v & 1n) === 0n ? v >> 1n : -((v + 1n) >> 1n)
}

const encodeVarint = (value: bigint): Buffer => {
  let z = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n))
  const bytes: number[] = []
  while (z >= 0x80n) {
    bytes.push(Number(z & 0x7fn) | 0x80)
    z >>= 7n
  }
  bytes.push(Number(z))
  return Buffer.from(bytes)
}

const MIN = -(1n << 63n)
const MAX = (1n << 63n) - 1n

export const BigIntLong = avro.types.LongType.__with(
  {
    fromBuffer: decodeVarint,
    toBuffer: encodeVarint,
    fromJSON: (v: unknown) => BigInt(v as string | number | bigint),
    toJSON: (v: bigint) => (v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v.toString()),
    isValid: (v: unknown) => typeof v === "bigint" && v >= MIN && v <= MAX,
    compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0)
  },
  true
)
