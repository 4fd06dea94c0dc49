/**
 * Incremental reader of Avro Object Container Files (data-model.md §1.1): header (magic, metadata map,
 * sync marker), then blocks of `long count, long byteLength, data, sync`.
 *
 * Bytes are pushed in as they are read from disk and whole blocks are pulled out, so a trace of any size
 * is read with memory bounded by one block. Faults throw a `TraceError` naming the file and the byte
 * offset where the fault was found; blocks returned before the fault are complete and valid.
 */
import { TraceError, errorText } from "../../domain/errors.js"
import { type Codec, codecFor, MAX_BLOCK_BYTES, snappyPreamble } from "./Codecs.js"

const MAGIC = [0x4f, 0x62, 0x6a, 0x01] // "Obj\x01"
const SUPPORTED_CODECS: ReadonlyArray<string> = ["null", "deflate", "snappy"]
/** Real headers have two or three metadata entries (codec, schema, sometimes more). */
const MAX_METADATA_ENTRIES = 1024
/**
 * The largest block accepted as stored in the file (compressed, for deflate and snappy), checked when
 * its header is read, before its bytes are buffered: a length a corrupt or hostile header claims (up to
 * 2^63) would otherwise be buffered whole (a 4 GiB claim: 6.4 GB resident). The collector writes
 * deflate blocks of a few MiB at most; decompressed blocks have their own bound (MAX_BLOCK_BYTES).
 */
export const MAX_STORED_BLOCK_BYTES = 64 * 1024 * 1024
/**
 * The largest datum count a block header may claim: every datum takes at least one byte (its union
 * index), so no valid block has more datums than it has decompressed bytes.
 */
export const MAX_BLOCK_DATUMS = MAX_BLOCK_BYTES

export interface OcfHeader {
  readonly schema: unknown
  readonly codec: Codec
  readonly sync: Uint8Array
  readonly metadata: ReadonlyMap<string, Uint8Array>
  /** Header length in bytes (offset of the first block). */
  readonly size: number
}

export interface OcfBlock {
  /** File offset of the block's first byte. */
  readonly offset: number
  readonly count: number
  /** Decompressed datum bytes. */
  readonly data: Uint8Array
}

/** Thrown internally when the buffered bytes end inside an item; the parser waits for more input. */
const NEED_MORE = Symbol("need more bytes")

class Cursor {
  pos: number
  constructor(
    readonly buf: Uint8Array,
    start: number
  ) {
    this.pos = start
  }

  long(): number {
    let n = 0
    let mul = 1
    let b: number
    let i = 0
    do {
      if (this.pos >= this.buf.length) throw NEED_MORE
      b = this.buf[this.pos++]
      n += (b & 0x7f) * mul
      mul *= 128
      if (++i > 10) throw new Error("varint longer than 10 bytes")
    } while (b & 0x80)
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2
  }

  bytes(len: number): Uint8Array {
    if (len < 0) throw new Error(`negative length ${len}`)
    if (this.pos + len > this.buf.length) throw NEED_MORE
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }
}

const decoder = new TextDecoder("utf-8", { fatal: false })

/**
 * Parsed writer schemas by their text: the files of a directory usually share one, parsed once. The
 * shared value is frozen (every header of that text returns the same object), and its identity lets
 * decoders be memoised without serialising it again.
 */
const parsedSchemas = new Map<string, unknown>()
const parseSchemaText = (text: string): unknown => {
  let schema = parsedSchemas.get(text)
  if (schema === undefined) {
    schema = deepFreeze(JSON.parse(text))
    if (parsedSchemas.size >= 16) parsedSchemas.clear()
    parsedSchemas.set(text, schema)
  }
  return schema
}

const deepFreeze = (v: unknown): unknown => {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}

export class OcfParser {
  /** Unread bytes: a window of `store`, which is reused from read to read. */
  private pending: Uint8Array = new Uint8Array(0)
  private store: Uint8Array = new Uint8Array(0)
  private storeStart = 0
  /** File offset of `pending[0]`. */
  private base = 0
  private hdr: OcfHeader | undefined

  constructor(readonly file: string) {}

  get header(): OcfHeader | undefined {
    return this.hdr
  }

  /** Bytes consumed so far (offset of the next unread byte). */
  get offset(): number {
    return this.base
  }

