/**
 * A signed 64-bit integer as two unsigned 32-bit halves, and back, through one shared 8-byte buffer: no
 * arithmetic on bigints (the Avro decoder builds longs from halves, the JSON writer prints them from
 * halves). Single-threaded use only: each call overwrites the buffer.
 */
const halves = new Uint32Array(2)
const int64 = new BigInt64Array(halves.buffer)
const [LO, HI] = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? [0, 1] : [1, 0]

/** The int64 whose low and high 32 bits are `lo` and `hi` (taken modulo 2^32). */
export const fromHalves = (lo: number, hi: number): bigint => {
  halves[LO] = lo
  halves[HI] = hi
  return int64[0]
}

/** Stores `v` (an int64 value); `lowHalf` and `highHalf` read its halves until the next call. */
export const splitInt64 = (v: bigint): void => {
  int64[0] = v
}

export const lowHalf = (): number => halves[LO]

export const highHalf = (): number => halves[HI]
