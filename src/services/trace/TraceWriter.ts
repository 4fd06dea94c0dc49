/**
 * Builds SysFlow traces from code: typed builders with defaults for every record type, OID/FOID
 * bookkeeping, and an Avro container file as output.
 *
 * Output is deterministic: a fixed sync marker and a synthetic clock (every record without an explicit
 * `ts` gets the next tick), so the same calls always give the same bytes.
 */
import { createHash } from "node:crypto"
import avro from "avsc"
import {
  type AvroComplexSchema,
  type AvroSchema,
  type SysFlowSchemaVersion,
  SysFlowSchemaV4,
  sysflowSchema
} from "../../domain/avroSchema.js"
import {
  type Container,
  type ContainerType,
  type File,
  type K8sAction,
  type K8sComponent,
  type K8sEvent,
  type NetworkFlow,
  type ObjectState,
  type OID,
  type Pod,
  type Process,
  type ProcessEvent,
  RecordCode,
  RecordFullName,
  type FileEvent,
  type FileFlow,
  type FOID,
  type SFHeader,
  type Service,
  type SysFlowDatum
} from "../../domain/sysflow.js"
import { BigIntLong } from "../avro/BigIntLong.js"
import type { CodecName } from "../avro/Codecs.js"
import { type ByteSink, type DatumEncoder, OcfWriter, fileSink, syncMarker } from "../avro/OcfWriter.js"

import { OpenFlag } from "../../domain/openFlags.js"

export { OpFlag } from "../../domain/opFlags.js"
export { OpenFlag }

/** A dotted IPv4 address as the collector's `int`: first octet in the low byte, sign-extended. */
export const ipv4 = (addr: string): number => {
  const octets = addr.split(".").map(Number)
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`not an IPv4 address: ${addr}`)
  }
  return octets[0] | (octets[1] << 8) | (octets[2] << 16) | (octets[3] << 24)
}

/** The same address as the unsigned `long` of the Pod/Service "ipaddr" arrays. */
export const ipaddr = (addr: string): bigint => BigInt(ipv4(addr) >>> 0)

/**
 * A file's FOID as the collector computes it: SHA-1 of the container id followed by the path (host files:
 * the path alone). Checked against the FOIDs in real traces.
 */
export const foid = (path: string, containerId: string | null): FOID =>
  createHash("sha1")
    .update((containerId ?? "") + path)
    .digest("hex")

/** A Process with the two v5 fields the in-memory model leaves out. */
export type TraceProcess = Process & { readonly cwd: string; readonly env: ReadonlyArray<string> }

/** avsc writes a `fixed` from a Buffer: the FOID's 20 bytes. */
const foidBytes = (oid: FOID): Buffer => Buffer.from(oid, "hex")

