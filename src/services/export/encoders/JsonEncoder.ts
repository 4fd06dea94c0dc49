/**
 * The reference JSON layout (data-model §5.2), byte for byte apart from the listed fixes (D1, D2, D4, D7,
 * D8, D9, D11): a hand-written string builder over the attribute functions, no JSON.stringify, no Effect.
 *
 * Layout: `{"version":V,"endts":…,"opflags":[…],"ret":…,"ts":…,"type":"…",<sections>[,"policies":[…]]
 * [,"tags":[…]]}`. Sections in lexical order `container, file, flow, meta, net, node, pod, pproc, proc`
 * with their presence rules; KE records carry only `k8s, meta, node`.
 *
 * Hot path: the section builders below define the text; each entity's share of it (process + ancestry,
 * header, container, pod, file) is rendered once and cached on the entity object as UTF-8, and a line is
 * written as bytes: cached fragments and the event's own values (see "The hot path").
 */
import * as A from "../../../domain/attributes.js"
import type {
  FileEventRecord,
  FileFlowRecord,
  FlatRecord,
  K8sEventRecord,
  NetworkFlowRecord
} from "../../../domain/flatRecord.js"
import { ipv4, ipv4FromLong } from "../../../domain/ipv4.js"
import type { PolicyEvent, SigmaRuleInfo } from "../../../domain/policyEvent.js"
import type { Service } from "../../../domain/sysflow.js"
import { Effect } from "effect"
import type { EncoderFactory } from "../Encoder.js"
import { type JsonLinesText, TextBatch } from "../ExportBatch.js"
import { BufferPool } from "./BufferPool.js"
import { Utf8Writer, utf8 } from "./Utf8Writer.js"

const q = A.jsonString

// Flag-name lists are memoised (shared arrays) and plain ASCII: their JSON is memoised on identity and
// written without escaping, as the reference does.
const listJson = new WeakMap<ReadonlyArray<string>, string>()
const flagArray = (items: ReadonlyArray<string>): string => {
  let s = listJson.get(items)
  if (s === undefined) {
    s = items.length === 0 ? "[]" : `["${items.join('","')}"]`
    listJson.set(items, s)
  }
  return s
}

const stringArray = A.jsonStringArray

const intArray = (items: ReadonlyArray<bigint | number>): string => `[${items.join(",")}]`

const services = (list: ReadonlyArray<Service>): string => {
  let s = "["
  for (let i = 0; i < list.length; i++) {
    const svc = list[i]
    if (i > 0) s += "," // D7: the reference wrote services without separators
    s +=
      '{"id":' +
      q(svc.id) +
      ',"name":' +
      q(svc.name) +
      ',"namespace":' +
      q(svc.namespace) +
      ',"clusterIP":' +
      stringArray(svc.clusterIP.map(ipv4FromLong)) +
      ',"ports":['
    for (let j = 0; j < svc.portList.length; j++) {
      const p = svc.portList[j]
      if (j > 0) s += ","
      s +=
        '{"port":' + p.port + ',"targetport":' + p.targetPort + ',"nodeport":' + p.nodePort + ',"proto":' + q(p.proto) + "}"
    }
    s += "]}"
  }
  return s + "]"
}

const container = (r: FlatRecord): string =>
  '"container":{"id":' +
  q(A.containerId(r)) +
  ',"image":' +
  q(A.containerImage(r)) +
  ',"imageid":' +
  q(A.containerImageid(r)) +
  ',"name":' +
  q(A.containerName(r)) +
  ',"privileged":' +
  A.containerPrivileged(r) +
  ',"type":' +
  q(A.containerType(r)) +
  "},"

// The file section is written straight from the file's attributes (see `writeFile`): most files are
// shown by one or two records, so rendering and caching a fragment per file would cost more than it saves.

/** `,"is_open_read":…,"is_open_write":…` */
const fileOpen = (r: FlatRecord): string =>
  ',"is_open_read":' + A.fileIsOpenRead(r) + ',"is_open_write":' + A.fileIsOpenWrite(r)

/** `"newdirectory":…,"newsymlink":…` (the second file). */
const fileNew = (r: FlatRecord): string =>
  '"newdirectory":' +
  q(A.fileNewdirectory(r)) +
  ',"newname":' +
  q(A.fileNewname(r)) +
  ',"newoid":' +
  q(A.fileNewoid(r)) +
  ',"newpath":' +
  q(A.fileNewpathRaw(r)) +
  ',"newsymlink":' +
  q(A.fileNewsymlink(r))

