/**
 * Decodes SysFlow datums with the file's own writer schema (data-model.md §1.5): the union branch is
 * dispatched by its Avro full name, not its position, and each branch is projected by field name onto
 * the in-memory model, so every known layout (v1000 legacy, v2–v5) reads into objects of one shape.
 *
 * Fields that older layouts lack take their defaults (`ip` "NA", `filename` "", `entry` false, `podId`
 * null; v5's `cwd` and `env`, which the model leaves out, and any field the model does not know are
 * kept when present, after the model's fields); a layout missing a mandatory field (the prototype layouts) is rejected up
 * front (D13). Avro `logicalType` annotations are ignored: the raw long is read (some traces mark
 * nanoseconds as timestamp-millis). The decoding itself is compiled from the schema (CompiledReader).
 */
import type avro from "avsc"
import { SysFlowSchemaV5 } from "../../domain/avroSchema.js"
import { ContainerTypes, RecordCode, RecordFullName, type SysFlowDatum } from "../../domain/sysflow.js"
import { type Cursor, parseSchema, type Reader, ReaderCompiler, readSize, type RecordLayout } from "./CompiledReader.js"

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

/** The key order of each record type: the v5 layout's, so that every writer layout gives one shape. */
const canonicalKeys: ReadonlyMap<string, ReadonlyArray<string>> = new Map(
  (((parseSchema(SysFlowSchemaV5) as avro.types.RecordType).field("rec")!.type as avro.types.UnwrappedUnionType).types)
    .map((t) => [t.name!, (t as avro.types.RecordType).fields.map((f) => f.name)])
)

interface Branch {
  readonly code: RecordCode | -1
  readonly name: string
  readonly read: Reader
  /** Repairs values in place; undefined when the layout needs nothing. */
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

/** Checks a branch's layout (D13) and says how its records are assembled. */
const layoutOf = (t: avro.types.RecordType): RecordLayout | undefined => {
  const code = codeByName.get(t.name ?? "")
  if (code === undefined) return undefined
  const present = new Set(fieldNames(t))
  const missing = mandatory[code].filter((f) => !present.has(f))
  if (missing.length > 0) {
    throw new SchemaError(`${t.name} lacks mandatory field(s) ${missing.join(", ")} (prototype layout, not supported)`)
  }
  const fill = defaults[code] ?? {}
  const canonical = canonicalKeys.get(t.name!) ?? []
  // The model's fields in v5 order, then whatever else the writer has (a newer layout's additions are
  // kept for plugins and library users, after the fields the model knows).
  const keys = [...canonical.filter((k) => present.has(k) || k in fill), ...fieldNames(t).filter((k) => !canonical.includes(k))]
  return { keys, defaults: fill }
}

/** ContainerType symbols outside the known set read as CT_DOCKER (D14); only checked when possible. */
const containerTypeRepair = (t: avro.types.RecordType): Branch["project"] => {
  const typeField = t.field("type")?.type
  const symbols = typeField !== undefined && typeField.typeName === "enum" ? (typeField as avro.types.EnumType).symbols : []
  if (!symbols.some((s) => !knownContainerTypes.has(s))) return undefined
  return (rec) => {
    if (!knownContainerTypes.has(rec.type as string)) rec.type = "CT_DOCKER"
  }
}

/** Builds a decoder for a writer schema; throws `SchemaError` when it is not a SysFlow schema we can read. */
export const makeSysFlowDecoder = (writerSchema: unknown): SysFlowDecoder => {
  let root: avro.Type
  try {
    root = parseSchema(writerSchema)
  } catch (e) {
    throw new SchemaError(`invalid Avro schema: ${(e as Error).message}`)
  }
  const recField = root.typeName === "record" ? (root as avro.types.RecordType).field("rec") : undefined
  if (recField === undefined || !recField.type.typeName.startsWith("union")) {
    throw new SchemaError(`not a SysFlow schema: expected record sysflow.SysFlow with a union field 'rec', got ${root.name ?? root.typeName}`)
  }
  const compiler = new ReaderCompiler(layoutOf)
  const branches: ReadonlyArray<Branch> = (recField.type as avro.types.UnwrappedUnionType).types.map((t) => {
    const name = t.name ?? t.typeName
    const code = codeByName.get(name) ?? -1
    const read = compiler.reader(t)
    return { code, name, read, project: code === 1 ? containerTypeRepair(t as avro.types.RecordType) : undefined }
  })
  const unknownBranches = branches.filter((b) => b.code === -1).map((b) => b.name)

  /** Reads the datum at `c.pos` (advancing it); undefined for a branch the reader does not know. */
  const decodeAt = (c: Cursor, index: number): SysFlowDatum | undefined => {
    const buf = c.buf
    const start = c.pos
    let branchIndex: number
    try {
      branchIndex = readSize(c) // the union branch index: a zig-zag varint
    } catch (e) {
      throw new DatumError(index, start, (e as Error).message)
    }
    if (c.pos > buf.length) throw new DatumError(index, start, "datum truncated (union index)")
    const branch = branches[branchIndex]
    if (branch === undefined) {
      throw new DatumError(index, start, `union branch ${branchIndex} out of range (schema has ${branches.length})`)
    }
    let rec: Record<string, unknown>
    try {
      rec = branch.read(c) as Record<string, unknown>
    } catch (e) {
      throw new DatumError(index, start, `${branch.name}: ${(e as Error).message}`)
    }
    if (c.pos > buf.length) throw new DatumError(index, start, `${branch.name} truncated`)
    if (branch.code === -1) return undefined
    if (branch.project !== undefined) branch.project(rec)
    return { code: branch.code, rec } as unknown as SysFlowDatum
  }

  const asBuffer = (d: Uint8Array): Buffer => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.length))

  return {
    unknownBranches,
    decodeBlock: (data, count, onDatum) => {
      const c: Cursor = { buf: asBuffer(data), pos: 0 }
      for (let i = 0; i < count; i++) {
        const d = decodeAt(c, i)
        if (d !== undefined) onDatum(d)
      }
      if (c.pos !== c.buf.length) {
        throw new DatumError(count, c.pos, `${c.buf.length - c.pos} bytes left over after ${count} datums`)
      }
    },
    decodeOne: (data) => {
      const c: Cursor = { buf: asBuffer(data), pos: 0 }
      const d = decodeAt(c, 0)
      if (c.pos !== c.buf.length) throw new DatumError(0, c.pos, `${c.buf.length - c.pos} bytes left over after the datum`)
      if (d === undefined) throw new DatumError(0, 0, "datum of an unknown record type")
      return d
    }
  }
}

/**
 * Decoders by schema value: the OCF reader returns one (frozen) value per schema text, so the files of a
 * directory that share a schema share one compiled decoder.
 */
const decoders = new WeakMap<object, SysFlowDecoder>()

/** `makeSysFlowDecoder`, memoised on the schema value (decoders hold no state between datums). */
export const sysFlowDecoderFor = (writerSchema: unknown): SysFlowDecoder => {
  if (writerSchema === null || typeof writerSchema !== "object") return makeSysFlowDecoder(writerSchema)
  let d = decoders.get(writerSchema)
  if (d === undefined) {
    d = makeSysFlowDecoder(writerSchema)
    decoders.set(writerSchema, d)
  }
  return d
}
