/**
 * The reference JSON layout (data-model §5.2), byte for byte apart from the listed fixes (D1, D2, D4, D7,
 * D8, D9, D11): a hand-written string builder over the attribute functions, no JSON.stringify, no Effect.
 *
 * Layout: `{"version":V,"endts":…,"opflags":[…],"ret":…,"ts":…,"type":"…",<sections>[,"policies":[…]]
 * [,"tags":[…]]}`. Sections in lexical order `container, file, flow, meta, net, node, pod, pproc, proc`
 * with their presence rules; KE records carry only `k8s, meta, node`.
 *
 * Hot path: the section builders below define the text; each entity's share of it (process + ancestry,
 * header, container, pod, file) is rendered once and cached on the entity object, and a line is one
 * concatenation of cached fragments and the event's own values (see "The hot path").
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
import type { PolicyEvent } from "../../../domain/policyEvent.js"
import type { Service } from "../../../domain/sysflow.js"

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

// The file section is built from pieces so that the hot path can cache the ones that depend only on the
// file (or only on the second file) and complete them with the event's values.

/** `"file":{"directory":…,"fd":` */
const fileHead = (r: FlatRecord): string => '"file":{"directory":' + q(A.fileDirectory(r)) + ',"fd":'

/** `,"is_open_read":…,"is_open_write":…` */
const fileOpen = (r: FlatRecord): string =>
  ',"is_open_read":' + A.fileIsOpenRead(r) + ',"is_open_write":' + A.fileIsOpenWrite(r)

/** `,"name":…,` */
const fileName = (r: FlatRecord): string => ',"name":' + q(A.fileName(r)) + ","

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

/** `,"oid":…,"openflags":` */
const fileOid = (r: FlatRecord): string => ',"oid":' + q(A.fileOid(r)) + ',"openflags":'

/** `,"path":…,"symlink":…,"type":…},` */
const fileTail = (r: FlatRecord): string =>
  ',"path":' + q(A.filePath(r)) + ',"symlink":' + q(A.fileSymlink(r)) + ',"type":' + q(A.fileType(r)) + "},"

const file = (r: FlatRecord): string =>
  fileHead(r) +
  A.fileFd(r) +
  fileOpen(r) +
  fileName(r) +
  fileNew(r) +
  fileOid(r) +
  flagArray(A.fileOpenflags(r)) +
  fileTail(r)

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

// Ancestry arrays are memoised per ptree, so their JSON can be memoised on identity too.
const ancestryJson = new WeakMap<object, string>()
const memoArray = <T extends ReadonlyArray<unknown>>(items: T, render: (items: T) => string): string => {
  let s = ancestryJson.get(items)
  if (s === undefined) {
    s = render(items)
    ancestryJson.set(items, s)
  }
  return s
}

/** `"proc":{…,"tid":` (the proc section is split around the one field that comes from the event). */
const procHead = (r: FlatRecord): string =>
  '"proc":{"acmdline":' +
  memoArray(A.procAcmdline(r), stringArray) +
  ',"aexe":' +
  memoArray(A.procAexe(r), stringArray) +
  ',"aname":' +
  memoArray(A.procAname(r), stringArray) +
  ',"apid":' +
  memoArray(A.procApid(r), intArray) +
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
// each entity's part of the line is rendered once, by the section builders above, and cached on the
// object itself. A line is then one concatenation of a few cached fragments and the per-event values.
// Entities are never mutated once read (the attribute memos rely on that too).

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

/** Makes a cached fragment flat once, so that each line using it does not walk (or copy) a rope. */
const flat = (s: string): string => {
  s.charCodeAt(0)
  return s
}

// Each `…Frag` function reads its slot with its own property access, so each access site sees one kind of
// entity (monomorphic). A record without the entity uses a module-level fragment.

/** `"container":{…},` ("" when the record shows no container). */
let noContainerFrag: string | undefined
const containerFrag = (r: FlatRecord): string => {
  const c = r.container
  if (c === undefined) return (noContainerFrag ??= A.containerId(r) !== "" ? container(r) : "")
  const v = (c as Slot<string>)[FRAG] ?? frozenFrag<string>(c)
  return v !== undefined ? v : setFrag(c, flat(A.containerId(r) !== "" ? container(r) : ""))
}