const k8s = (r: FlatRecord): string =>
  '"k8s":{"action":' + q(A.keAction(r)) + ',"kind":' + q(A.keKind(r)) + ',"message":' + q(A.keMessage(r)) + "},"

const meta = (r: FlatRecord): string =>
  '"meta":{"schema":' + A.metaSchema(r) + ',"tracename":' + q(A.metaTracename(r)) + "},"

/** The last section of a KE record: no trailing comma. */
const node = (r: FlatRecord): string => '"node":{"id":' + q(A.nodeId(r)) + ',"ip":' + q(A.nodeIp(r)) + "}"

const pod = (r: FlatRecord): string =>
  '"pod":{"hostip":' +
  stringArray(A.podHostipList(r)) +
  ',"id":' +
  q(A.podId(r)) +
  ',"internalip":' +
  stringArray(A.podInternalipList(r)) +
  ',"name":' +
  q(A.podName(r)) +
  ',"namespace":' +
  q(A.podNamespace(r)) +
  ',"nodename":' +
  q(A.podNodename(r)) +
  ',"restartcnt":' +
  A.podRestartcnt(r) +
  ',"services":' +
  services(A.podServicesList(r)) +
  ',"ts":' +
  A.podTs(r) +
  "},"

const pproc = (r: FlatRecord): string =>
  '"pproc":{"args":' +
  q(A.pprocArgs(r)) +
  ',"cmdline":' +
  q(A.pprocCmdline(r)) +
  ',"createts":' +
  A.pprocCreatets(r) +
  ',"entry":' +
  A.pprocEntry(r) +
  ',"exe":' +
  q(A.pprocExe(r)) +
  ',"gid":' +
  A.pprocGid(r) +
  ',"group":' +
  q(A.pprocGroup(r)) +
  ',"name":' +
  q(A.pprocName(r)) +
  ',"oid":' +
  q(A.pprocOid(r)) +
  ',"pid":' +
  A.pprocPid(r) +
  ',"tty":' +
  A.pprocTty(r) +
  ',"uid":' +
  A.pprocUid(r) +
  ',"user":' +
  q(A.pprocUser(r)) +
  "},"

/**
 * `"proc":{…,"tid":` (the proc section is split around the one field that comes from the event). Rendered
 * once per process and ancestry (the cached fragment), so its ancestry arrays are not memoised as text:
 * that cost about 1 KB of heap per process for nothing.
 */
const procHead = (r: FlatRecord): string =>
  '"proc":{"acmdline":' +
  stringArray(A.procAcmdline(r)) +
  ',"aexe":' +
  stringArray(A.procAexe(r)) +
  ',"aname":' +
  stringArray(A.procAname(r)) +
  ',"apid":' +
  intArray(A.procApid(r)) +
  ',"args":' +
  q(A.procArgs(r)) +
  ',"cmdline":' +
  q(A.procCmdline(r)) +
  ',"createts":' +
  A.procCreatets(r) +
  ',"entry":' +
  A.procEntry(r) +
  ',"exe":' +
  q(A.procExe(r)) +
  ',"gid":' +
  A.procGid(r) +
  ',"group":' +
  q(A.procGroup(r)) +
  ',"name":' +
  q(A.procName(r)) +
  ',"oid":' +
  q(A.procOid(r)) +
  ',"pid":' +
  A.procPid(r) +
  ',"tid":'

/** `,"tty":…}`: the end of the proc section, the last section of a non-KE record (no trailing comma). */
const procTail = (r: FlatRecord): string =>
  ',"tty":' + A.procTty(r) + ',"uid":' + A.procUid(r) + ',"user":' + q(A.procUser(r)) + "}"

// ---------------------------------------------------------------------------------------------------
// The hot path: per-entity fragments
//
// Most of a line depends only on the entities a record references (header, container, pod, process and
// its ancestry, files), and records of one process share those objects (the reader's entity cache), so
// each entity's part of the line is rendered once, by the section builders above, encoded to UTF-8 and
// cached on the object itself. A line is then written as a few cached byte fragments and the event's own
// values (numbers written digit by digit): no strings, no ropes. Entities are never mutated once read
// (the attribute memos rely on that too).

/** The cache slot on entity objects: a non-enumerable symbol property (invisible to spreads, keys, JSON). */
const FRAG: unique symbol = Symbol("sfprocessor.jsonFragment")
type Slot<T> = { [FRAG]?: T }