/** Adapts a datum to what avsc writes: FOIDs as bytes, and `cwd`/`env` defaults for v5 Process records. */
const wireRecord = (d: SysFlowDatum): unknown => {
  switch (d.code) {
    case RecordCode.Process:
      return "cwd" in d.rec ? d.rec : { ...d.rec, cwd: "", env: [] }
    case RecordCode.File:
      return { ...d.rec, oid: foidBytes(d.rec.oid) }
    case RecordCode.FileFlow:
      return { ...d.rec, fileOID: foidBytes(d.rec.fileOID) }
    case RecordCode.FileEvent: {
      const { fileOID, newFileOID } = d.rec
      return { ...d.rec, fileOID: foidBytes(fileOID), newFileOID: newFileOID === null ? null : foidBytes(newFileOID) }
    }
    default:
      return d.rec
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const codeByName = new Map<string, RecordCode>(
  Object.entries(RecordFullName).map(([code, name]) => [name, Number(code) as RecordCode])
)

/**
 * Encodes `SysFlow` datums for a SysFlow writer schema: the union index of the record's branch (found by
 * full name, so any layout works as long as it has the branch), then the branch record.
 */
export const sysflowEncoder = (schema: AvroSchema): DatumEncoder<SysFlowDatum> => {
  const type = avro.Type.forSchema(schema as avro.Schema, {
    registry: { long: BigIntLong },
    // Longs in object form (legacy `{"type":"long","logicalType":"timestamp-millis"}`) too.
    typeHook: (s) => (isObject(s) && s.type === "long" ? BigIntLong : undefined)
  }) as avro.types.RecordType
  const union = type.fields[0].type as avro.types.UnwrappedUnionType | avro.types.WrappedUnionType
  const branches = new Map<RecordCode, { readonly index: number; readonly type: avro.Type }>()
  union.types.forEach((t, index) => {
    const code = codeByName.get(t.name ?? "")
    if (code !== undefined) branches.set(code, { index, type: t })
  })
  return {
    encode: (d, buf, pos) => {
      const branch = branches.get(d.code)
      if (branch === undefined) throw new Error(`the writer schema has no ${RecordFullName[d.code]} branch`)
      // Union indexes are below 64, so their zig-zag varint is the single byte 2 * index.
      if (pos < buf.length) buf[pos] = branch.index * 2
      return branch.type.encode(wireRecord(d), buf, pos + 1)
    }
  }
}

const encoders = new WeakMap<object, DatumEncoder<SysFlowDatum>>()

/** One datum without any container framing: the collector's socket packets (v4 layout by default). */
export const encodeDatum = (datum: SysFlowDatum, schema: AvroComplexSchema = SysFlowSchemaV4): Buffer => {
  let encoder = encoders.get(schema)
  if (encoder === undefined) encoders.set(schema, (encoder = sysflowEncoder(schema)))
  let buf = Buffer.alloc(1024)
  for (;;) {
    const end = encoder.encode(datum, buf, 0)
    if (end >= 0) return buf.subarray(0, end)
    buf = Buffer.alloc(buf.length - end)
  }
}

export interface TraceWriterOptions {
  /** Schema layout (default 5). v4 is the collector's socket layout. */
  readonly version?: SysFlowSchemaVersion
  /** Overrides `version`'s schema, e.g. to write a legacy layout in tests. */
  readonly schema?: AvroSchema
  /** Block codec (default deflate, like the collector). */
  readonly codec?: CodecName
  /** Datums per block (default 1000). */
  readonly blockSize?: number
  /** Sync marker (default: a fixed one, for reproducible output). */
  readonly sync?: Uint8Array
  /** First tick of the synthetic clock, ns (default 2023-11-14T22:13:20Z). */
  readonly startTs?: bigint
}

const DEFAULT_START_TS = 1_700_000_000_000_000_000n
/** Clock step between records without an explicit `ts`: 1 ms. */
const TICK = 1_000_000n
const DEFAULT_SYNC = syncMarker("sfprocessor trace writer")

/** A process, by pid (the last process written with that pid), OID, or Process record. */
export type ProcRef = bigint | OID | { readonly oid: OID }
/** A file, by path (its File record is written on first use), File record, or raw FOID bytes. */
export type FileRef = string | File | Uint8Array

export interface ProcessInit {
  readonly pid: bigint
  readonly exe: string
  readonly exeArgs?: string
  /** Creation time (default: `ts`). */
  readonly createTS?: bigint
  /** Parent (default none, i.e. `poid` null). An OID that was never written gives an orphan. */
  readonly parent?: ProcRef | null
  readonly state?: ObjectState
  readonly ts?: bigint
  readonly uid?: number
  readonly userName?: string
  readonly gid?: number
  readonly groupName?: string
  readonly tty?: boolean
  readonly containerId?: string | null
  readonly entry?: boolean
  readonly cwd?: string
  readonly env?: ReadonlyArray<string>
}

export interface FileInit {
  readonly path: string
  readonly containerId?: string | null
  /** Type character or its ASCII code (default `p` for `pipe:[…]` paths, else `f`). */
  readonly restype?: string | number
  readonly state?: ObjectState
  readonly ts?: bigint
}

export interface EventInit {
  readonly proc: ProcRef
  readonly opFlags: number
  readonly ts?: bigint
  /** Thread id (default: the process's pid). */
  readonly tid?: bigint
}

export interface ProcessEventInit extends EventInit {
  readonly args?: ReadonlyArray<string>
  readonly ret?: number
}

export interface FileEventInit extends EventInit {
  readonly file: FileRef
  /** Target of a rename/link/symlink. */
  readonly newFile?: FileRef | null
  readonly ret?: number
}

export interface FlowInit extends EventInit {
  /** Default: `ts`. */
  readonly endTs?: bigint
  readonly fd?: number
  readonly numRRecvOps?: bigint
  readonly numWSendOps?: bigint
  readonly numRRecvBytes?: bigint
  readonly numWSendBytes?: bigint
}

export interface FileFlowInit extends FlowInit {
  readonly file: FileRef
  readonly openFlags?: number
}

export interface NetworkFlowInit extends FlowInit {
  /** Dotted quad or the raw int. */
  readonly sip: string | number
  readonly sport: number
  readonly dip: string | number
  readonly dport: number
  /** IANA protocol (default 6, TCP). */
  readonly proto?: number
}

export interface PodInit {
  readonly id: string
  readonly name: string
  readonly ts?: bigint
  readonly nodeName?: string
  readonly hostIP?: ReadonlyArray<string>
  readonly internalIP?: ReadonlyArray<string>
  readonly namespace?: string
  readonly restartCount?: bigint
  readonly labels?: Readonly<Record<string, string>>
  readonly selectors?: Readonly<Record<string, string>>
  readonly services?: ReadonlyArray<Service>
}

export interface ContainerInit {
  readonly id: string
  readonly name?: string
  readonly image?: string
  readonly imageid?: string
  readonly type?: ContainerType
  readonly privileged?: boolean
  readonly podId?: string | null
}

export interface K8sEventInit {
  readonly kind: K8sComponent
  readonly action: K8sAction
  readonly message: string
  readonly ts?: bigint
}

const oidKey = (oid: OID): string => `${oid.hpid}/${oid.createTS}`
const fileKey = (path: string, containerId: string | null): string => `${containerId ?? ""}\u0000${path}`

export class TraceWriter {
  private readonly out: OcfWriter<SysFlowDatum>
  private readonly version: bigint
  private now: bigint
  private readonly byPid = new Map<bigint, TraceProcess>()
  private readonly byOid = new Map<string, TraceProcess>()
  private readonly files = new Map<string, File>()
  private written = 0

  constructor(sink: ByteSink, opts: TraceWriterOptions = {}) {
    const version = opts.version ?? 5
    const schema = opts.schema ?? sysflowSchema(version)
    this.version = BigInt(version)
    this.now = (opts.startTs ?? DEFAULT_START_TS) - TICK
    this.out = OcfWriter.create(
      sink,
      sysflowEncoder(schema),
      { schema, codec: opts.codec ?? "deflate", sync: opts.sync ?? DEFAULT_SYNC },
      { blockSize: opts.blockSize ?? 1000 }
    )
  }

  static toFile(path: string, opts?: TraceWriterOptions): TraceWriter {
    return new TraceWriter(fileSink(path), opts)
  }

  /** Writes a datum as given (no defaults, no bookkeeping). */
  write(datum: SysFlowDatum): void {
    this.out.write(datum)
    this.written++
  }

  /** Datums written so far. */
  get datums(): number {
    return this.written
  }

  /** Flushes the last block and closes the sink. */
  close(): void {
    this.out.close()
  }

  header(init: Partial<SFHeader> = {}): SFHeader {
    const rec: SFHeader = {
      version: init.version ?? this.version,
      exporter: init.exporter ?? "sfwriter",
      ip: init.ip ?? "NA",
      filename: init.filename ?? ""
    }
    this.write({ code: RecordCode.SFHeader, rec })
    return rec
  }

  container(init: ContainerInit): Container {
    const rec: Container = {
      id: init.id,
      name: init.name ?? init.id,
      image: init.image ?? "",
      imageid: init.imageid ?? "",
      type: init.type ?? "CT_DOCKER",
      privileged: init.privileged ?? false,
      podId: init.podId ?? null
    }
    this.write({ code: RecordCode.Container, rec })
    return rec
  }

  pod(init: PodInit): Pod {
    const rec: Pod = {
      ts: this.tick(init.ts),
      id: init.id,
      name: init.name,
      nodeName: init.nodeName ?? "node",
      hostIP: (init.hostIP ?? []).map(ipaddr),
      internalIP: (init.internalIP ?? []).map(ipaddr),
      namespace: init.namespace ?? "default",
      restartCount: init.restartCount ?? 0n,
      labels: init.labels ?? {},
      selectors: init.selectors ?? {},
      services: init.services ?? []
    }
    this.write({ code: RecordCode.Pod, rec })
    return rec
  }

  process(init: ProcessInit): TraceProcess {
    const ts = this.tick(init.ts)
    const rec: TraceProcess = {
      state: init.state ?? "CREATED",
      oid: { createTS: init.createTS ?? ts, hpid: init.pid },
      poid: init.parent === undefined || init.parent === null ? null : this.oidOf(init.parent),
      ts,
      exe: init.exe,
      exeArgs: init.exeArgs ?? "",
      uid: init.uid ?? 0,
      userName: init.userName ?? "root",
      gid: init.gid ?? 0,
      groupName: init.groupName ?? "root",
      tty: init.tty ?? false,
      containerId: init.containerId ?? null,
      entry: init.entry ?? false,
      cwd: init.cwd ?? "/",
      env: init.env ?? []
    }
    return this.writeProcess(rec)
  }

  /** A MODIFIED record of a written process (e.g. after exec), with the given changes. */
  update(proc: TraceProcess, changes: Partial<Omit<TraceProcess, "oid" | "state">>): TraceProcess {
    return this.writeProcess({ ...proc, ...changes, state: "MODIFIED", ts: this.tick(changes.ts) })
  }

  file(init: FileInit): File {
    const containerId = init.containerId ?? null
    const restype = init.restype ?? (init.path.startsWith("pipe:[") ? "p" : "f")
    const rec: File = {
      state: init.state ?? "CREATED",
      oid: foid(init.path, containerId),
      ts: this.tick(init.ts),
      restype: typeof restype === "string" ? restype.charCodeAt(0) : restype,
      path: init.path,
      containerId
    }
    this.write({ code: RecordCode.File, rec })
    this.files.set(fileKey(rec.path, containerId), rec)
    return rec
  }

  processEvent(init: ProcessEventInit): ProcessEvent {
    const procOID = this.oidOf(init.proc)
    const rec: ProcessEvent = {
      procOID,
      ts: this.tick(init.ts),
      tid: init.tid ?? procOID.hpid,
      opFlags: init.opFlags,
      args: init.args ?? [],
      ret: init.ret ?? 0
    }
    this.write({ code: RecordCode.ProcessEvent, rec })
    return rec
  }

  fileEvent(init: FileEventInit): FileEvent {
    const procOID = this.oidOf(init.proc)
    const fileOID = this.foidOf(init.file, init.proc)
    const newFile = init.newFile ?? null
    const newFileOID = newFile === null ? null : this.foidOf(newFile, init.proc)
    const rec: FileEvent = {
      procOID,
      ts: this.tick(init.ts),
      tid: init.tid ?? procOID.hpid,
      opFlags: init.opFlags,
      fileOID,
      ret: init.ret ?? 0,
      newFileOID
    }
    this.write({ code: RecordCode.FileEvent, rec })
    return rec
  }

  fileFlow(init: FileFlowInit): FileFlow {
    const procOID = this.oidOf(init.proc)
    const fileOID = this.foidOf(init.file, init.proc)
    const ts = this.tick(init.ts)
    const rec: FileFlow = {
      procOID,
      ts,
      tid: init.tid ?? procOID.hpid,
      opFlags: init.opFlags,
      openFlags: init.openFlags ?? OpenFlag.NONE,
      endTs: init.endTs ?? ts,
      fileOID,
      fd: init.fd ?? 3,
      numRRecvOps: init.numRRecvOps ?? 0n,
      numWSendOps: init.numWSendOps ?? 0n,
      numRRecvBytes: init.numRRecvBytes ?? 0n,
      numWSendBytes: init.numWSendBytes ?? 0n
    }
    this.write({ code: RecordCode.FileFlow, rec })
    return rec
  }

  networkFlow(init: NetworkFlowInit): NetworkFlow {
    const procOID = this.oidOf(init.proc)
    const ts = this.tick(init.ts)
    const rec: NetworkFlow = {
      procOID,
      ts,
      tid: init.tid ?? procOID.hpid,
      opFlags: init.opFlags,
      endTs: init.endTs ?? ts,
      sip: typeof init.sip === "string" ? ipv4(init.sip) : init.sip,
      sport: init.sport,
      dip: typeof init.dip === "string" ? ipv4(init.dip) : init.dip,
      dport: init.dport,
      proto: init.proto ?? 6,
      fd: init.fd ?? 3,
      numRRecvOps: init.numRRecvOps ?? 0n,
      numWSendOps: init.numWSendOps ?? 0n,
      numRRecvBytes: init.numRRecvBytes ?? 0n,
      numWSendBytes: init.numWSendBytes ?? 0n
    }
    this.write({ code: RecordCode.NetworkFlow, rec })
    return rec
  }

  k8sEvent(init: K8sEventInit): K8sEvent {
    const rec: K8sEvent = { kind: init.kind, action: init.action, ts: this.tick(init.ts), message: init.message }
    this.write({ code: RecordCode.K8sEvent, rec })
    return rec
  }

  /** The next clock tick, or `ts` (which also moves the clock forward when later). */
  private tick(ts?: bigint): bigint {
    if (ts === undefined) return (this.now += TICK)
    if (ts > this.now) this.now = ts
    return ts
  }

  private writeProcess(rec: TraceProcess): TraceProcess {
    this.write({ code: RecordCode.Process, rec })
    this.byPid.set(rec.oid.hpid, rec)
    this.byOid.set(oidKey(rec.oid), rec)
    return rec
  }

  /** The Process record of a reference, when the writer has one. */
  private processOf(ref: ProcRef): Process | undefined {
    if (typeof ref === "bigint") return this.byPid.get(ref)
    if ("containerId" in ref) return ref as Process
    return this.byOid.get(oidKey("oid" in ref ? ref.oid : ref))
  }

  private oidOf(ref: ProcRef): OID {
    if (typeof ref !== "bigint") return "oid" in ref ? ref.oid : ref
    const proc = this.byPid.get(ref)
    if (proc === undefined) throw new Error(`no process with pid ${ref} has been written`)
    return proc.oid
  }

  /** A path is resolved in the acting process's container, writing its File record the first time. */
  private foidOf(ref: FileRef, proc: ProcRef): FOID {
    if (typeof ref !== "string") return ref instanceof Uint8Array ? Buffer.from(ref).toString("hex") : ref.oid
    const containerId = this.processOf(proc)?.containerId ?? null
    const known = this.files.get(fileKey(ref, containerId))
    return (known ?? this.file({ path: ref, containerId })).oid
  }
}
