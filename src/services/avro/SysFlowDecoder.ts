/**
 * Decodes SysFlow datums with the file's own writer schema (data-model.md §1.5): the union branch is
 * dispatched by its Avro full name, not its position, and each branch is projected by field name onto
 * the in-memory model, so every known layout (v1000 legacy, v2–v5) reads the same way.
 *
 * Fields that older layouts lack take their defaults (`ip` "NA", `filename` "", `entry` false, `podId`
 * null); a layout missing a mandatory field (the prototype layouts) is rejected up front (D13). Avro
 * `logicalType` annotations are ignored: the raw long is read (some traces mark nanoseconds as
 * timestamp-millis).
 */
import avro from "avsc"
import { ContainerTypes, RecordCode, RecordFullName, type SysFlowDatum } from "../../domain/sysflow.js"
import { BigIntLong } from "./BigIntLong.js"

const codeByName = new Map<string, RecordCode>(
  Object.entries(RecordFullName).map(([code, name]) => [name, Number(code) as RecordCode])
)

/** Fields every layout we read must have, by record code. */
const mandatory: Record<RecordCode, ReadonlyArray<string>> = {
  0: ["version", "exporter"],
  1: ["id", "name", "image", "imageid", "type", "privileged"],
  2: ["state", "oid", "poid", "ts", "exe", "exeArgs", "uid", "userName", "gid", "groupName", "tty", "containerId"],
  3: ["state", "oid", "ts", "restype", "path", "containerId"],
  4: ["procOID", "ts", "tid", "opFlags", "args", "ret"],
  5: ["procOID", "ts", "tid", "opFlags", "endTs", "sip", "sport", "dip", "dport", "proto", "fd",
    "numRRecvOps", "numWSendOps", "numRRecvBytes", "numWSendBytes"],
  6: ["procOID", "ts", "tid", "opFlags", "openFlags", "endTs", "fileOID", "fd",
    "numRRecvOps", "numWSendOps", "numRRecvBytes", "numWSendBytes"],
  7: ["procOID", "ts", "tid", "opFlags", "fileOID", "ret", "newFileOID"],
  8: ["procOID", "ts", "tid", "opFlags", "sip", "sport", "dip", "dport", "proto", "ret"],
  9: ["procOID", "ts", "numThreadsCloned", "opFlags", "endTs", "numThreadsExited", "numCloneErrors"],
  10: ["ts", "id", "name", "nodeName", "hostIP", "internalIP", "namespace", "restartCount", "labels",
    "selectors", "services"],
  11: ["kind", "action", "ts", "message"]
}

/** Defaults for fields that older layouts lack. */
const defaults: Partial<Record<RecordCode, Readonly<Record<string, unknown>>>> = {
  0: { ip: "NA", filename: "" },
  1: { podId: null },
  2: { entry: false }
}

const knownContainerTypes = new Set<string>(ContainerTypes)

/**
 * avsc decodes a `fixed` as a view of the block's buffer. A File stays in the entity cache for the whole
 * trace, so its FOID is copied: otherwise every cached file would keep its entire block alive.
 */
const ownFoid = (rec: Record<string, unknown>): void => {
  rec.oid = (rec.oid as Uint8Array).slice()
}

interface Branch {
  readonly code: RecordCode | -1
  readonly name: string
  readonly type: avro.Type
  /** Fills defaults / repairs values in place; undefined when the layout needs nothing. */
  readonly project: ((rec: Record<string, unknown>) => void) | undefined
}

/** Thrown by `decodeBlock`: which datum of the block failed and why. */
export class DatumError extends Error {
  constructor(
    readonly index: number,
    readonly bytePos: number,
    message: string
  ) {
    super(message)
  }
}

export interface SysFlowDecoder {
  /** Decodes `count` datums; datums decoded before a fault are passed to `onDatum` before it throws. */
  readonly decodeBlock: (data: Uint8Array, count: number, onDatum: (d: SysFlowDatum) => void) => void
  /** Branch names the reader does not know (logged once by the caller). */
  readonly unknownBranches: ReadonlyArray<string>
  /** Decodes one datum occupying the whole buffer (socket packets). */
  readonly decodeOne: (data: Uint8Array) => SysFlowDatum
}

/** Human-readable schema problems (no `rec` union, missing mandatory field...). */
export class SchemaError extends Error {}

const fieldNames = (t: avro.Type): ReadonlyArray<string> =>
  t.typeName === "record" ? (t as avro.types.RecordType).fields.map((f) => f.name) : []

