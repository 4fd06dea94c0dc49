/**
 * Avro binary decoding compiled from a schema: each record type becomes a generated function that reads
 * its fields in writer order into locals and returns one object literal, so every record of a type has
 * the same hidden class, and nothing is allocated but the values themselves.
 *
 * Values: `long` → bigint (exact int64; small values come from a shared table, the rest are built from
 * two 32-bit halves without intermediate bigints), `int` → number, `string` → string, `fixed` → lowercase
 * hex string (SysFlow's only fixed is the FOID, which is used as a map key and shown in hex), `enum` →
 * symbol, unions → the branch's value (every SysFlow union is `null` or one type), `bytes` → a copied
 * Uint8Array, `map` → an object whose keys are all data (`__proto__` too).
 *
 * Hostile input is rejected, never trusted: varints longer than their type allows, ints outside int32,
 * and array/map block counts larger than the bytes left (avsc loops and allocates that many times) throw
 * an `AvroReadError`. Reads past the end are not checked byte by byte: they leave the cursor beyond the
 * buffer, which the caller checks once per datum (`cursor.pos > cursor.buf.length` means truncated).
 *
 * avsc parses the schema (names, namespaces, validation); only its type tree is used here.
 */
import avro from "avsc"
import { fromHalves } from "../../domain/int64Halves.js"

/** Corrupt input: the message names the byte offset (within the decoded buffer) where it was found. */
export class AvroReadError extends Error {}

/** A read position in a buffer. */
export interface Cursor {
  buf: Buffer
  pos: number
}

export type Reader<T = unknown> = (c: Cursor) => T

/** Buffer's native slicers (not in its typings; avsc relies on them too). */
interface NativeSlices {
  utf8Slice(start: number, end: number): string
  hexSlice(start: number, end: number): string
}

// ---------------------------------------------------------------------------------------------------
// Primitive readers

/** Bigints of the values a 1- or 2-byte varint holds ([-8192, 8191]), made on first use. */
const SMALL = 8192
const smallLongs: Array<bigint | undefined> = new Array(2 * SMALL).fill(undefined)
const smallLong = (v: number): bigint => smallLongs[v + SMALL] ?? (smallLongs[v + SMALL] = BigInt(v))

const unzigzag = (n: number): number => (n % 2 === 0 ? n / 2 : -(n + 1) / 2)

/** A `long` as a bigint. */
export const readLong = (c: Cursor): bigint => {
  const buf = c.buf
  const start = c.pos
  let pos = start
  let b = buf[pos++]
  let lo = b & 0x7f
  if ((b & 0x80) === 0) {
    c.pos = pos
    return smallLong((lo >>> 1) ^ -(lo & 1))
  }
  b = buf[pos++]
  lo |= (b & 0x7f) << 7
  if ((b & 0x80) === 0) {
    c.pos = pos
    return smallLong((lo >>> 1) ^ -(lo & 1))
  }
  // Up to 7 bytes (49 bits) the value is exact in a double.
  let n = lo
  let mul = 16384
  for (let i = 2; i < 7; i++) {
    b = buf[pos++]
    n += (b & 0x7f) * mul
    if ((b & 0x80) === 0) {
      c.pos = pos
      return BigInt(unzigzag(n))
    }
    mul *= 128
  }
  // 8 to 10 bytes: the low 28 bits are in `lo` (bytes 0-3), the rest accumulates in `hi`.
  pos = start
  lo = 0
  for (let i = 0; i < 4; i++) lo |= (buf[pos++] & 0x7f) << (7 * i)
  b = buf[pos++] // byte 4: bits 28-34
  lo = (lo | (b << 28)) >>> 0
  let hi = (b & 0x7f) >>> 4
  for (let shift = 3; ; shift += 7) {
    b = buf[pos++]
    if (shift === 31) {
      // The tenth byte holds bit 63 only.
      if (b > 1) throw new AvroReadError(`corrupt long at byte ${start} (${b & 0x80 ? "varint longer than 10 bytes" : "beyond 64 bits"})`)
      hi |= b << 31
      break
    }
    hi |= (b & 0x7f) << shift
    if ((b & 0x80) === 0) break
  }
  c.pos = pos
  // zig-zag: (u >>> 1) ^ -(u & 1) on the 64-bit pair.
  const neg = lo & 1
  lo = (lo >>> 1) | (hi << 31)
  hi = hi >>> 1
  return neg ? fromHalves(~lo, ~hi) : fromHalves(lo, hi)
}

/** A `long` as a double, for lengths and counts (exact up to 2^53; larger ones are rejected by their users). */
export const readSize = (c: Cursor): number => {
  const buf = c.buf
  const start = c.pos
  let pos = start
  let n = 0
  let mul = 1
  let b: number
  do {
    if (pos - start >= 10) throw new AvroReadError(`corrupt long at byte ${start} (varint longer than 10 bytes)`)
    b = buf[pos++]
    n += (b & 0x7f) * mul
    mul *= 128
  } while (b & 0x80)
  c.pos = pos
  return unzigzag(n)
}

