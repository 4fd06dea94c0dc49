/**
 * Avro Object Container File writer (data-model.md §1.1): magic `Obj\x01`, a metadata map (`avro.codec`,
 * `avro.schema`), a 16-byte sync marker, then blocks of `long count, long byteLength, data, sync`.
 *
 * The core is synchronous and works on Buffers (`encodeHeader`, `encodeBlock`); `OcfWriter` batches
 * datums into blocks and hands each finished block to a `ByteSink` (a file, or memory). A file can be
 * reopened for appending: its header is read back so new blocks reuse its codec and sync marker.
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { type Codec, type CodecName, codecFor } from "./Codecs.js"
import { OcfParser } from "./OcfReader.js"

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]) // "Obj\x01"
const SYNC_SIZE = 16

/** What a new file's header says. `schema` is the schema's JSON value (serialised compactly). */
export interface OcfHeaderInit {
  readonly schema: unknown
  readonly codec: CodecName
  readonly sync: Uint8Array
  /** Extra metadata entries, after `avro.codec` and `avro.schema`. */
  readonly metadata?: Readonly<Record<string, string | Uint8Array>>
}

/** A sync marker: derived from `seed` (so output is reproducible), random without one. */
export const syncMarker = (seed?: string): Buffer =>
  seed === undefined ? randomBytes(SYNC_SIZE) : createHash("md5").update(seed).digest()

/** Zig-zag varint of a safe integer (block counts, lengths, map sizes). */
const longBytes = (n: number): Buffer => {
  let z = n >= 0 ? n * 2 : -n * 2 - 1
  const out: number[] = []
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80)
    z = Math.floor(z / 0x80)
  }
  out.push(z)
  return Buffer.from(out)
}

const avroBytes = (data: Uint8Array): Buffer[] => [longBytes(data.length), Buffer.from(data)]

export const encodeHeader = (init: OcfHeaderInit): Buffer => {
  if (init.sync.length !== SYNC_SIZE) throw new Error(`sync marker must be ${SYNC_SIZE} bytes`)
  // Codec first, then schema: the order the collector writes.
  const entries: Array<[string, string | Uint8Array]> = [
    ["avro.codec", init.codec],
    ["avro.schema", JSON.stringify(init.schema)],
    ...Object.entries(init.metadata ?? {})
  ]
  const parts: Buffer[] = [MAGIC, longBytes(entries.length)]
  for (const [key, value] of entries) {
    parts.push(...avroBytes(Buffer.from(key)), ...avroBytes(typeof value === "string" ? Buffer.from(value) : value))
  }
  parts.push(longBytes(0), Buffer.from(init.sync))
  return Buffer.concat(parts)
}

/** One block: `count` datums whose concatenated encodings are `data`. */
export const encodeBlock = (data: Uint8Array, count: number, codec: Codec, sync: Uint8Array): Buffer => {
  const body = codec.compress(data)
  return Buffer.concat([longBytes(count), longBytes(body.length), body, sync])
}

/** Where encoded bytes go. Writes are synchronous so a writer's output order is its call order. */
export interface ByteSink {
  write(chunk: Uint8Array): void
  close(): void
}

export const fileSink = (path: string, append = false): ByteSink => {
  const fd = fs.openSync(path, append ? "a" : "w")
  return {
    write: (chunk) => {
      let off = 0
      while (off < chunk.length) off += fs.writeSync(fd, chunk, off)
    },
    close: () => fs.closeSync(fd)
  }
}

/** Collects everything written, for in-memory traces and tests. */
export class MemorySink implements ByteSink {
  private readonly chunks: Uint8Array[] = []

  write(chunk: Uint8Array): void {
    this.chunks.push(chunk)
  }

  close(): void {}

  bytes(): Buffer {
    return Buffer.concat(this.chunks)
  }
}

/**
 * Writes one datum into `buf` at `pos`; returns the end position, or a negative number (the shortfall)
 * when `buf` is too small. avsc's `Type#encode` has exactly this contract.
 */
export interface DatumEncoder<T> {
  encode(value: T, buf: Buffer, pos: number): number
}

export interface OcfFileOptions {
  /** Datums per block (default 1000, about what the collector's blocks hold). */
  readonly blockSize?: number
  /** Append to the file when it exists and is not empty; its header's codec and sync marker win. */
  readonly append?: boolean
}

/** The parts of an existing file's header that appending needs. */
export interface OcfFileHeader {
  readonly schema: unknown
  readonly codec: Codec
  readonly sync: Uint8Array
}

/** Reads just the header of an existing container file. */
export const readOcfHeader = (path: string): OcfFileHeader => {
  const parser = new OcfParser(path)
  const fd = fs.openSync(path, "r")
  try {
    const chunk = Buffer.alloc(64 * 1024)
    let pos = 0
    while (parser.header === undefined) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, pos)
      if (n === 0) parser.end() // throws: empty or truncated header
      parser.push(Buffer.from(chunk.subarray(0, n)))
      pos += n
      parser.next()
    }
    return parser.header
  } finally {
    fs.closeSync(fd)
  }
}

export class OcfWriter<T> {
  private buf = Buffer.alloc(64 * 1024)
  private pos = 0
  private count = 0
  private closed = false
  private readonly blockSize: number

  /** Writes blocks only: the sink must already hold a header with this codec and sync marker. */
  constructor(
    private readonly sink: ByteSink,
    private readonly encoder: DatumEncoder<T>,
    private readonly codec: Codec,
    private readonly sync: Uint8Array,
    blockSize = 1000
  ) {
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new Error(`block size must be a positive integer`)
    this.blockSize = blockSize
  }

  /** A new container: writes the header to `sink`. */
  static create<T>(
    sink: ByteSink,
    encoder: DatumEncoder<T>,
    init: OcfHeaderInit,
    opts: { readonly blockSize?: number } = {}
  ): OcfWriter<T> {
    const codec = codecFor(init.codec)
    if (codec === undefined) throw new Error(`unsupported codec '${init.codec}'`)
    sink.write(encodeHeader(init))
    return new OcfWriter(sink, encoder, codec, init.sync, opts.blockSize)
  }

  /** A container file; with `append` and an existing non-empty file, continues it instead. */
  static toFile<T>(
    path: string,
    encoder: DatumEncoder<T>,
    init: OcfHeaderInit,
    opts: OcfFileOptions = {}
  ): OcfWriter<T> {
    if (opts.append === true && fs.existsSync(path) && fs.statSync(path).size > 0) {
      const header = readOcfHeader(path)
      return new OcfWriter(fileSink(path, true), encoder, header.codec, header.sync, opts.blockSize)
    }
    const sink = fileSink(path)
    try {
      return OcfWriter.create(sink, encoder, init, opts)
    } catch (e) {
      sink.close()
      throw e
    }
  }

  write(value: T): void {
    if (this.closed) throw new Error("write after close")
    for (;;) {
      const end = this.encoder.encode(value, this.buf, this.pos)
      if (end >= 0) {
        this.pos = end
        break
      }
      const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.buf.length - end))
      this.buf.copy(grown, 0, 0, this.pos)
      this.buf = grown
    }
    if (++this.count >= this.blockSize) this.flush()
  }

  /** Emits the pending datums as a block (nothing when there are none). */
  flush(): void {
    if (this.count === 0) return
    this.sink.write(encodeBlock(this.buf.subarray(0, this.pos), this.count, this.codec, this.sync))
    this.pos = 0
    this.count = 0
  }

  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    this.sink.close()
  }
}
