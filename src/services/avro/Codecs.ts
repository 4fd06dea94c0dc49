/**
 * Avro OCF block codecs: `null`, `deflate` (raw RFC 1951, no zlib header) and `snappy` (block plus a
 * trailing big-endian CRC32 of the uncompressed bytes).
 */
import * as zlib from "node:zlib"
import snappy from "snappyjs"

export type CodecName = "null" | "deflate" | "snappy"

export interface Codec {
  readonly name: CodecName
  readonly decompress: (data: Uint8Array) => Uint8Array
  readonly compress: (data: Uint8Array) => Uint8Array
}

const crcTable = (() => {
  const t = new Int32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c
  }
  return t
})()

export const crc32 = (data: Uint8Array): number => {
  let c = -1
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8)
  return (c ^ -1) >>> 0
}

/**
 * The largest decompressed block accepted. The collector writes blocks of up to 80000 records (a few
 * MiB); a corrupt or hostile block must not decompress into gigabytes of memory.
 */
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024

const nullCodec: Codec = { name: "null", decompress: (d) => d, compress: (d) => d }

const deflateCodec: Codec = {
  name: "deflate",
  decompress: (d) => {
    try {
      return zlib.inflateRawSync(d, { maxOutputLength: MAX_BLOCK_BYTES })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new Error(`block decompresses to more than ${MAX_BLOCK_BYTES} bytes`)
      }
      throw e
    }
  },
  compress: (d) => zlib.deflateRawSync(d)
}

/**
 * The uncompressed length a snappy block declares (a leading unsigned varint of at most 5 bytes before
 * `end`), and where its data starts; undefined when the preamble is cut short or too long.
 */
export const snappyPreamble = (d: Uint8Array, end = d.length): { readonly length: number; readonly next: number } | undefined => {
  let n = 0
  for (let i = 0, mul = 1; i < 5 && i < end; i++, mul *= 128) {
    n += (d[i] & 0x7f) * mul
    if ((d[i] & 0x80) === 0) return { length: n, next: i + 1 }
  }
  return undefined
}

const snappyCodec: Codec = {
  name: "snappy",
  decompress: (d) => {
    if (d.length < 4) throw new Error("snappy block shorter than its CRC")
    const declared = snappyPreamble(d)
    if (declared === undefined) throw new Error("snappy block with a corrupt length")
    if (declared.length > MAX_BLOCK_BYTES) throw new Error(`block decompresses to more than ${MAX_BLOCK_BYTES} bytes`)
    const body = snappy.uncompress(Buffer.from(d.buffer, d.byteOffset, d.length - 4)) as Uint8Array
    const expected = Buffer.from(d.buffer, d.byteOffset + d.length - 4, 4).readUInt32BE(0)
    if (crc32(body) !== expected) throw new Error("snappy block CRC mismatch")
    return body
  },
  compress: (d) => {
    const body = snappy.compress(Buffer.from(d.buffer, d.byteOffset, d.length)) as Uint8Array
    const out = Buffer.alloc(body.length + 4)
    out.set(body, 0)
    out.writeUInt32BE(crc32(d), body.length)
    return out
  }
}

const codecs: Record<string, Codec> = { null: nullCodec, deflate: deflateCodec, snappy: snappyCodec }

/** The codec for an `avro.codec` metadata value (absent means `null`), or undefined if unsupported. */
export const codecFor = (name: string | undefined): Codec | undefined => codecs[name ?? "null"]