/** Fragments of entities that cannot take a property (frozen objects, e.g. built by library users). */
const frozenFrags = new WeakMap<object, unknown>()
const frozenFrag = <T>(o: object): T | undefined =>
  Object.isExtensible(o) ? undefined : (frozenFrags.get(o) as T | undefined)

const setFrag = <T>(o: object, v: T): T => {
  if (Object.isExtensible(o)) Object.defineProperty(o, FRAG, { value: v, writable: true, configurable: true })
  else frozenFrags.set(o, v)
  return v
}

/** Memos keyed by raw field values are bounded (a corrupt or hostile trace may hold any int32 value). */
const boundedSet = <K, V>(m: Map<K, V>, k: K, v: V): void => {
  if (m.size >= 4096) m.clear()
  m.set(k, v)
}

// Each `…Frag` function reads its slot with its own property access, so each access site sees one kind of
// entity (monomorphic). A record without the entity uses a module-level fragment.

/** `"container":{…},` (empty when the record shows no container). */
let noContainerFrag: Buffer | undefined
const containerFrag = (r: FlatRecord): Buffer => {
  const c = r.container
  if (c === undefined) return (noContainerFrag ??= utf8(A.containerId(r) !== "" ? container(r) : ""))
  const v = (c as Slot<Buffer>)[FRAG] ?? frozenFrag<Buffer>(c)
  return v !== undefined ? v : setFrag(c, utf8(A.containerId(r) !== "" ? container(r) : ""))
}

/** `"pod":{…},` (empty when the record shows no pod). */
let noPodFrag: Buffer | undefined
const podFrag = (r: FlatRecord): Buffer => {
  const p = r.pod
  if (p === undefined) return (noPodFrag ??= utf8(A.podId(r) !== "" ? pod(r) : ""))
  const v = (p as Slot<Buffer>)[FRAG] ?? frozenFrag<Buffer>(p)
  return v !== undefined ? v : setFrag(p, utf8(A.podId(r) !== "" ? pod(r) : ""))
}

/** The header's sections: meta and node (net comes between them in NF records). */
interface HeaderFrag {
  /** `"meta":{…},` */
  readonly meta: Buffer
  /** `"node":{…},` */
  readonly nodeComma: Buffer
  /** `"meta":{…},"node":{…},` */
  readonly metaNodeComma: Buffer
}
const makeHeaderFrag = (r: FlatRecord): HeaderFrag => {
  const m = meta(r)
  const n = node(r) + ","
  return { meta: utf8(m), nodeComma: utf8(n), metaNodeComma: utf8(m + n) }
}
let noHeaderFrag: HeaderFrag | undefined
const headerFrag = (r: FlatRecord): HeaderFrag => {
  const h = r.header
  if (h === undefined) return (noHeaderFrag ??= makeHeaderFrag(r))
  const v = (h as Slot<HeaderFrag>)[FRAG] ?? frozenFrag<HeaderFrag>(h)
  return v !== undefined ? v : setFrag(h, makeHeaderFrag(r))
}

/**
 * The pproc section (when present) and the proc section around `tid`, for one process object and the
 * ancestry it is shown with: the ptree is memoised per process and possibly stale (D10), so it is part
 * of the key (a process object seen with another ptree gets a new fragment).
 */
interface ProcFrag {
  readonly ptree: FlatRecord["ptree"]
  /** `["pproc":{…},]"proc":{…,"tid":` */
  readonly head: Buffer
  /** `,"tty":…}` */
  readonly tail: Buffer
  /** `,"tty":…}}`: the end of a line without policies or tags. */
  readonly tailClose: Buffer
}
const makeProcFrag = (r: FlatRecord): ProcFrag => {
  // Present iff the process has a parent pid, whether or not the parent is cached (D8).
  const tail = procTail(r)
  return {
    ptree: r.ptree,
    head: utf8((A.pprocPid(r) !== 0n ? pproc(r) : "") + procHead(r)),
    tail: utf8(tail),
    tailClose: utf8(tail + "}")
  }
}
let noProcFrag: ProcFrag | undefined
const procFrag = (r: FlatRecord): ProcFrag => {
  const p = r.process
  if (p === undefined) {
    const v = noProcFrag
    return v !== undefined && v.ptree === r.ptree ? v : (noProcFrag = makeProcFrag(r))
  }
  const v = (p as Slot<ProcFrag>)[FRAG] ?? frozenFrag<ProcFrag>(p)
  if (v !== undefined && v.ptree === r.ptree) return v
  rememberFragment(p)
  return setFrag(p, makeProcFrag(r))
}