/** An `int`: at most 5 varint bytes, within int32. */
export const readInt = (c: Cursor): number => {
  const buf = c.buf
  let pos = c.pos
  let b = buf[pos++]
  let n = b & 0x7f
  if (b & 0x80) {
    b = buf[pos++]
    n |= (b & 0x7f) << 7
    if (b & 0x80) {
      b = buf[pos++]
      n |= (b & 0x7f) << 14
      if (b & 0x80) {
        b = buf[pos++]
        n |= (b & 0x7f) << 21
        if (b & 0x80) {
          b = buf[pos++]
          // The fifth byte holds bits 28-31 only.
          if (b > 0x0f) throw new AvroReadError(`corrupt int at byte ${c.pos} (outside int32)`)
          n |= b << 28
        }
      }
    }
  }
  c.pos = pos
  return (n >>> 1) ^ -(n & 1)
}

export const readBoolean = (c: Cursor): boolean => c.buf[c.pos++] !== 0

export const readNull = (_c: Cursor): null => null

export const readFloat = (c: Cursor): number => {
  const pos = c.pos
  c.pos += 4
  return c.pos > c.buf.length ? 0 : c.buf.readFloatLE(pos)
}

export const readDouble = (c: Cursor): number => {
  const pos = c.pos
  c.pos += 8
  return c.pos > c.buf.length ? 0 : c.buf.readDoubleLE(pos)
}

/** The start of a length-prefixed item's bytes; the cursor moves past them (beyond the buffer when truncated). */
const lengthPrefixed = (c: Cursor, what: string): number => {
  const at = c.pos
  const len = readSize(c)
  if (len < 0) throw new AvroReadError(`corrupt ${what} length ${len} at byte ${at}`)
  const start = c.pos
  c.pos = start + len
  return start
}

export const readString = (c: Cursor): string => {
  const start = lengthPrefixed(c, "string")
  return c.pos > c.buf.length ? "" : (c.buf as unknown as NativeSlices).utf8Slice(start, c.pos)
}

export const readBytes = (c: Cursor): Uint8Array => {
  const start = lengthPrefixed(c, "bytes")
  return c.pos > c.buf.length ? new Uint8Array(0) : Uint8Array.prototype.slice.call(c.buf, start, c.pos)
}

const readFixedHex = (size: number): Reader<string> => (c) => {
  const start = c.pos
  c.pos += size
  return c.pos > c.buf.length ? "" : (c.buf as unknown as NativeSlices).hexSlice(start, c.pos)
}

// ---------------------------------------------------------------------------------------------------
// Repeated types: block counts are checked against the bytes left before looping

/** Zero-size items (null, empty records, fixed(0)) take no bytes, so their count is capped instead. */
const MAX_ZERO_SIZE_ITEMS = 1 << 16

const blockCount = (c: Cursor, itemSize: number, what: string): number => {
  let n = readSize(c)
  if (n < 0) {
    n = -n
    readSize(c) // block size in bytes
  }
  const left = c.buf.length - c.pos
  if (!(itemSize === 0 ? n <= MAX_ZERO_SIZE_ITEMS : n * itemSize <= left)) {
    throw new AvroReadError(`corrupt ${what} block count ${n} at byte ${c.pos} (${Math.max(0, left)} bytes left)`)
  }
  return n
}

const readArray = <T>(items: Reader<T>, itemSize: number): Reader<Array<T>> => (c) => {
  const out: Array<T> = []
  for (let n = blockCount(c, itemSize, "array"); n !== 0; n = blockCount(c, itemSize, "array")) {
    while (n--) out.push(items(c))
  }
  return out
}

const readMap = <T>(values: Reader<T>, valueSize: number): Reader<Record<string, T>> => (c) => {
  const out: Record<string, T> = {}
  for (let n = blockCount(c, 1 + valueSize, "map"); n !== 0; n = blockCount(c, 1 + valueSize, "map")) {
    while (n--) {
      const key = readString(c)
      // A "__proto__" key must be data, not a prototype change.
      Object.defineProperty(out, key, { value: values(c), enumerable: true, writable: true, configurable: true })
    }
  }
  return out
}

const readEnum = (name: string, symbols: ReadonlyArray<string>): Reader<string> => (c) => {
  const at = c.pos
  const i = readInt(c)
  const s = symbols[i]
  if (s === undefined) throw new AvroReadError(`corrupt ${name} symbol index ${i} at byte ${at}`)
  return s
}

const readUnion = (branches: ReadonlyArray<Reader>): Reader => (c) => {
  const at = c.pos
  const i = readInt(c)
  const r = branches[i]
  if (r === undefined) throw new AvroReadError(`union branch ${i} at byte ${at} out of range (${branches.length} branches)`)
  return r(c)
}

