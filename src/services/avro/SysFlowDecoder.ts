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

/** Builds a decoder for a writer schema; throws `SchemaError` when it is not a SysFlow schema we can read. */
export const makeSysFlowDecoder = (writerSchema: unknown): SysFlowDecoder => {
  let root: avro.Type
  try {
    root = avro.Type.forSchema(stripLogicalTypes(writerSchema) as avro.Schema, {
      registry: { long: BigIntLong } as unknown as Record<string, avro.Type>,
      wrapUnions: "auto"
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
