/**
 * Test-side decoding of what the writers produce, through avsc's own container decoder (independent of
 * our encoder and of the project's reader), with bigint longs.
 */
import { Readable } from "node:stream"
import avro from "avsc"
import { RecordFullName } from "../../src/domain/sysflow.js"
import { BigIntLong } from "../../src/services/avro/BigIntLong.js"
import { codecFor } from "../../src/services/avro/Codecs.js"

const plainCodec = (name: "deflate" | "snappy") => (buf: Buffer, cb: (err: Error | null, out?: Buffer) => void) => {
  try {
    cb(null, Buffer.from(codecFor(name)!.decompress(buf)))
  } catch (e) {
    cb(e as Error)
  }
}
const codecs = {
  null: (buf: Buffer, cb: (err: Error | null, out?: Buffer) => void) => cb(null, buf),
  deflate: plainCodec("deflate"),
  snappy: plainCodec("snappy")
}

export const bigintType = (schema: unknown): avro.Type =>
  avro.Type.forSchema(schema as avro.Schema, {
    registry: { long: BigIntLong },
    typeHook: (s) =>
      typeof s === "object" && s !== null && (s as { type?: unknown }).type === "long" ? BigIntLong : undefined
  })

export interface Decoded {
  readonly meta: Record<string, Buffer>
  readonly sync: Buffer
  readonly schema: unknown
  /** Generic decoding with the file's schema: `{ rec: value }` for SysFlow, the value otherwise. */
  readonly values: unknown[]
}

export const decodeOcf = (bytes: Uint8Array): Promise<Decoded> =>
  new Promise((resolve, reject) => {
    const decoder = new avro.streams.BlockDecoder({ noDecode: true, codecs })
    let type: avro.Type | undefined
    let meta: Record<string, Buffer> = {}
    let sync: Buffer = Buffer.alloc(0)
    const values: unknown[] = []
    decoder.on("metadata", (_t: unknown, _codec: string, header: { meta: Record<string, Buffer>; sync: Buffer }) => {
      meta = header.meta
      sync = header.sync
      type = bigintType(JSON.parse(header.meta["avro.schema"].toString()))
    })
    decoder.on("data", (buf: Buffer) => values.push(type!.fromBuffer(buf)))
    decoder.on("error", reject)
    decoder.on("end", () => resolve({ meta, sync, schema: JSON.parse(meta["avro.schema"].toString()), values }))
    Readable.from([Buffer.from(bytes)]).pipe(decoder)
  })

/**
 * SysFlow datums as `{ code, rec }`, the shape the writer takes: the union is wrapped by full name, and
 * FOIDs (avsc gives a `fixed` as a Buffer) become their hex text.
 */
export const sysflowDatums = (d: Decoded): Array<{ code: number; rec: Record<string, unknown> }> =>
  d.values.map((v) => {
    const wrapped = (v as { rec: Record<string, Record<string, unknown>> }).rec
    const [name, raw] = Object.entries(wrapped)[0]
    const code = Object.entries(RecordFullName).find(([, n]) => n === name)![0]
    const rec = Object.fromEntries(Object.entries(raw).map(([k, x]) => [k, Buffer.isBuffer(x) ? x.toString("hex") : x]))
    return { code: Number(code), rec }
  })

/** Datum counts of the blocks of a container file, by walking its layout. */
export const blockCounts = (bytes: Uint8Array): number[] => {
  let pos = 4
  const long = (): number => {
    let n = 0
    let mul = 1
    let b: number
    do {
      b = bytes[pos++]
      n += (b & 0x7f) * mul
      mul *= 128
    } while (b & 0x80)
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2
  }
  // (`pos += long()` would add to the position read before the varint.)
  const skip = (n: number): void => {
    pos += n
  }
  for (let entries = long(); entries !== 0; entries = long()) {
    for (let i = 0; i < 2 * entries; i++) skip(long()) // key, value
  }
  skip(16)
  const counts: number[] = []
  while (pos < bytes.length) {
    counts.push(long())
    skip(long() + 16)
  }
  return counts
}