/** A lower bound of a type's encoded size in bytes (0 is always a safe answer). */
const minSize = (t: avro.Type, seen: Set<avro.Type> = new Set()): number => {
  if (seen.has(t)) return 0 // recursive type: stay conservative
  seen.add(t)
  try {
    switch (t.typeName) {
      case "null":
        return 0
      case "float":
        return 4
      case "double":
        return 8
      case "fixed":
        return (t as avro.types.FixedType).size
      case "record":
      case "error":
        return (t as avro.types.RecordType).fields.reduce((n, f) => n + minSize(f.type, seen), 0)
      default:
        // boolean, int, long, string, bytes, enum, array, map, union: at least one byte.
        return 1
    }
  } finally {
    seen.delete(t)
  }
}

// ---------------------------------------------------------------------------------------------------
// Compilation

/** How a record's object is assembled from the fields read (in writer order). */
export interface RecordLayout {
  /** Output keys in order; each takes the writer field of that name, else `defaults[key]` (undefined if none). */
  readonly keys: ReadonlyArray<string>
  readonly defaults?: Readonly<Record<string, unknown>>
}

/**
 * Builds readers for a parsed schema. `layoutOf` may fix the key order (and defaults) of named records so
 * every writer layout of a record yields the same object shape; other records keep writer order.
 */
export class ReaderCompiler {
  private readonly byType = new Map<avro.Type, Reader>()

  constructor(private readonly layoutOf: (t: avro.types.RecordType) => RecordLayout | undefined = () => undefined) {}

  reader(t: avro.Type): Reader {
    const known = this.byType.get(t)
    if (known !== undefined) return known
    switch (t.typeName) {
      case "null":
        return readNull
      case "boolean":
        return readBoolean
      case "int":
        return readInt
      case "long":
        return readLong
      case "float":
        return readFloat
      case "double":
        return readDouble
      case "string":
        return readString
      case "bytes":
        return readBytes
      case "fixed":
        return this.keep(t, readFixedHex((t as avro.types.FixedType).size))
      case "enum":
        return this.keep(t, readEnum(t.name ?? "enum", (t as avro.types.EnumType).symbols))
      case "array": {
        const items = (t as avro.types.ArrayType).itemsType
        return this.keep(t, readArray(this.reader(items), minSize(items)))
      }
      case "map": {
        const values = (t as avro.types.MapType).valuesType
        return this.keep(t, readMap(this.reader(values), minSize(values)))
      }
      case "union:unwrapped":
      case "union:wrapped":
        return this.keep(t, readUnion((t as avro.types.UnwrappedUnionType).types.map((b) => this.reader(b))))
      case "record":
      case "error":
        return this.record(t as avro.types.RecordType)
      default:
        // Logical types are stripped before parsing; anything else is not an Avro type we know.
        throw new AvroReadError(`unsupported Avro type ${t.typeName}`)
    }
  }

  private keep(t: avro.Type, r: Reader): Reader {
    this.byType.set(t, r)
    return r
  }

  /** A generated function: fields into locals in writer order, then one object literal in layout order. */
  private record(t: avro.types.RecordType): Reader {
    // Recursive records call through a slot filled once the function exists.
    const slot: { read: Reader } = { read: () => undefined }
    this.byType.set(t, (c) => slot.read(c))
    const fields = t.fields
    const layout = this.layoutOf(t) ?? { keys: fields.map((f) => f.name) }
    const readers = fields.map((f) => this.reader(f.type))
    const defaults = layout.defaults ?? {}
    const reads = fields.map((_f, i) => `const f${i} = r[${i}](c);`).join("\n")
    const props = layout.keys.map((k) => {
      const i = fields.findIndex((f) => f.name === k)
      const value = i >= 0 ? `f${i}` : `d[${JSON.stringify(k)}]`
      // `{"__proto__": v}` would set the prototype: that one key is computed (plain keys keep the literal fast).
      return `${k === "__proto__" ? '["__proto__"]' : JSON.stringify(k)}: ${value}`
    })
    const body = `return function read(c) {\n${reads}\nreturn {${props.join(", ")}};\n}`
    slot.read = new Function("r", "d", body)(readers, defaults) as Reader
    this.byType.set(t, slot.read)
    return slot.read
  }
}

/** Parses a schema with avsc (without logical types: the raw values are read). */
export const parseSchema = (schema: unknown): avro.Type =>
  avro.Type.forSchema(stripLogicalTypes(schema) as avro.Schema, { wrapUnions: "auto" })

/** Removes `logicalType` annotations everywhere (some traces mark nanoseconds as timestamp-millis). */
export const stripLogicalTypes = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(stripLogicalTypes)
  if (schema === null || typeof schema !== "object") return schema
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(schema)) if (k !== "logicalType") out[k] = stripLogicalTypes(v)
  const keys = Object.keys(out)
  return keys.length === 1 && keys[0] === "type" && typeof out.type === "string" ? out.type : out
}