/**
 * Processes that hold a fragment, in the order they got it: only the last PROC_FRAGMENTS keep theirs. A
 * fragment is about 2 KB, and a node that starts many short-lived processes (a build server, a busy
 * cron) would otherwise keep one for every process of the trace (20,000 processes: 47 MiB). A process
 * whose fragment was dropped and that shows up again gets it rendered anew, the same bytes.
 */
const PROC_FRAGMENTS = 4096
// Weak: a process the entity cache let go of (a new trace file's header) goes with its fragment.
const withFragment: Array<WeakRef<object> | undefined> = new Array(PROC_FRAGMENTS)
let nextSlot = 0
const rememberFragment = (p: object): void => {
  const old = withFragment[nextSlot]?.deref()
  if (old !== undefined && old !== p) {
    if (Object.isExtensible(old)) (old as Slot<ProcFrag>)[FRAG] = undefined
    else frozenFrags.delete(old)
  }
  withFragment[nextSlot] = new WeakRef(p)
  nextSlot = (nextSlot + 1) % PROC_FRAGMENTS
}

/** The open-flags parts of an FF's file section, per flags value. */
interface OpenFrag {
  /** `,"is_open_read":…,"is_open_write":…` */
  readonly open: Buffer
  /** `[…]` */
  readonly list: Buffer
}
const openFrags = new Map<number, OpenFrag>()
const openFrag = (r: FileFlowRecord): OpenFrag => {
  let v = openFrags.get(r.event.openFlags)
  if (v === undefined) {
    v = { open: utf8(fileOpen(r)), list: utf8(flagArray(A.fileOpenflags(r))) }
    boundedSet(openFrags, r.event.openFlags, v)
  }
  return v
}

/** The open-flags parts of an FE's file section: a constant (an FE's file is shown as not open). */
let feOpenFrag: OpenFrag | undefined

const FILE_DIRECTORY = utf8('"file":{"directory":')
const FD = utf8(',"fd":')
const NAME = utf8(',"name":')
const OID = utf8(',"oid":')
const OPENFLAGS = utf8(',"openflags":')
const PATH = utf8(',"path":')
const SYMLINK = utf8(',"symlink":')
const FILE_TYPE = utf8(',"type":')
/** The second-file part of a record without a second file (a constant). */
let noNewFile: Buffer | undefined

/** `"file":{…},` (FF and FE). */
const writeFile = (w: Utf8Writer, r: FileFlowRecord | FileEventRecord): void => {
  const o = r.type === "FF" ? openFrag(r) : (feOpenFrag ??= { open: utf8(fileOpen(r)), list: utf8(flagArray(A.fileOpenflags(r))) })
  w.bytes(FILE_DIRECTORY)
  w.jsonString(A.fileDirectory(r))
  w.bytes(FD)
  w.int(A.fileFd(r))
  w.bytes(o.open)
  w.bytes(NAME)
  w.jsonString(A.fileName(r))
  w.byte(0x2c) // ,
  if (r.newFile === undefined) w.bytes((noNewFile ??= utf8(fileNew({ ...r, newFile: undefined }))))
  else w.text(fileNew(r))
  w.bytes(OID)
  w.jsonString(A.fileOid(r))
  w.bytes(OPENFLAGS)
  w.bytes(o.list)
  w.bytes(PATH)
  w.jsonString(A.filePath(r))
  w.bytes(SYMLINK)
  w.jsonString(A.fileSymlink(r))
  w.bytes(FILE_TYPE)
  w.jsonString(A.fileType(r))
  w.bytes(CLOSE_COMMA)
}

// ---------------------------------------------------------------------------------------------------
// Per-event values

const EMPTY: Buffer = Buffer.alloc(0)
const TS = utf8(',"ts":')
/** A flow's `ret` (always 0) and the `ts` key. */
const RET0_TS = utf8('0,"ts":')
const TYPE: Record<"FF" | "NF" | "FE" | "PE", Buffer> = {
  FF: utf8(',"type":"FF",'),
  NF: utf8(',"type":"NF",'),
  FE: utf8(',"type":"FE",'),
  PE: utf8(',"type":"PE",')
}