/** `"pod":{…},` ("" when the record shows no pod). */
let noPodFrag: string | undefined
const podFrag = (r: FlatRecord): string => {
  const p = r.pod
  if (p === undefined) return (noPodFrag ??= A.podId(r) !== "" ? pod(r) : "")
  const v = (p as Slot<string>)[FRAG] ?? frozenFrag<string>(p)
  return v !== undefined ? v : setFrag(p, flat(A.podId(r) !== "" ? pod(r) : ""))
}

/** The header's sections: meta and node (net comes between them in NF records). */
interface HeaderFrag {
  /** `"meta":{…},` */
  readonly meta: string
  /** `"node":{…},` */
  readonly nodeComma: string
  /** `"meta":{…},"node":{…},` */
  readonly metaNodeComma: string
}
const makeHeaderFrag = (r: FlatRecord): HeaderFrag => {
  const m = flat(meta(r))
  const n = flat(node(r) + ",")
  return { meta: m, nodeComma: n, metaNodeComma: flat(m + n) }
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
  readonly head: string
  /** `,"tty":…}` */
  readonly tail: string
  /** `,"tty":…}}`: the end of a line without policies or tags. */
  readonly tailClose: string
}
const makeProcFrag = (r: FlatRecord): ProcFrag => {
  // Present iff the process has a parent pid, whether or not the parent is cached (D8).
  const tail = procTail(r)
  return {
    ptree: r.ptree,
    head: flat((A.pprocPid(r) !== 0n ? pproc(r) : "") + procHead(r)),
    tail: flat(tail),
    tailClose: flat(tail + "}")
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
  return v !== undefined && v.ptree === r.ptree ? v : setFrag(p, makeProcFrag(r))
}

/**
 * The file-only pieces of the file section for one File object, and the FE section (which depends on the
 * file and the second file only: fd 0, not open, openflags NONE).
 */
interface FileFrag {
  /** `"file":{"directory":…,"fd":` */
  readonly head: string
  /** `,"name":…,"newdirectory":…,"newsymlink":…,"oid":…,"openflags":` (without a second file). */
  readonly mid: string
  /** `,"path":…,"symlink":…,"type":…},` */
  readonly tail: string
  /** FE: the second file `feSection` was rendered with (null: none yet). */
  feNew: FlatRecord["newFile"] | null
  /** FE: the whole section. */
  feSection: string
}
/** The second-file part of a record without a second file (a constant). */
let noNewFile: string | undefined
const makeFileFrag = (r: FlatRecord): FileFrag => ({
  head: flat(fileHead(r)),
  mid: flat(fileName(r) + (noNewFile ??= fileNew({ ...r, newFile: undefined })) + fileOid(r)),
  tail: flat(fileTail(r)),
  feNew: null,
  feSection: ""
})
let noFileFrag: FileFrag | undefined
const fileFrag = (r: FlatRecord): FileFrag => {
  const f = r.file
  if (f === undefined) return (noFileFrag ??= makeFileFrag(r))
  const v = (f as Slot<FileFrag>)[FRAG] ?? frozenFrag<FileFrag>(f)
  return v !== undefined ? v : setFrag(f, makeFileFrag(r))
}

/** FF: the open-flags parts of the file section, per flags value (a file is opened with varying flags). */
interface OpenFrag {
  /** `,"is_open_read":…,"is_open_write":…` */
  readonly open: string
  /** `[…]` */
  readonly list: string
}
const openFrags = new Map<number, OpenFrag>()
const openFrag = (r: FileFlowRecord): OpenFrag => {
  let v = openFrags.get(r.event.openFlags)
  if (v === undefined) {
    v = { open: flat(fileOpen(r)), list: flagArray(A.fileOpenflags(r)) }
    boundedSet(openFrags, r.event.openFlags, v)
  }
  return v
}

/** FF: `"file":{…},` */
const ffFile = (r: FileFlowRecord): string => {
  if (r.newFile !== undefined) return file(r) // the reader never gives an FF a second file
  const f = fileFrag(r)
  const o = openFrag(r)
  return f.head + A.fileFd(r) + o.open + f.mid + o.list + f.tail
}

/** FE: `"file":{…},` */
const feFile = (r: FileEventRecord): string => {
  const f = fileFrag(r)
  if (f.feNew !== r.newFile) {
    f.feSection = flat(file(r))
    f.feNew = r.newFile
  }
  return f.feSection
}

// ---------------------------------------------------------------------------------------------------
// Per-event values

/** A bigint in decimal: through a double when that is exact (much cheaper than `BigInt#toString`). */
const big = (v: bigint): string => {
  const n = Number(v)
  return n <= Number.MAX_SAFE_INTEGER && n >= -Number.MAX_SAFE_INTEGER ? "" + n : "" + v
}

/** `,"opflags":[…],"ret":` per flags value, for files (index 0) and network flows (1): Q11/D11. */
const opflagsRetJson = [new Map<number, string>(), new Map<number, string>()]
const opflagsRet = (r: Exclude<FlatRecord, K8sEventRecord>): string => {
  const m = opflagsRetJson[r.type === "NF" ? 1 : 0]
  const v = m.get(r.event.opFlags)
  if (v !== undefined) return v
  const s = ',"opflags":' + flagArray(A.opflags(r)) + ',"ret":'
  boundedSet(m, r.event.opFlags, s)
  return s
}

/** `"flow":{…},` (FF and NF). */
const flow = (r: FileFlowRecord | NetworkFlowRecord): string =>
  '"flow":{"rbytes":' +
  big(A.flowRbytes(r)) +
  ',"rops":' +
  big(A.flowRops(r)) +
  ',"wbytes":' +
  big(A.flowWbytes(r)) +
  ',"wops":' +
  big(A.flowWops(r)) +
  "},"

/** `A.netSip`/`A.netDip` quoted (a dotted quad needs no escaping), memoised per address value. */
const quotedIps = new Map<number, string>()
const quotedIp = (ip: number): string => {
  let s = quotedIps.get(ip)
  if (s === undefined) {
    s = q(ipv4(ip))
    boundedSet(quotedIps, ip, s)
  }
  return s
}

/** `"net":{…},` (NF). */
const net = (r: NetworkFlowRecord): string => {
  const sip = quotedIp(r.event.sip)
  const dip = quotedIp(r.event.dip)
  const sport = A.netSport(r)
  const dport = A.netDport(r)
  return (
    '"net":{"dip":' +
    dip +
    ',"dport":' +
    dport +
    ',"ip":[' +
    sip +
    "," +
    dip +
    '],"port":[' +
    sport +
    "," +
    dport +
    '],"proto":' +
    A.netProto(r) +
    ',"sip":' +
    sip +
    ',"sport":' +
    sport +
    "},"
  )
}

/**
 * The line up to its end, without policies and tags: `close` adds the final `}`. `head` is
 * `{"version":V,"endts":`. Sections in lexical order: container, file, flow, meta, net, node, pod,
 * pproc, proc.
 */
const recordJson = (r: FlatRecord, head: string, close: boolean): string => {
  if (r.type === "KE") {
    const s =
      head + A.endts(r) + ',"opflags":[],"ret":0,"ts":' + A.ts(r) + ',"type":"KE",' + k8s(r) + meta(r) + node(r)
    return close ? s + "}" : s
  }
  const pf = procFrag(r)
  const end = close ? pf.tailClose : pf.tail
  const hf = headerFrag(r)
  switch (r.type) {
    case "FF":
      return (
        head +
        big(A.endts(r)) +
        opflagsRet(r) +
        '0,"ts":' +
        big(A.ts(r)) +
        ',"type":"FF",' +
        containerFrag(r) +
        ffFile(r) +
        flow(r) +
        hf.metaNodeComma +
        podFrag(r) +
        pf.head +
        big(A.procTid(r)) +
        end
      )
    case "NF":
      return (
        head +
        big(A.endts(r)) +
        opflagsRet(r) +
        '0,"ts":' +
        big(A.ts(r)) +
        ',"type":"NF",' +
        containerFrag(r) +
        flow(r) +
        hf.meta +
        net(r) +
        hf.nodeComma +
        podFrag(r) +
        pf.head +
        big(A.procTid(r)) +
        end
      )
    case "FE":
      return (
        head +
        big(A.endts(r)) +
        opflagsRet(r) +
        A.ret(r) +
        ',"ts":' +
        big(A.ts(r)) +
        ',"type":"FE",' +
        containerFrag(r) +
        feFile(r) +
        hf.metaNodeComma +
        podFrag(r) +
        pf.head +
        big(A.procTid(r)) +
        end
      )
    case "PE":
      return (
        head +
        big(A.endts(r)) +
        opflagsRet(r) +
        A.ret(r) +
        ',"ts":' +
        big(A.ts(r)) +
        ',"type":"PE",' +
        containerFrag(r) +
        hf.metaNodeComma +
        podFrag(r) +
        pf.head +
        big(A.procTid(r)) +
        end
      )
  }
}

/** `,"policies":[…]` and `,"tags":[ctx tags…, rule tags…]`, each omitted when empty. */
const policiesAndTags = (ev: PolicyEvent): string => {
  let s = ""
  let tags = ""
  for (const t of ev.tags) tags += (tags === "" ? "" : ",") + q(t)
  if (ev.rules.length > 0) {
    s += ',"policies":['
    for (let i = 0; i < ev.rules.length; i++) {
      const rule = ev.rules[i]
      s += (i > 0 ? ',{"id":' : '{"id":') + q(rule.name) + ',"desc":' + q(rule.desc) + ',"priority":' + rule.priority + "}"
      for (const t of rule.tags) tags += (tags === "" ? "" : ",") + q(t)
    }
    s += "]"
  }
  return tags === "" ? s : s + ',"tags":[' + tags + "]"
}

/** `{"version":V,"endts":` for the last schema version seen (the configured text, written raw). */
let lastVersion = ""
let lastHead = '{"version":,"endts":'
const lineHead = (schemaVersion: string): string => {
  if (schemaVersion !== lastVersion) {
    lastHead = flat('{"version":' + schemaVersion + ',"endts":')
    lastVersion = schemaVersion
  }
  return lastHead
}

const encode = (ev: PolicyEvent, head: string): string =>
  ev.rules.length === 0 && ev.tags.length === 0
    ? recordJson(ev.record, head, true)
    : recordJson(ev.record, head, false) + policiesAndTags(ev) + "}"

/** One record as one JSON line (without the newline). `schemaVersion` is written raw (config `5`). */
export const encodeJsonEvent = (ev: PolicyEvent, schemaVersion: string): string =>
  flat(encode(ev, lineHead(schemaVersion)))

/**
 * The records as JSON documents, one per event, in order.
 *
 * Each line is left as a short rope (a few dozen pieces, most of them cached fragments shared by every
 * line of the same entities) and not flattened here: whoever consumes the lines copies their characters
 * once (the file and terminal transports' `join`), and the null transport never does. Flattening each
 * line here would copy every byte a second time and make the young generation copy each surviving line
 * whole.
 */
export const encodeJsonLines = (events: ReadonlyArray<PolicyEvent>, schemaVersion: string): Array<string> => {
  const head = lineHead(schemaVersion)
  const lines = new Array<string>(events.length)
  for (let i = 0; i < events.length; i++) lines[i] = encode(events[i], head)
  return lines
}

/** JSON lines: each record's document followed by "\n" (an empty batch gives ""). */
export const encodeJsonBatch = (events: ReadonlyArray<PolicyEvent>, schemaVersion: string): string =>
  events.length === 0 ? "" : encodeJsonLines(events, schemaVersion).join("\n") + "\n"
