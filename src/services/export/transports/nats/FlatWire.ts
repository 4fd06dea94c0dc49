/**
 * The `flat` wire format: flat records as they cross NATS, so that a central processor rebuilds exactly
 * the records the edge flattened (docs/nats.md). Neither JSON nor ECS is lossless (the JSON export trims
 * bounding quotes, joins ancestry, leaves out the working directory): a record carries the SysFlow objects
 * it references, as Avro datums of the SysFlow v5 schema (bigints stay bigints), each object once per
 * message, and the record's references to them.
 *
 *     "SFW1"
 *     varint entities, then per entity: varint length, datum   (header, container, pod, process, file)
 *     varint ptrees, then per ptree: varint length, varint entity index...
 *     varint records, varint bytes, event datums     (ProcessEvent, NetworkFlow, FileFlow, FileEvent, K8sEvent)
 *     per record: header, process, ptree, container, pod, file, newFile (varint index + 1, 0 = none)
 *
 * A message is self-contained: any central processor decodes it alone. Across messages, both ends keep
 * what does not change: the writer each entity's encoded bytes (entities are never mutated once read),
 * the reader one object per distinct entity (same bytes, same object), so the policy engine's and the
 * encoders' per-entity memos keep working on a central node as on the edge. Plain loops, no Effect.
 */
import { SysFlowSchemaV5 } from "../../../../domain/avroSchema.js"
import { type FlatRecord, makeFlatRecord, type RecordType } from "../../../../domain/flatRecord.js"
import { type Process, RecordCode, type SysFlowDatum } from "../../../../domain/sysflow.js"
import { makeSysFlowDecoder } from "../../../avro/SysFlowDecoder.js"
import { sysflowEncoder } from "../../../trace/TraceWriter.js"

const MAGIC = Buffer.from("SFW1", "latin1")

const eventCode: Record<RecordType, RecordCode> = {
  PE: RecordCode.ProcessEvent,
  NF: RecordCode.NetworkFlow,
  FF: RecordCode.FileFlow,
  FE: RecordCode.FileEvent,
  KE: RecordCode.K8sEvent
}
const typeOfCode = new Map<number, RecordType>(Object.entries(eventCode).map(([t, c]) => [c, t as RecordType]))

const encoder = sysflowEncoder(SysFlowSchemaV5)
const decoder = makeSysFlowDecoder(SysFlowSchemaV5)

/** A growable byte buffer (reused between messages by one writer). */
class Bytes {
  buf = Buffer.allocUnsafe(64 * 1024)
  pos = 0
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
  varint(n: number): void {
    this.reserve(10)
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80
      n = Math.floor(n / 128)
    }
    this.buf[this.pos++] = n
  }
  /** The datum's bytes, copied out. */
  encoded(d: SysFlowDatum): Buffer {
    this.pos = 0
    this.datum(d)
    return Buffer.from(this.buf.subarray(0, this.pos))
  }
  datum(d: SysFlowDatum): void {
    for (;;) {
      const end = encoder.encode(d, this.buf, this.pos)
      if (end >= 0) {
        this.pos = end
        return
      }
      this.reserve(this.buf.length - this.pos - end)
    }
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
}

/** Encodes flat records to one message; the writer's buffers are reused, the result is a fresh copy. */
export class FlatWireWriter {
  private readonly entities = new Bytes()
  private readonly events = new Bytes()
  private readonly refs = new Bytes()
  private readonly ptrees = new Bytes()
  private readonly scratch = new Bytes()
  /** Entities' encoded bytes, by object. */
  private readonly encodedEntities = new WeakMap<object, Buffer>()

  encode(records: ReadonlyArray<FlatRecord>): Buffer {
    const { entities, events, refs, ptrees } = this
    entities.pos = events.pos = refs.pos = ptrees.pos = 0
    const index = new Map<object, number>()
    const ptreeIndex = new Map<ReadonlyArray<Process>, number>()
    const entity = (code: RecordCode, rec: object | undefined): number => {
      if (rec === undefined) return 0
      let i = index.get(rec)
      if (i === undefined) {
        let bytes = this.encodedEntities.get(rec)
        if (bytes === undefined) this.encodedEntities.set(rec, (bytes = this.scratch.encoded({ code, rec } as SysFlowDatum)))
        entities.varint(bytes.length)
        entities.bytes(bytes)
        index.set(rec, (i = index.size))
      }
      return i + 1
    }
    for (const r of records) {
      events.datum({ code: eventCode[r.type], rec: r.event } as SysFlowDatum)
      refs.varint(entity(RecordCode.SFHeader, r.header))
      refs.varint(entity(RecordCode.Process, r.process))
      let pt = 0
      if (r.ptree !== undefined) {
        let i = ptreeIndex.get(r.ptree)
        if (i === undefined) {
          const members = r.ptree.map((p) => entity(RecordCode.Process, p) - 1)
          ptrees.varint(members.length)
          for (const m of members) ptrees.varint(m)
          ptreeIndex.set(r.ptree, (i = ptreeIndex.size))
        }
        pt = i + 1
      }
      refs.varint(pt)
      refs.varint(entity(RecordCode.Container, r.container))
      refs.varint(entity(RecordCode.Pod, r.pod))
      refs.varint(entity(RecordCode.File, r.file))
      refs.varint(entity(RecordCode.File, r.newFile))
    }
    const out = new Bytes()
    out.bytes(MAGIC)
    out.varint(index.size)
    out.bytes(entities.buf.subarray(0, entities.pos))
    out.varint(ptreeIndex.size)
    out.bytes(ptrees.buf.subarray(0, ptrees.pos))
    out.varint(records.length)
    out.varint(events.pos)
    out.bytes(events.buf.subarray(0, events.pos))
    out.bytes(refs.buf.subarray(0, refs.pos))
    return out.buf.subarray(0, out.pos)
  }
}