/** `,"opflags":[…],"ret":` per flags value, for files (index 0) and network flows (1): Q11/D11. */
const opflagsRetJson = [new Map<number, Buffer>(), new Map<number, Buffer>()]
const opflagsRet = (r: Exclude<FlatRecord, K8sEventRecord>): Buffer => {
  const m = opflagsRetJson[r.type === "NF" ? 1 : 0]
  const v = m.get(r.event.opFlags)
  if (v !== undefined) return v
  const b = utf8(',"opflags":' + flagArray(A.opflags(r)) + ',"ret":')
  boundedSet(m, r.event.opFlags, b)
  return b
}

const RBYTES = utf8('"flow":{"rbytes":')
const ROPS = utf8(',"rops":')
const WBYTES = utf8(',"wbytes":')
const WOPS = utf8(',"wops":')
const CLOSE_COMMA = utf8("},")

/** `"flow":{…},` (FF and NF). */
const flow = (w: Utf8Writer, r: FileFlowRecord | NetworkFlowRecord): void => {
  w.bytes(RBYTES)
  w.big(A.flowRbytes(r))
  w.bytes(ROPS)
  w.big(A.flowRops(r))
  w.bytes(WBYTES)
  w.big(A.flowWbytes(r))
  w.bytes(WOPS)
  w.big(A.flowWops(r))
  w.bytes(CLOSE_COMMA)
}

/** `A.netSip`/`A.netDip` quoted (a dotted quad needs no escaping), memoised per address value. */
const quotedIps = new Map<number, Buffer>()
const quotedIp = (ip: number): Buffer => {
  let b = quotedIps.get(ip)
  if (b === undefined) {
    b = utf8(q(ipv4(ip)))
    boundedSet(quotedIps, ip, b)
  }
  return b
}

const NET_DIP = utf8('"net":{"dip":')
const DPORT = utf8(',"dport":')
const IP = utf8(',"ip":[')
const PORT = utf8('],"port":[')
const PROTO = utf8('],"proto":')
const SIP = utf8(',"sip":')
const SPORT = utf8(',"sport":')

/** `"net":{…},` (NF). */
const net = (w: Utf8Writer, r: NetworkFlowRecord): void => {
  const sip = quotedIp(r.event.sip)
  const dip = quotedIp(r.event.dip)
  const sport = A.netSport(r)
  const dport = A.netDport(r)
  w.bytes(NET_DIP)
  w.bytes(dip)
  w.bytes(DPORT)
  w.int(dport)
  w.bytes(IP)
  w.bytes(sip)
  w.byte(0x2c) // ,
  w.bytes(dip)
  w.bytes(PORT)
  w.int(sport)
  w.byte(0x2c)
  w.int(dport)
  w.bytes(PROTO)
  w.int(A.netProto(r))
  w.bytes(SIP)
  w.bytes(sip)
  w.bytes(SPORT)
  w.int(sport)
  w.bytes(CLOSE_COMMA)
}

/**
 * A record's line without its end: `close` adds the final `}`. `head` is `{"version":V,"endts":`.
 * Sections in lexical order: container, file, flow, meta, net, node, pod, pproc, proc.
 */
const writeRecord = (w: Utf8Writer, r: FlatRecord, head: Buffer, close: boolean): void => {
  w.bytes(head)
  if (r.type === "KE") {
    w.text(A.endts(r) + ',"opflags":[],"ret":0,"ts":' + A.ts(r) + ',"type":"KE",' + k8s(r) + meta(r) + node(r))
    if (close) w.byte(0x7d) // }
    return
  }
  const pf = procFrag(r)
  const hf = headerFrag(r)
  w.big(A.endts(r))
  w.bytes(opflagsRet(r))
  switch (r.type) {
    case "FF":
      w.bytes(RET0_TS)
      w.big(A.ts(r))
      w.bytes(TYPE.FF)
      w.bytes(containerFrag(r))
      writeFile(w, r)
      flow(w, r)
      w.bytes(hf.metaNodeComma)
      break
    case "NF":
      w.bytes(RET0_TS)
      w.big(A.ts(r))
      w.bytes(TYPE.NF)
      w.bytes(containerFrag(r))
      flow(w, r)
      w.bytes(hf.meta)
      net(w, r)
      w.bytes(hf.nodeComma)
      break
    case "FE":
      w.int(A.ret(r))
      w.bytes(TS)
      w.big(A.ts(r))
      w.bytes(TYPE.FE)
      w.bytes(containerFrag(r))
      writeFile(w, r)
      w.bytes(hf.metaNodeComma)
      break
    case "PE":
      w.int(A.ret(r))
      w.bytes(TS)
      w.big(A.ts(r))
      w.bytes(TYPE.PE)
      w.bytes(containerFrag(r))
      w.bytes(hf.metaNodeComma)
      break
  }
  w.bytes(podFrag(r))
  w.bytes(pf.head)
  w.big(A.procTid(r))
  w.bytes(close ? pf.tailClose : pf.tail)
}