  /** Appends bytes; they are copied, so the caller may reuse its buffer. */
  push(chunk: Uint8Array): void {
    const len = this.pending.length
    if (this.store.length - this.storeStart - len < chunk.length) {
      // Compact (and grow if needed) so unread bytes start at 0 again.
      const store = len + chunk.length > this.store.length ? new Uint8Array(Math.max(2 * this.store.length, len + chunk.length)) : this.store
      store.set(this.pending, 0)
      this.store = store
      this.storeStart = 0
    }
    this.store.set(chunk, this.storeStart + len)
    this.pending = this.store.subarray(this.storeStart, this.storeStart + len + chunk.length)
  }

  /** The header, parsed as soon as all its bytes are there (undefined until then). */
  readHeader(): OcfHeader | undefined {
    if (this.hdr === undefined) this.parseHeader()
    return this.hdr
  }

  /** The next complete block, or undefined when more bytes are needed. Parses the header first. */
  next(): OcfBlock | undefined {
    const hdr = this.readHeader()
    if (hdr === undefined) return undefined
    const cur = new Cursor(this.pending, 0)
    let count: number
    let data: Uint8Array
    try {
      count = cur.long()
      const len = cur.long()
      if (count < 0 || len < 0) this.fail("Block", 0, `negative block count ${count} or size ${len}`)
      if (len > MAX_STORED_BLOCK_BYTES) this.fail("Block", 0, `block of ${len} bytes, more than the ${MAX_STORED_BLOCK_BYTES} allowed`)
      if (count > MAX_BLOCK_DATUMS) this.fail("Block", 0, `block of ${count} datums, more than the ${MAX_BLOCK_DATUMS} allowed`)
      data = cur.bytes(len)
      const sync = cur.bytes(16)
      if (!sameBytes(sync, hdr.sync)) this.fail("Block", cur.pos - 16, "sync marker mismatch")
    } catch (e) {
      if (e === NEED_MORE) return undefined
      throw this.asTraceError(e, "Block", 0)
    }
    const offset = this.base
    let plain: Uint8Array
    try {
      if (hdr.codec.name === "snappy") checkSnappyBlock(data)
      // The null codec returns its input, a view of the reused store: copy it out.
      plain = hdr.codec.name === "null" ? data.slice() : hdr.codec.decompress(data)
    } catch (e) {
      throw this.asTraceError(e, "Block", 0)
    }
    this.consume(cur.pos)
    return { offset, count, data: plain }
  }

  /** Call at end of input: leftover bytes mean the file was truncated. */
  end(): void {
    if (this.hdr === undefined) {
      this.fail("Header", this.pending.length, this.pending.length === 0 ? "empty file" : "truncated header")
    }
    if (this.pending.length > 0) {
      this.fail("Block", 0, `truncated block (${this.pending.length} trailing bytes)`)
    }
  }

  private parseHeader(): boolean {
    const buf = this.pending
    for (let i = 0; i < MAGIC.length; i++) {
      if (i >= buf.length) return false
      if (buf[i] !== MAGIC[i]) this.fail("Header", 0, "not an Avro object container file (bad magic)")
    }
    const cur = new Cursor(buf, 4)
    const metadata = new Map<string, Uint8Array>()
    let sync: Uint8Array
    let entries = 0
    try {
      for (;;) {
        let n = cur.long()
        if (n === 0) break
        if (n < 0) {
          n = -n
          cur.long()
        }
        for (let i = 0; i < n; i++) {
          // The header is parsed again from the start each time more bytes arrive, so its cost must not
          // grow with the bytes buffered: a corrupt entry count over empty entries (2 bytes each) made
          // every pass walk the whole buffer, quadratic up to the 64 MiB cap (8 MiB of zeros: 13 s).
          if (++entries > MAX_METADATA_ENTRIES) this.fail("Header", cur.pos, `more than ${MAX_METADATA_ENTRIES} metadata entries`)
          const key = decoder.decode(cur.bytes(cur.long()))
          metadata.set(key, cur.bytes(cur.long()).slice())
        }
      }
      sync = cur.bytes(16).slice()
    } catch (e) {
      if (e === NEED_MORE) {
        if (buf.length > 64 * 1024 * 1024) this.fail("Header", buf.length, "header larger than 64 MiB")
        return false
      }
      throw this.asTraceError(e, "Header", cur.pos)
    }
    const codecName = metadata.has("avro.codec") ? decoder.decode(metadata.get("avro.codec")) : undefined
    // `codecFor` indexes a plain object, so `avro.codec` = "constructor" / "valueOf" / "__proto__" found
    // an Object.prototype member and failed later as a confusing Block error (fuzz, seed 20240611): only
    // the codec names we implement are looked up.
    const codec = SUPPORTED_CODECS.includes(codecName ?? "null") ? codecFor(codecName) : undefined
    if (codec === undefined) this.fail("Codec", 0, `codec '${codecName}' (supported: null, deflate, snappy)`)
    const rawSchema = metadata.get("avro.schema")
    if (rawSchema === undefined) this.fail("Header", 0, "no avro.schema in the file metadata")
    let schema: unknown
    try {
      schema = parseSchemaText(decoder.decode(rawSchema))
    } catch (e) {
      this.fail("Header", 0, `avro.schema is not valid JSON: ${(e as Error).message}`)
    }
    this.hdr = { schema, codec: codec!, sync: sync!, metadata, size: cur.pos }
    this.consume(cur.pos)
    return true
  }