const compileBranch = (t: avro.Type): Branch => {
  const name = t.name ?? t.typeName
  const code = codeByName.get(name) ?? -1
  if (code === -1) return { code, name, type: t, project: undefined }
  const present = new Set(fieldNames(t))
  const missing = mandatory[code].filter((f) => !present.has(f))
  if (missing.length > 0) {
    throw new SchemaError(`${name} lacks mandatory field(s) ${missing.join(", ")} (prototype layout, not supported)`)
  }
  const fill = Object.entries(defaults[code] ?? {}).filter(([f]) => !present.has(f))
  // ContainerType symbols outside the known set read as CT_DOCKER (D14); only checked when possible.
  const typeField = code === 1 ? (t as avro.types.RecordType).field("type")?.type : undefined
  const symbols = typeField !== undefined && typeField.typeName === "enum"
    ? (typeField as avro.types.EnumType).symbols
    : []
  const checkContainerType = symbols.some((s) => !knownContainerTypes.has(s))
  if (code === 3) return { code, name, type: t, project: ownFoid }
  if (fill.length === 0 && !checkContainerType) return { code, name, type: t, project: undefined }
  return {
    code,
    name,
    type: t,
    project: (rec) => {
      for (const [f, v] of fill) rec[f] = v
      if (checkContainerType && !knownContainerTypes.has(rec.type as string)) rec.type = "CT_DOCKER"
    }
  }
}

/** Removes `logicalType` annotations everywhere, so longs always come through our bigint long type. */
const stripLogicalTypes = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(stripLogicalTypes)
  if (schema === null || typeof schema !== "object") return schema
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(schema)) if (k !== "logicalType") out[k] = stripLogicalTypes(v)
  // `{ "type": "long" }` must become plain "long" so the registry's bigint long applies.
  const keys = Object.keys(out)
  return keys.length === 1 && keys[0] === "type" && typeof out.type === "string" ? out.type : out
}

// ---------------------------------------------------------------------------------------------------
// Hardening avsc against corrupt input (test/fuzz, and a review of avsc's readers for it). avsc trusts
// the bytes it reads: a corrupt
// array/map block count makes it loop (and allocate) that many times, whatever the buffer holds, and
// over-long varints are read as numbers that no `int`/`long` can hold. The wrappers below reject such
// input with an exception, which `decodeAt` turns into a DatumError like any other corrupt datum.

/** avsc's byte cursor (internal API: `buf`, `pos`, the varint readers). */
interface Tap {
  buf: Buffer
  pos: number
  readLong(): number
  skipLong(): void
  readString(): string
}

/** The avsc internals the guards use or replace. */
type Internal = avro.Type & {
  _read(tap: Tap): unknown
  _fromBuffer(buf: Buffer): unknown
}

/**
 * `int` that rejects values outside int32 (a varint of more than 5 bytes, NaN, ±Infinity), e.g. a
 * timestamp read into an int field by a shifted datum: fuzz seed 20240611, sample-v4-null with a byte
 * mutation gave `NetworkFlow.dip = 1700000000009000000`.
 */
const makeGuardedInt = (): avro.Type => {
  const base = avro.Type.forSchema("int") as Internal
  return Object.create(base, {
    _read: {
      value(tap: Tap): number {
        const start = tap.pos
        const v = tap.readLong()
        if ((v | 0) !== v && tap.pos <= tap.buf.length) throw new Error(`corrupt int at byte ${start} (${v} is outside int32)`)
        return v
      }
    }
  }) as avro.Type
}

/**
 * Our bigint `long` that rejects varints longer than 10 bytes or beyond 64 bits. BigIntLong decodes a
 * varint of any length, in time quadratic in its length: 100 kB of 0xff bytes in a packet's `ts` took
 * 0.4 s (1 MB: about 40 s) and gave a 700,000-bit value.
 */
const GuardedLong: avro.Type = Object.create(BigIntLong, {
  _read: {
    value(this: Internal, tap: Tap): unknown {
      const buf = tap.buf
      const start = tap.pos
      let p = start
      while (buf[p++] & 0x80) {
        if (p - start >= 10) throw new Error(`corrupt long at byte ${start} (varint longer than 10 bytes)`)
      }
      tap.pos = p
      if (p > buf.length) return undefined // truncated: avsc reports the datum as such
      // Ten bytes carry 70 bits; an int64 uses only the low bit of the tenth.
      if (p - start === 10 && buf[p - 1] > 1) throw new Error(`corrupt long at byte ${start} (beyond 64 bits)`)
      return this._fromBuffer(buf.subarray(start, p))
    }
  }
}) as avro.Type

/** Zero-size items (null, empty records, fixed(0)) take no bytes, so their count is capped instead. */
const MAX_ZERO_SIZE_ITEMS = 1 << 16

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

/**
 * A `typeHook` that builds array and map types (avsc's own, which are frozen) wrapped with a `_read`
 * that checks each block count against the bytes left in the buffer before looping: avsc would
 * otherwise spin (and fill an array) `count` times. A 13-byte socket packet whose `args` count read
 * 2^29 crashed the process out of memory (a fatal V8 error, which no catch sees).
 */