/** A Sigma rule's `,"title":…,"level":…,"references":[…]` (docs/sigma.md; `level` omitted when absent). */
const sigmaFields = (m: SigmaRuleInfo): string =>
  ',"title":' + q(m.title) + (m.level === undefined ? "" : ',"level":' + q(m.level)) + ',"references":[' + m.references.map(q).join(",") + "]"

/** `,"policies":[…]` and `,"tags":[ctx tags…, rule tags…]`, each omitted when empty. */
const policiesAndTags = (ev: PolicyEvent): string => {
  let s = ""
  let tags = ""
  for (const t of ev.tags) tags += (tags === "" ? "" : ",") + q(t)
  if (ev.rules.length > 0) {
    s += ',"policies":['
    for (let i = 0; i < ev.rules.length; i++) {
      const rule = ev.rules[i]
      s += (i > 0 ? ',{"id":' : '{"id":') + q(rule.name) + ',"desc":' + q(rule.desc) + ',"priority":' + rule.priority
      if (rule.renderOutput !== undefined) s += ',"output":' + q(rule.renderOutput(ev.record))
      s += (rule.sigma === undefined ? "" : sigmaFields(rule.sigma)) + "}"
      for (const t of rule.tags) tags += (tags === "" ? "" : ",") + q(t)
    }
    s += "]"
  }
  return tags === "" ? s : s + ',"tags":[' + tags + "]"
}

/** `{"version":V,"endts":` for the last schema version seen (the configured text, written raw). */
let lastVersion: string | undefined
let lastHead: Buffer = EMPTY
const lineHead = (schemaVersion: string): Buffer => {
  if (schemaVersion !== lastVersion) {
    lastHead = utf8('{"version":' + schemaVersion + ',"endts":')
    lastVersion = schemaVersion
  }
  return lastHead
}

const writeEvent = (w: Utf8Writer, ev: PolicyEvent, head: Buffer): void => {
  if (ev.rules.length === 0 && ev.tags.length === 0) return writeRecord(w, ev.record, head, true)
  writeRecord(w, ev.record, head, false)
  w.text(policiesAndTags(ev))
  w.byte(0x7d) // }
}

/**
 * One writer for every batch (encoding is synchronous); its blocks come from a pool, and a batch's block
 * is given back by `releaseJsonText`.
 */
const pool = new BufferPool()
const writer = new Utf8Writer(pool)

/** One record as one JSON document (without a newline). `schemaVersion` is written raw (config `5`). */
export const encodeJsonEvent = (ev: PolicyEvent, schemaVersion: string): string => {
  writer.reset()
  writeEvent(writer, ev, lineHead(schemaVersion))
  return writer.toString()
}

/** The records as JSON lines in UTF-8, one document per event, in order. */
export const encodeJsonText = (events: ReadonlyArray<PolicyEvent>, schemaVersion: string): JsonLinesText => {
  const head = lineHead(schemaVersion)
  const ends = new Uint32Array(events.length)
  writer.reset()
  for (let i = 0; i < events.length; i++) {
    writeEvent(writer, events[i], head)
    writer.byte(0x0a) // \n
    ends[i] = writer.pos
  }
  return { bytes: writer.take(), ends }
}

/** Gives back the bytes of an `encodeJsonText` result nobody reads any more (they will be overwritten). */
export const releaseJsonText = (text: JsonLinesText): void => pool.release(text.bytes)

/** JSON lines as text: each record's document followed by "\n" (an empty batch gives ""). */
export const encodeJsonBatch = (events: ReadonlyArray<PolicyEvent>, schemaVersion: string): string => {
  const text = encodeJsonText(events, schemaVersion)
  const s = Buffer.from(text.bytes.buffer, text.bytes.byteOffset, text.bytes.length).toString("utf8")
  releaseJsonText(text)
  return s
}

/** `format: json`: each event a JSON line, in the encoder's pooled blocks (released once sent). */
export const makeJsonEncoder: EncoderFactory = (_attrs, config) =>
  Effect.succeed({
    encode: (events) => new TextBatch(encodeJsonText(events, config.jsonSchemaVersion)),
    release: (batch) => {
      if (batch.text !== undefined) releaseJsonText(batch.text)
    }
  })