/** A message that is not in the flat wire format, or is damaged. */
export class FlatWireError extends Error {}

/** Distinct entities (or ancestries) a reader keeps at most; it starts over when full. */
const MAX_INTERNED = 200_000

/**
 * Decodes messages written by `FlatWireWriter` into flat records. Entities equal to ones of earlier
 * messages (same bytes) are the same objects, and so are ancestries made of the same processes.
 */
export class FlatWireReader {
  private readonly entities = new Map<string, object>()
  private readonly ids = new WeakMap<object, number>()
  private readonly ptrees = new Map<string, ReadonlyArray<Process>>()
  private nextId = 0

  decode(data: Uint8Array): Array<FlatRecord> {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length)
    if (buf.length < 4 || buf.compare(MAGIC, 0, 4, 0, 4) !== 0) throw new FlatWireError("not a flat wire message (no SFW1 magic)")
    let pos = 4
    const varint = (): number => {
      let n = 0
      let scale = 1
      for (;;) {
        if (pos >= buf.length) throw new FlatWireError("message truncated")
        const b = buf[pos++]
        n += (b & 0x7f) * scale
        if (b < 0x80) return n
        scale *= 128
      }
    }
    if (this.entities.size > MAX_INTERNED || this.ptrees.size > MAX_INTERNED) {
      this.entities.clear()
      this.ptrees.clear()
    }
    const entities: Array<object> = []
    for (let i = 0, n = varint(); i < n; i++) {
      const len = varint()
      if (pos + len > buf.length) throw new FlatWireError(`entity ${i} truncated`)
      const key = buf.toString("latin1", pos, pos + len)
      let rec = this.entities.get(key)
      if (rec === undefined) {
        try {
          rec = decoder.decodeOne(buf.subarray(pos, pos + len)).rec as object
        } catch (e) {
          throw new FlatWireError(`entity ${i}: ${(e as Error).message}`)
        }
        this.entities.set(key, rec)
        this.ids.set(rec, this.nextId++)
      }
      entities.push(rec)
      pos += len
    }
    const ptrees: Array<ReadonlyArray<Process>> = []
    for (let i = 0, n = varint(); i < n; i++) {
      const members: Array<Process> = []
      let key = ""
      for (let j = 0, m = varint(); j < m; j++) {
        const e = entities[varint()]
        if (e === undefined) throw new FlatWireError(`ancestry ${i}: entity reference out of range`)
        members.push(e as Process)
        key += `${this.ids.get(e)},`
      }
      let pt = this.ptrees.get(key)
      if (pt === undefined) this.ptrees.set(key, (pt = members))
      ptrees.push(pt)
    }
    const count = varint()
    const len = varint()
    if (pos + len > buf.length) throw new FlatWireError("events truncated")
    const events: Array<SysFlowDatum> = []
    try {
      decoder.decodeBlock(buf.subarray(pos, pos + len), count, (d) => void events.push(d))
    } catch (e) {
      throw new FlatWireError(`events: ${(e as Error).message}`)
    }
    pos += len
    const ref = <T>(): T | undefined => {
      const i = varint()
      if (i > entities.length) throw new FlatWireError(`entity reference ${i - 1} out of range`)
      return i === 0 ? undefined : (entities[i - 1] as T)
    }
    const records = new Array<FlatRecord>(events.length)
    for (let i = 0; i < events.length; i++) {
      const e = events[i]
      const type = typeOfCode.get(e.code)
      if (type === undefined) throw new FlatWireError(`record ${i}: a ${e.code} datum is not a flat record event`)
      const header = ref<never>()
      const process = ref<never>()
      const pt = varint()
      if (pt > ptrees.length) throw new FlatWireError(`record ${i}: ancestry reference out of range`)
      const ptree = pt === 0 ? undefined : ptrees[pt - 1]
      records[i] = makeFlatRecord(type, e.rec as never, header, process, ptree, ref<never>(), ref<never>(), ref<never>(), ref<never>())
    }
    if (pos !== buf.length) throw new FlatWireError(`${buf.length - pos} bytes left over`)
    return records
  }
}

/** Decodes one message on its own (a fresh reader). */
export const decodeFlatWire = (data: Uint8Array): Array<FlatRecord> => new FlatWireReader().decode(data)