  private consume(n: number): void {
    this.pending = this.pending.subarray(n)
    this.storeStart += n
    this.base += n
  }

  private fail(reason: TraceError["reason"], relOffset: number, detail: string): never {
    throw new TraceError({ reason, file: this.file, offset: this.base + relOffset, detail })
  }

  private asTraceError(e: unknown, reason: TraceError["reason"], relOffset: number): TraceError {
    if (e instanceof TraceError) return e
    const detail = errorText(e)
    return new TraceError({ reason, file: this.file, offset: this.base + relOffset, detail })
  }
}

/**
 * Throws unless a snappy block (Avro framing: a raw snappy stream, then a 4-byte CRC) is well-formed:
 * every literal and copy inside the input and the output, the output exactly the length the preamble
 * declares. snappyjs trusts its input (found by test/fuzz, seed 1): a literal whose 4-byte length is
 * negative as an int32 moves its cursor backwards, so the 7-byte stream `0a fc fa ff ff ff 00` loops
 * forever; copies beyond the declared length write out of bounds (one flipped bit in a 2.5 kB block
 * took 4.5 s); and the declared length (up to 4 GiB) is allocated before anything is checked.
 * A linear scan, cheap next to decompression. (Its natural home is the codec, Codecs.ts; it lives here,
 * the one place untrusted blocks are decompressed.)
 */
const checkSnappyBlock = (block: Uint8Array): void => {
  const end = block.length - 4
  const corrupt = (what: string): never => {
    throw new Error(`corrupt snappy block: ${what}`)
  }
  if (end < 1) corrupt("no data before the CRC")
  const preamble = snappyPreamble(block, end)
  if (preamble === undefined || preamble.length > 0xffffffff) return corrupt("bad length preamble")
  const declared = preamble.length
  let pos = preamble.next
  let out = 0
  while (pos < end) {
    const tag = block[pos++]
    const kind = tag & 3
    let len: number
    if (kind === 0) {
      // Literal: length in the tag, or in the next 1–4 bytes (little-endian) for long ones.
      len = (tag >>> 2) + 1
      if (len > 60) {
        const n = len - 60
        if (pos + n > end) corrupt("truncated literal length")
        len = 1
        for (let i = 0, m = 1; i < n; i++, m *= 256) len += block[pos + i] * m
        pos += n
      }
      if (pos + len > end) corrupt("literal runs past the end of the block")
      pos += len
    } else {
      // Copy: 1, 2 or 4 offset bytes; the offset must point into what was already produced.
      const n = kind === 1 ? 1 : kind === 2 ? 2 : 4
      if (pos + n > end) corrupt("truncated copy")
      let offset = 0
      for (let i = 0, m = 1; i < n; i++, m *= 256) offset += block[pos + i] * m
      pos += n
      if (kind === 1) {
        len = ((tag >>> 2) & 7) + 4
        offset += (tag >>> 5) * 256
      } else len = (tag >>> 2) + 1
      if (offset === 0 || offset > out) corrupt("copy from outside the output")
    }
    out += len
    if (out > declared) corrupt(`output longer than the declared ${declared} bytes`)
  }
  if (out !== declared) corrupt(`output of ${out} bytes, ${declared} declared`)
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