const guardedRepeatedTypes = (): ((schema: avro.Schema, opts: avro.ForSchemaOptions) => avro.Type | undefined) => {
  const check = (n: number, tap: Tap, itemSize: number, what: string): void => {
    const left = tap.buf.length - tap.pos
    if (!(itemSize === 0 ? n <= MAX_ZERO_SIZE_ITEMS : n * itemSize <= left)) {
      throw new Error(`corrupt ${what} block count ${n} at byte ${tap.pos} (${Math.max(0, left)} bytes left)`)
    }
  }
  const blockCount = (tap: Tap): number => {
    let n = tap.readLong()
    if (n < 0) {
      n = -n
      tap.skipLong() // block size in bytes
    }
    return n
  }
  const arrayRead = (items: Internal) => {
    const size = minSize(items)
    return (tap: Tap): Array<unknown> => {
      const val: Array<unknown> = []
      for (let n = blockCount(tap); n !== 0; n = blockCount(tap)) {
        check(n, tap, size, "array")
        while (n--) val.push(items._read(tap))
      }
      return val
    }
  }
  const mapRead = (values: Internal) => {
    const size = 1 + minSize(values) // each entry has a key
    return (tap: Tap): Record<string, unknown> => {
      const val: Record<string, unknown> = {}
      for (let n = blockCount(tap); n !== 0; n = blockCount(tap)) {
        check(n, tap, size, "map")
        while (n--) {
          const key = tap.readString()
          val[key] = values._read(tap)
        }
      }
      return val
    }
  }
  let building: unknown
  return (schema, opts) => {
    if (schema === building) {
      building = undefined // avsc's own call for the schema we are wrapping: let it build the type
      return undefined
    }
    if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return undefined
    const kind = (schema as { type?: unknown }).type
    if (kind !== "array" && kind !== "map") return undefined
    building = schema
    const t = avro.Type.forSchema(schema, opts)
    const read = kind === "array"
      ? arrayRead((t as avro.types.ArrayType).itemsType as Internal)
      : mapRead((t as avro.types.MapType).valuesType as Internal)
    return Object.create(t, { _read: { value: read } }) as avro.Type
  }
}

/** Builds a decoder for a writer schema; throws `SchemaError` when it is not a SysFlow schema we can read. */
export const makeSysFlowDecoder = (writerSchema: unknown): SysFlowDecoder => {
  let root: avro.Type
  try {
    root = avro.Type.forSchema(stripLogicalTypes(writerSchema) as avro.Schema, {
      registry: { long: GuardedLong, int: makeGuardedInt() } as unknown as Record<string, avro.Type>,
      wrapUnions: "auto",
      typeHook: guardedRepeatedTypes()
    })
  } catch (e) {
    throw new SchemaError(`invalid Avro schema: ${(e as Error).message}`)
  }
  const recField = root.typeName === "record" ? (root as avro.types.RecordType).field("rec") : undefined
  if (recField === undefined || !recField.type.typeName.startsWith("union")) {
    throw new SchemaError(`not a SysFlow schema: expected record sysflow.SysFlow with a union field 'rec', got ${root.name ?? root.typeName}`)
  }
  const branches = (recField.type as avro.types.WrappedUnionType).types.map(compileBranch)
  const unknownBranches = branches.filter((b) => b.code === -1).map((b) => b.name)

  const decodeAt = (buf: Buffer, pos: number, index: number, end: number): { datum: SysFlowDatum | undefined; pos: number } => {
    // Union branch index: a zig-zag varint.
    let n = 0
    let mul = 1
    let b: number
    const start = pos
    do {
      if (pos >= end) throw new DatumError(index, start, "datum truncated (union index)")
      b = buf[pos++]
      n += (b & 0x7f) * mul
      mul *= 128
    } while (b & 0x80)
    const branchIndex = n % 2 === 0 ? n / 2 : -(n + 1) / 2
    const branch = branches[branchIndex]
    if (branch === undefined) {
      throw new DatumError(index, start, `union branch ${branchIndex} out of range (schema has ${branches.length})`)
    }
    let res: { value: unknown; offset: number }
    try {
      res = branch.type.decode(buf, pos)
    } catch (e) {
      throw new DatumError(index, start, `${branch.name}: ${(e as Error).message}`)
    }
    if (res.offset < 0 || res.offset > end) throw new DatumError(index, start, `${branch.name} truncated`)
    if (branch.code === -1) return { datum: undefined, pos: res.offset }
    const rec = res.value as Record<string, unknown>
    if (branch.project !== undefined) branch.project(rec)
    return { datum: { code: branch.code, rec } as unknown as SysFlowDatum, pos: res.offset }
  }

  const asBuffer = (d: Uint8Array): Buffer => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.length))

  return {
    unknownBranches,
    decodeBlock: (data, count, onDatum) => {
      const buf = asBuffer(data)
      let pos = 0
      for (let i = 0; i < count; i++) {
        const r = decodeAt(buf, pos, i, buf.length)
        pos = r.pos
        if (r.datum !== undefined) onDatum(r.datum)
      }
      if (pos !== buf.length) {
        throw new DatumError(count, pos, `${buf.length - pos} bytes left over after ${count} datums`)
      }
    },
    decodeOne: (data) => {
      const buf = asBuffer(data)
      const r = decodeAt(buf, 0, 0, buf.length)
      if (r.pos !== buf.length) throw new DatumError(0, r.pos, `${buf.length - r.pos} bytes left over after the datum`)
      if (r.datum === undefined) throw new DatumError(0, 0, "datum of an unknown record type")
      return r.datum
    }
  }
}
