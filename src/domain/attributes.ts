/**
 * The `sf.*` attributes (policy-language §7, data-model §3.5), computed from a flat record. Policies and
 * encoders share these functions, so each field has exactly one definition.
 *
 * Field functions return the value the encoders write (JSON types: int32 fields as `number`, int64
 * fields as `bigint`, strings after the one-bounding-quote trim, Q3). `attributeTable` wraps them for the
 * policy engine with the reference's MapStr/MapInt semantics. Records are modelled by type (Q12): a
 * field the record's type does not carry reads as zero. Plain functions, no Effect: this is the hot path.
 */
import { base, dir, isSpace, parseSymPath, type SymPath } from "./goPath.js"
import { ipv4, ipv4FromLong } from "./ipv4.js"
import { isOpenRead, isOpenWrite, openFlagNames } from "./openFlags.js"
import { opFlagNames, opFlagsStr } from "./opFlags.js"
import type { FlatRecord } from "./flatRecord.js"
import type { File, K8sEvent, Pod, Process, Service } from "./sysflow.js"
import { oidHex } from "./xxhash.js"

// ---------------------------------------------------------------------------------------------------
// String helpers

/** Go `TrimBoundingQuotes`: drop one leading and one trailing `"` or `'`, each end independently. */
export const trimBoundingQuotes = (s: string): string => {
  const n = s.length
  if (n === 0) return s
  const a = s.charCodeAt(0)
  const start = a === 0x22 || a === 0x27 ? 1 : 0
  if (start === n) return ""
  const z = s.charCodeAt(n - 1)
  const end = z === 0x22 || z === 0x27 ? n - 1 : n
  return start === 0 && end === n ? s : s.slice(start, end)
}

/** Go `strings.TrimSpace` (the flattener trims entity names and paths with it, data-model §3.3). */
export const trimSpace = (s: string): string => {
  let start = 0
  let end = s.length
  while (start < end && isSpace(s.charCodeAt(start))) start++
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--
  return start === 0 && end === s.length ? s : s.slice(start, end)
}

const hexDigits = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))

/** Go `string(rune(t))`: invalid code points (negative, surrogates, > U+10FFFF) become U+FFFD. */
const runeString = (t: number): string =>
  t < 0 || t > 0x10ffff || (t >= 0xd800 && t <= 0xdfff) ? "\ufffd" : String.fromCodePoint(t)

// ---------------------------------------------------------------------------------------------------
// Per-entity memos (entities are shared by every record that references them)

/**
 * `make(k)` once per object `k` (held weakly, so it goes with the object). The last one is also kept
 * beside the map: a record's attributes ask for the same entity several times in a row.
 */
const perObject = <K extends object, V>(make: (k: K) => V): ((k: K) => V) => {
  const values = new WeakMap<K, V>()
  let lastKey: K | undefined
  let lastValue: V | undefined
  return (k) => {
    if (k === lastKey) return lastValue as V
    let v = values.get(k)
    if (v === undefined) {
      v = make(k)
      values.set(k, v)
    }
    lastKey = k
    lastValue = v
    return v
  }
}

/** Derived strings of one process; `oid` is hashed lazily. */
class ProcInfo {
  readonly exe: string
  readonly args: string
  /** `Base(exe)` before quote trimming (policy `sf.proc.aname` joins these, then trims once). */
  readonly rawName: string
  readonly name: string
  /** exe, plus `" " + args` when args is non-empty (Q10: never a trailing space). */
  readonly rawCmdline: string
  readonly cmdline: string
  /** JSON `acmdline` item and `pproc.cmdline`: exe and args trimmed separately, then joined. */
  readonly cmdlineItem: string
  private oidStr: string | undefined
  private poidStr: string | undefined

  constructor(readonly p: Process) {
    this.exe = trimBoundingQuotes(p.exe)
    this.args = trimBoundingQuotes(p.exeArgs)
    this.rawName = base(p.exe)
    this.name = trimBoundingQuotes(this.rawName)
    this.rawCmdline = p.exeArgs.length > 0 ? `${p.exe} ${p.exeArgs}` : p.exe
    this.cmdline = trimBoundingQuotes(this.rawCmdline)
    this.cmdlineItem = this.args.length > 0 ? `${this.exe} ${this.args}` : this.exe
  }

  get oid(): string {
    return (this.oidStr ??= oidHex(this.p.oid.hpid, this.p.oid.createTS))
  }

  get poid(): string {
    const po = this.p.poid
    return (this.poidStr ??= po === null ? zeroOid : oidHex(po.hpid, po.createTS))
  }
}

/**
 * The OID string of the zero pair (`oidHex(0n, 0n)`, xxh64 of "00"), used when the process (or its `poid`)
 * is absent; a literal because hashing is not ready while modules load (xxhash.ts).
 */
export const zeroOid = "392abdfb220ee462"

const procInfo = perObject((p: Process) => new ProcInfo(p))

/** Ancestry arrays over a ptree (index 0 = the process itself), JSON items and policy strings. */
/**
 * A process's ancestry as the attributes show it: the arrays at once, the policy forms (raw items joined
 * with `,`, then trimmed once: MapStr semantics) when a rule first reads them, since every process has an
 * ancestry and most are only exported (the joined strings were about 700 bytes of heap per process).
 */
class Ancestry {
  readonly aname: ReadonlyArray<string>
  readonly aexe: ReadonlyArray<string>
  readonly acmdline: ReadonlyArray<string>
  readonly apid: ReadonlyArray<bigint>
  private names: string | undefined
  private exes: string | undefined
  private cmdlines: string | undefined
  private pids: string | undefined

  constructor(
    private readonly ptree: ReadonlyArray<Process>,
    private readonly infos: ReadonlyArray<ProcInfo>
  ) {
    this.aname = infos.map((i) => i.name)
    this.aexe = infos.map((i) => i.exe)
    this.acmdline = infos.map((i) => i.cmdlineItem)
    this.apid = ptree.map((p) => p.oid.hpid)
  }

  get anameStr(): string {
    return (this.names ??= trimBoundingQuotes(this.infos.map((i) => i.rawName).join(",")))
  }
  get aexeStr(): string {
    return (this.exes ??= trimBoundingQuotes(this.ptree.map((p) => p.exe).join(",")))
  }
  get acmdlineStr(): string {
    return (this.cmdlines ??= trimBoundingQuotes(this.infos.map((i) => i.rawCmdline).join(",")))
  }
  get apidStr(): string {
    return (this.pids ??= this.apid.join(","))
  }
}

const noAncestry = new Ancestry([], [])

const ancestryOf = perObject((pt: ReadonlyArray<Process>) => new Ancestry(pt, pt.map(procInfo)))
const ancestry = (r: FlatRecord): Ancestry => {
  const pt = r.ptree
  return pt === undefined || pt.length === 0 ? noAncestry : ancestryOf(pt)
}

/**
 * Derived strings of one file (socket-path parsing, Go Base/Dir, type character), each made when first
 * read: a rule set usually reads the path alone, and a File object serves few records.
 */
class FileInfo {
  private sym: SymPath | undefined
  private rawPathStr: string | undefined
  private pathStr: string | undefined
  private symlinkStr: string | undefined
  private nameStr: string | undefined
  private directoryStr: string | undefined
  private typeStr: string | undefined

  /** `raw`: the whitespace-trimmed path. */
  constructor(
    private readonly raw: string,
    readonly oid: string,
    private readonly restype: number
  ) {}

  private get symPath(): SymPath {
    return (this.sym ??= parseSymPath(this.raw))
  }
  /** The raw path, quote-trimmed: JSON `newpath` (data-model §3.5). */
  get rawPath(): string {
    return (this.rawPathStr ??= trimBoundingQuotes(this.raw))
  }
  get path(): string {
    return (this.pathStr ??= trimBoundingQuotes(this.symPath.path))
  }
  get symlink(): string {
    return (this.symlinkStr ??= trimBoundingQuotes(this.symPath.symlink))
  }
  get name(): string {
    return (this.nameStr ??= trimBoundingQuotes(base(this.raw)))
  }
  get directory(): string {
    return (this.directoryStr ??= trimBoundingQuotes(dir(this.symPath.path)))
  }
  get type(): string {
    return (this.typeStr ??= trimBoundingQuotes(runeString(this.restype)))
  }
}

/**
 * The last file's derived strings only: a File serves about three records, not always in a row, and a
 * WeakMap entry per File cost more than deriving its strings again (a record's attributes ask for the
 * same file several times in a row).
 */
let lastFile: File | undefined
let lastFileInfo: FileInfo | undefined
const fileInfo = (f: File): FileInfo => {
  if (f !== lastFile || lastFileInfo === undefined) {
    lastFile = f
    lastFileInfo = new FileInfo(trimSpace(f.path), f.oid, f.restype)
  }
  return lastFileInfo
}

/** A missing file: path `""`, so name and directory are `"."`, type is the NUL character. */
const noFile = new FileInfo("", "", 0)

/** Pod values rendered once per pod object. */
interface PodInfo {
  readonly name: string
  readonly nodename: string
  readonly namespace: string
  readonly hostip: ReadonlyArray<string>
  readonly internalip: ReadonlyArray<string>
  /** Policy strings: valid JSON (D7). */
  readonly hostipJson: string
  readonly internalipJson: string
  readonly servicesJson: string
}

const podInfo = perObject((p: Pod): PodInfo => {
  const hostip = p.hostIP.map(ipv4FromLong)
  const internalip = p.internalIP.map(ipv4FromLong)
  return {
    name: trimBoundingQuotes(trimSpace(p.name)),
    nodename: trimBoundingQuotes(trimSpace(p.nodeName)),
    namespace: trimBoundingQuotes(trimSpace(p.namespace)),
    hostip,
    internalip,
    hostipJson: trimBoundingQuotes(jsonStringArray(hostip)),
    internalipJson: trimBoundingQuotes(jsonStringArray(internalip)),
    servicesJson: trimBoundingQuotes(servicesJson(p.services))
  }
})

/** Go `json.Marshal` of the services (struct field order and names of sf-apis `Service`/`Port`). */
const servicesJson = (services: ReadonlyArray<Service>): string =>
  `[${services
    .map(
      (s) =>
        `{"name":${jsonString(s.name)},"id":${jsonString(s.id)},"namespace":${jsonString(s.namespace)},` +
        `"portList":[${s.portList
          .map(
            (p) =>
              `{"port":${p.port},"targetPort":${p.targetPort},"nodePort":${p.nodePort},"proto":${jsonString(p.proto)}}`
          )
          .join(",")}],"clusterIP":[${s.clusterIP.join(",")}]}`
    )
    .join(",")}]`

// ---------------------------------------------------------------------------------------------------
// JSON string escaping (easyjson / Go encoding/json HTML-safe flavour), shared with the JSON encoder

// Anything that needs escaping: controls, `"`, `\`, `<`, `>`, `&`, U+2028/2029, any surrogate half.
const needsEscape = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/

/**
 * A JSON string literal, quotes included: `\"`, `\\`, `\n`, `\r`, `\t`; other controls and `<>&` as
 * lowercase `\u00xx`; U+2028/2029 escaped; unpaired surrogates (invalid UTF-16) as `\ufffd`.
 */
export const jsonString = (s: string): string => (needsEscape.test(s) ? `"${escapeSlow(s)}"` : `"${s}"`)

/** A JSON array of strings, each escaped as `jsonString` does. */
export const jsonStringArray = (items: ReadonlyArray<string>): string => {
  if (items.length === 0) return "[]"
  let s = "[" + jsonString(items[0])
  for (let i = 1; i < items.length; i++) s += "," + jsonString(items[i])
  return s + "]"
}

const escapeSlow = (s: string): string => {
  let out = ""
  let last = 0
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    let rep: string
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
      rep =
        c === 0x22
          ? '\\"'
          : c === 0x5c
            ? "\\\\"
            : c === 0x0a
              ? "\\n"
              : c === 0x0d
                ? "\\r"
                : c === 0x09
                  ? "\\t"
                  : `\\u00${hexDigits[c]}`
    } else if (c === 0x2028 || c === 0x2029) {
      rep = c === 0x2028 ? "\\u2028" : "\\u2029"
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++ // a valid pair: copied as is
        continue
      }
      rep = "\\ufffd"
    } else if (c >= 0xd800 && c <= 0xdfff) {
      rep = "\\ufffd"
    } else {
      continue
    }
    out += s.slice(last, i) + rep
    last = i + 1
  }
  return out + s.slice(last)
}

// ---------------------------------------------------------------------------------------------------
// Record-level attributes

const isFlow = (r: FlatRecord): r is Extract<FlatRecord, { type: "FF" | "NF" }> => r.type === "FF" || r.type === "NF"

/** `sf.type`. */
export const sfType = (r: FlatRecord): string => r.type

/** `sf.opflags` list names (READ/WRITE or, for NF, RECV/SEND). KE has no flags. */
export const opflags = (r: FlatRecord): ReadonlyArray<string> =>
  r.type === "KE" ? noStrings : opFlagNames(r.event.opFlags, r.type)

const noStrings: ReadonlyArray<string> = Object.freeze([])

/** `sf.ret`: PE and FE only. */
export const ret = (r: FlatRecord): number => (r.type === "PE" || r.type === "FE" ? r.event.ret : 0)

/** `sf.ts`. */
export const ts = (r: FlatRecord): bigint => r.event.ts

/** `sf.endts`: flow end for FF/NF, the event time for KE, 0 for PE/FE. */
export const endts = (r: FlatRecord): bigint => (isFlow(r) ? r.event.endTs : r.type === "KE" ? r.event.ts : 0n)

// ---------------------------------------------------------------------------------------------------
// sf.proc.*: from the process (zeros when it is missing; name is then Base("") = ".")

const noProcInfo = new ProcInfo({
  state: "CREATED",
  oid: { createTS: 0n, hpid: 0n },
  poid: null,
  ts: 0n,
  exe: "",
  exeArgs: "",
  uid: 0,
  userName: "",
  gid: 0,
  groupName: "",
  tty: false,
  containerId: null,
  entry: false
})
const proc = (r: FlatRecord): ProcInfo => (r.process === undefined ? noProcInfo : procInfo(r.process))

export const procOid = (r: FlatRecord): string => proc(r).oid
export const procPid = (r: FlatRecord): bigint => r.process?.oid.hpid ?? 0n
export const procCreatets = (r: FlatRecord): bigint => r.process?.oid.createTS ?? 0n
export const procUid = (r: FlatRecord): number => r.process?.uid ?? 0
export const procGid = (r: FlatRecord): number => r.process?.gid ?? 0
export const procUser = (r: FlatRecord): string => trimBoundingQuotes(r.process?.userName ?? "")
export const procGroup = (r: FlatRecord): string => trimBoundingQuotes(r.process?.groupName ?? "")
export const procExe = (r: FlatRecord): string => proc(r).exe
/** `sf.proc.cwd`: the working directory (v5 traces; `""` in older ones). Not part of the JSON export. */
export const procCwd = (r: FlatRecord): string => r.process?.cwd ?? ""
export const procArgs = (r: FlatRecord): string => proc(r).args
export const procName = (r: FlatRecord): string => proc(r).name
/** `sf.proc.cmdline` (Q10/D4: no trailing space when args are empty). */
export const procCmdline = (r: FlatRecord): string => proc(r).cmdline
/** `sf.proc.tid`: from the event or flow (KE has none). */
export const procTid = (r: FlatRecord): bigint => (r.type === "KE" ? 0n : r.event.tid)
export const procTty = (r: FlatRecord): boolean => r.process?.tty ?? false
export const procEntry = (r: FlatRecord): boolean => r.process?.entry ?? false
/** Ancestry (possibly stale, D10), the process itself first; `[]` when the process is missing (D9). */
export const procAname = (r: FlatRecord): ReadonlyArray<string> => ancestry(r).aname
export const procAexe = (r: FlatRecord): ReadonlyArray<string> => ancestry(r).aexe
export const procAcmdline = (r: FlatRecord): ReadonlyArray<string> => ancestry(r).acmdline
export const procApid = (r: FlatRecord): ReadonlyArray<bigint> => ancestry(r).apid

// ---------------------------------------------------------------------------------------------------
// sf.pproc.*: pid, createts and oid from the process's `poid`; the rest from ptree[1] ("" / 0 / false
// when the parent is not cached, D8)

const parent = (r: FlatRecord): ProcInfo | undefined => {
  const pt = r.ptree
  return pt !== undefined && pt.length > 1 ? procInfo(pt[1]) : undefined
}

export const pprocOid = (r: FlatRecord): string => (r.process === undefined ? zeroOid : procInfo(r.process).poid)
export const pprocPid = (r: FlatRecord): bigint => r.process?.poid?.hpid ?? 0n
export const pprocCreatets = (r: FlatRecord): bigint => r.process?.poid?.createTS ?? 0n
export const pprocName = (r: FlatRecord): string => parent(r)?.name ?? ""
export const pprocExe = (r: FlatRecord): string => parent(r)?.exe ?? ""
export const pprocArgs = (r: FlatRecord): string => parent(r)?.args ?? ""
export const pprocUser = (r: FlatRecord): string => trimBoundingQuotes(parent(r)?.p.userName ?? "")
export const pprocGroup = (r: FlatRecord): string => trimBoundingQuotes(parent(r)?.p.groupName ?? "")
/** JSON `pproc.cmdline`: exe and args trimmed separately (the policy form trims the joined string). */
export const pprocCmdline = (r: FlatRecord): string => parent(r)?.cmdlineItem ?? ""
export const pprocUid = (r: FlatRecord): number => parent(r)?.p.uid ?? 0
export const pprocGid = (r: FlatRecord): number => parent(r)?.p.gid ?? 0
export const pprocTty = (r: FlatRecord): boolean => parent(r)?.p.tty ?? false
export const pprocEntry = (r: FlatRecord): boolean => parent(r)?.p.entry ?? false

// ---------------------------------------------------------------------------------------------------
// sf.file.*: FF and FE carry a file; FE may carry a second file (link/symlink/rename target)

const file = (r: FlatRecord): FileInfo => (r.file === undefined ? noFile : fileInfo(r.file))
const newFile = (r: FlatRecord): FileInfo => (r.newFile === undefined ? noFile : fileInfo(r.newFile))

export const filePath = (r: FlatRecord): string => file(r).path
export const fileSymlink = (r: FlatRecord): string => file(r).symlink
export const fileName = (r: FlatRecord): string => file(r).name
export const fileDirectory = (r: FlatRecord): string => file(r).directory
export const fileOid = (r: FlatRecord): string => file(r).oid
export const fileType = (r: FlatRecord): string => file(r).type
/** `sf.file.newpath` as policies and ECS see it (socket form parsed). */
export const fileNewpath = (r: FlatRecord): string => newFile(r).path
/** JSON `file.newpath`: the raw new path (data-model §3.5). */
export const fileNewpathRaw = (r: FlatRecord): string => newFile(r).rawPath
export const fileNewname = (r: FlatRecord): string => newFile(r).name
export const fileNewdirectory = (r: FlatRecord): string => newFile(r).directory
export const fileNewsymlink = (r: FlatRecord): string => newFile(r).symlink
export const fileNewoid = (r: FlatRecord): string => newFile(r).oid
/** FF: open for reading; false for every other type (Q12). */
export const fileIsOpenRead = (r: FlatRecord): boolean => r.type === "FF" && isOpenRead(r.event.openFlags)
export const fileIsOpenWrite = (r: FlatRecord): boolean => r.type === "FF" && isOpenWrite(r.event.openFlags)
/** `sf.file.fd`: FF and NF; 0 for FE (D2). */
export const fileFd = (r: FlatRecord): number => (isFlow(r) ? r.event.fd : 0)
const noneFlags = openFlagNames(0)
/** FF: open-flag names; NF: empty (Q12); PE/FE/KE: the zero rendering `["NONE"]`. */
export const fileOpenflags = (r: FlatRecord): ReadonlyArray<string> =>
  r.type === "FF" ? openFlagNames(r.event.openFlags) : r.type === "NF" ? noStrings : noneFlags

// ---------------------------------------------------------------------------------------------------
// sf.net.* (NF only) and sf.flow.* (FF and NF; true counts, Q13)

export const netSip = (r: FlatRecord): string => ipv4(r.type === "NF" ? r.event.sip : 0)
export const netDip = (r: FlatRecord): string => ipv4(r.type === "NF" ? r.event.dip : 0)
export const netSport = (r: FlatRecord): number => (r.type === "NF" ? r.event.sport : 0)
export const netDport = (r: FlatRecord): number => (r.type === "NF" ? r.event.dport : 0)
export const netProto = (r: FlatRecord): number => (r.type === "NF" ? r.event.proto : 0)
export const netIp = (r: FlatRecord): ReadonlyArray<string> => [netSip(r), netDip(r)]
export const netPort = (r: FlatRecord): ReadonlyArray<number> => [netSport(r), netDport(r)]

export const flowRbytes = (r: FlatRecord): bigint => (isFlow(r) ? r.event.numRRecvBytes : 0n)
export const flowRops = (r: FlatRecord): bigint => (isFlow(r) ? r.event.numRRecvOps : 0n)
export const flowWbytes = (r: FlatRecord): bigint => (isFlow(r) ? r.event.numWSendBytes : 0n)
export const flowWops = (r: FlatRecord): bigint => (isFlow(r) ? r.event.numWSendOps : 0n)

// ---------------------------------------------------------------------------------------------------
// sf.container.*, sf.pod.*

export const containerId = (r: FlatRecord): string => trimBoundingQuotes(r.container?.id ?? "")
export const containerName = (r: FlatRecord): string => trimBoundingQuotes(trimSpace(r.container?.name ?? ""))
export const containerImage = (r: FlatRecord): string => trimBoundingQuotes(trimSpace(r.container?.image ?? ""))
export const containerImageid = (r: FlatRecord): string => trimBoundingQuotes(r.container?.imageid ?? "")
/** Enum name without `CT_`; records without a container show `DOCKER` (type 0, kept). */
export const containerType = (r: FlatRecord): string =>
  r.container === undefined ? "DOCKER" : r.container.type.slice(3)
/** 0/1 as an integer (D6). */
export const containerPrivileged = (r: FlatRecord): number => (r.container?.privileged === true ? 1 : 0)

const noPodInfo: PodInfo = {
  name: "",
  nodename: "",
  namespace: "",
  hostip: [],
  internalip: [],
  hostipJson: "",
  internalipJson: "",
  servicesJson: ""
}
const pod = (r: FlatRecord): PodInfo => (r.pod === undefined ? noPodInfo : podInfo(r.pod))
const noServices: ReadonlyArray<Service> = []

export const podTs = (r: FlatRecord): bigint => r.pod?.ts ?? 0n
export const podRestartcnt = (r: FlatRecord): bigint => r.pod?.restartCount ?? 0n
export const podId = (r: FlatRecord): string => trimBoundingQuotes(r.pod?.id ?? "")
export const podName = (r: FlatRecord): string => pod(r).name
export const podNodename = (r: FlatRecord): string => pod(r).nodename
export const podNamespace = (r: FlatRecord): string => pod(r).namespace
/** `sf.pod.hostip`: a JSON array string of dotted quads (policies / gjson; valid JSON, D7). */
export const podHostip = (r: FlatRecord): string => pod(r).hostipJson
export const podInternalip = (r: FlatRecord): string => pod(r).internalipJson
/** `sf.pod.services`: the services as Go `json.Marshal` would write them. */
export const podServices = (r: FlatRecord): string => pod(r).servicesJson
/** `sf.pod.hostip+`: the dotted quads, for exporters. */
export const podHostipList = (r: FlatRecord): ReadonlyArray<string> => pod(r).hostip
export const podInternalipList = (r: FlatRecord): ReadonlyArray<string> => pod(r).internalip
/** `sf.pod.services+`: the raw services, for exporters. */
export const podServicesList = (r: FlatRecord): ReadonlyArray<Service> => r.pod?.services ?? noServices

// ---------------------------------------------------------------------------------------------------
// sf.ke.* (KE only; other types read the zero enum values), sf.node.*, sf.meta.*

const ke = (r: FlatRecord): K8sEvent | undefined => (r.type === "KE" ? r.event : undefined)

export const keAction = (r: FlatRecord): string => ke(r)?.action ?? "K8S_COMPONENT_ADDED"
export const keKind = (r: FlatRecord): string => ke(r)?.kind ?? "K8S_NODES"
/** The raw k8s JSON, trailing `\n` and NUL characters stripped (D15). */
export const keMessage = (r: FlatRecord): string => {
  const e = ke(r)
  if (e === undefined) return ""
  const m = e.message
  let end = m.length
  while (end > 0 && (m.charCodeAt(end - 1) === 0x0a || m.charCodeAt(end - 1) === 0)) end--
  return trimBoundingQuotes(end === m.length ? m : m.slice(0, end))
}

export const nodeId = (r: FlatRecord): string => trimBoundingQuotes(r.header?.exporter ?? "")
export const nodeIp = (r: FlatRecord): string => trimBoundingQuotes(r.header?.ip ?? "")
export const metaSchema = (r: FlatRecord): bigint => r.header?.version ?? 0n
/** `Base(header filename)`: `"."` when the header has no filename (D5, kept). */
export const metaTracename = (r: FlatRecord): string => trimBoundingQuotes(base(r.header?.filename ?? ""))

// ---------------------------------------------------------------------------------------------------
// The attribute table for the policy engine

/**
 * Value kinds. `int` values are always `bigint` (int32 fields are widened), `strings`/`ints` are arrays.
 */
export type AttributeKind = "string" | "int" | "bool" | "strings" | "ints"

export interface AttributeValue {
  readonly string: string
  readonly int: bigint
  readonly bool: boolean
  readonly strings: ReadonlyArray<string>
  readonly ints: ReadonlyArray<bigint>
}

export interface AttributeDef<K extends AttributeKind = AttributeKind> {
  /** The name it is registered under (an `sf.*` name or a Falco alias). */
  readonly name: string
  readonly kind: K
  /** The value (as the encoders see it; strings already quote-trimmed). */
  readonly get: (r: FlatRecord) => AttributeValue[K]
  /**
   * MapStr (policy-language §6.2 step 2): the string policies compare. Multi-valued attributes are
   * joined with `,`; this string is also the reference's raw value for them (for `exists` and `[path]`).
   * Differs from `get` where the reference does (e.g. `sf.proc.tty` renders `true`/`false`).
   */
  readonly str: (r: FlatRecord) => string
  /**
   * MapInt (§6.3): the signed 64-bit value, only for the reference's int64 attributes. `undefined`
   * means MapInt parses the operand text instead (which, for an attribute name, gives 0).
   */
  readonly int: ((r: FlatRecord) => bigint) | undefined
}

const strDef = (name: string, get: (r: FlatRecord) => string): AttributeDef<"string"> => ({
  name,
  kind: "string",
  get,
  str: get,
  int: undefined
})

const int64Def = (name: string, get: (r: FlatRecord) => bigint): AttributeDef<"int"> => ({
  name,
  kind: "int",
  get,
  str: (r) => `${get(r)}`,
  int: get
})

const int32Def = (name: string, get: (r: FlatRecord) => number): AttributeDef<"int"> => ({
  name,
  kind: "int",
  get: (r) => BigInt(get(r)),
  str: (r) => `${get(r)}`,
  int: (r) => BigInt(get(r))
})

const boolDef = (name: string, get: (r: FlatRecord) => boolean): AttributeDef<"bool"> => ({
  name,
  kind: "bool",
  get,
  str: (r) => (get(r) ? "true" : "false"),
  int: undefined
})

/** A shared (memoised) list joined with `,`, memoised on the list itself: per distinct list, not per record. */
const joinedList = perObject((list: ReadonlyArray<string>) => list.join(","))

const stringsDef = (
  name: string,
  get: (r: FlatRecord) => ReadonlyArray<string>,
  str: (r: FlatRecord) => string
): AttributeDef<"strings"> => ({ name, kind: "strings", get, str, int: undefined })

const intsDef = (
  name: string,
  get: (r: FlatRecord) => ReadonlyArray<bigint>,
  str: (r: FlatRecord) => string
): AttributeDef<"ints"> => ({ name, kind: "ints", get, str, int: undefined })

/** A 64-bit 0/1 that renders `true`/`false` (`sf.proc.tty`, `sf.proc.entry`, §6.2). */
const flagDef = (name: string, get: (r: FlatRecord) => boolean): AttributeDef<"bool"> => ({
  ...boolDef(name, get),
  int: (r) => (get(r) ? 1n : 0n)
})

/** A parent bool: the reference returns a 64-bit 0 (rendering `0`) when the parent is not cached. */
const parentBoolDef = (name: string, get: (r: FlatRecord) => boolean): AttributeDef<"bool"> => ({
  ...boolDef(name, get),
  str: (r) => (parent(r) === undefined ? "0" : get(r) ? "true" : "false")
})

/** A parent int32: renders as decimal, but MapInt does not see it as int64, so it coerces to 0 (Q8). */
const parentInt32Def = (name: string, get: (r: FlatRecord) => number): AttributeDef<"int"> => ({
  ...int32Def(name, get),
  int: undefined
})

const sfDefs: ReadonlyArray<AttributeDef> = [
  strDef("sf.type", sfType),
  stringsDef("sf.opflags", opflags, (r) => (r.type === "KE" ? "" : opFlagsStr(r.event.opFlags, r.type))),
  int32Def("sf.ret", ret),
  int64Def("sf.ts", ts),
  int64Def("sf.endts", endts),

  strDef("sf.proc.oid", procOid),
  int64Def("sf.proc.pid", procPid),
  int64Def("sf.proc.createts", procCreatets),
  int32Def("sf.proc.uid", procUid),
  int32Def("sf.proc.gid", procGid),
  int64Def("sf.proc.tid", procTid),
  strDef("sf.proc.user", procUser),
  strDef("sf.proc.group", procGroup),
  strDef("sf.proc.exe", procExe),
  strDef("sf.proc.cwd", procCwd),
  strDef("sf.proc.args", procArgs),
  strDef("sf.proc.name", procName),
  strDef("sf.proc.cmdline", procCmdline),
  flagDef("sf.proc.tty", procTty),
  flagDef("sf.proc.entry", procEntry),
  stringsDef("sf.proc.aname", procAname, (r) => ancestry(r).anameStr),
  stringsDef("sf.proc.aexe", procAexe, (r) => ancestry(r).aexeStr),
  stringsDef("sf.proc.acmdline", procAcmdline, (r) => ancestry(r).acmdlineStr),
  intsDef("sf.proc.apid", procApid, (r) => ancestry(r).apidStr),

  strDef("sf.pproc.oid", pprocOid),
  int64Def("sf.pproc.pid", pprocPid),
  int64Def("sf.pproc.createts", pprocCreatets),
  strDef("sf.pproc.name", pprocName),
  strDef("sf.pproc.exe", pprocExe),
  strDef("sf.pproc.args", pprocArgs),
  strDef("sf.pproc.user", pprocUser),
  strDef("sf.pproc.group", pprocGroup),
  { ...strDef("sf.pproc.cmdline", pprocCmdline), str: (r) => parent(r)?.cmdline ?? "" },
  parentInt32Def("sf.pproc.uid", pprocUid),
  parentInt32Def("sf.pproc.gid", pprocGid),
  parentBoolDef("sf.pproc.tty", pprocTty),
  parentBoolDef("sf.pproc.entry", pprocEntry),

  strDef("sf.file.path", filePath),
  strDef("sf.file.symlink", fileSymlink),
  strDef("sf.file.name", fileName),
  strDef("sf.file.directory", fileDirectory),
  strDef("sf.file.oid", fileOid),
  strDef("sf.file.newpath", fileNewpath),
  strDef("sf.file.newname", fileNewname),
  strDef("sf.file.newdirectory", fileNewdirectory),
  strDef("sf.file.newsymlink", fileNewsymlink),
  strDef("sf.file.newoid", fileNewoid),
  strDef("sf.file.type", fileType),
  boolDef("sf.file.is_open_read", fileIsOpenRead),
  boolDef("sf.file.is_open_write", fileIsOpenWrite),
  int32Def("sf.file.fd", fileFd),
  stringsDef("sf.file.openflags", fileOpenflags, (r) => joinedList(fileOpenflags(r))),

  strDef("sf.net.sip", netSip),
  strDef("sf.net.dip", netDip),
  int32Def("sf.net.sport", netSport),
  int32Def("sf.net.dport", netDport),
  int32Def("sf.net.proto", netProto),
  stringsDef("sf.net.ip", netIp, (r) => `${netSip(r)},${netDip(r)}`),
  intsDef("sf.net.port", (r) => [BigInt(netSport(r)), BigInt(netDport(r))], (r) => `${netSport(r)},${netDport(r)}`),

  int64Def("sf.flow.rbytes", flowRbytes),
  int64Def("sf.flow.rops", flowRops),
  int64Def("sf.flow.wbytes", flowWbytes),
  int64Def("sf.flow.wops", flowWops),

  strDef("sf.container.id", containerId),
  strDef("sf.container.name", containerName),
  strDef("sf.container.image", containerImage),
  strDef("sf.container.imageid", containerImageid),
  strDef("sf.container.type", containerType),
  int32Def("sf.container.privileged", containerPrivileged),

  int64Def("sf.pod.ts", podTs),
  int64Def("sf.pod.restartcnt", podRestartcnt),
  strDef("sf.pod.id", podId),
  strDef("sf.pod.name", podName),
  strDef("sf.pod.nodename", podNodename),
  strDef("sf.pod.namespace", podNamespace),
  strDef("sf.pod.hostip", podHostip),
  strDef("sf.pod.internalip", podInternalip),
  strDef("sf.pod.services", podServices),

  strDef("sf.ke.action", keAction),
  strDef("sf.ke.kind", keKind),
  strDef("sf.ke.message", keMessage),

  strDef("sf.node.id", nodeId),
  strDef("sf.node.ip", nodeIp),
  int64Def("sf.meta.schema", metaSchema),
  strDef("sf.meta.tracename", metaTracename)
]

const bySfName = new Map(sfDefs.map((d) => [d.name, d]))

/** Falco aliases (policy-language §7.3), with the Q9 fixes for proc.tty, proc.createtime and fd.name. */
const aliases: ReadonlyArray<readonly [string, string]> = [
  ["evt.type", "sf.opflags"],
  ["evt.rawres", "sf.type"],
  ["evt.rawtime", "sf.ts"],
  ["evt.is_open_read", "sf.file.is_open_read"],
  ["evt.is_open_write", "sf.file.is_open_write"],
  ["evt.arg.uid", "sf.proc.uid"],
  ["fd.typechar", "sf.file.type"],
  ["fd.directory", "sf.file.directory"],
  ["fd.name", "sf.file.path"],
  ["fd.filename", "sf.file.name"],
  ["fd.proto", "sf.net.proto"],
  ["fd.lproto", "sf.net.proto"],
  ["fd.l4proto", "sf.net.proto"],
  ["fd.rproto", "sf.net.proto"],
  ["fd.sproto", "sf.net.proto"],
  ["fd.cproto", "sf.net.proto"],
  ["fd.sport", "sf.net.sport"],
  ["fd.dport", "sf.net.dport"],
  ["fd.sip", "sf.net.sip"],
  ["fd.dip", "sf.net.dip"],
  ["fd.ip", "sf.net.ip"],
  ["fd.port", "sf.net.port"],
  ["fd.num", "sf.file.fd"],
  ["user.name", "sf.proc.user"],
  ["proc.user", "sf.proc.user"],
  ["proc.pid", "sf.proc.pid"],
  ["proc.tid", "sf.proc.tid"],
  ["proc.gid", "sf.proc.gid"],
  ["proc.uid", "sf.proc.uid"],
  ["proc.group", "sf.proc.group"],
  ["proc.exe", "sf.proc.exe"],
  ["proc.name", "sf.proc.name"],
  ["proc.args", "sf.proc.args"],
  ["proc.cmdline", "sf.proc.cmdline"],
  ["proc.tty", "sf.proc.tty"],
  ["proc.createtime", "sf.proc.createts"],
  ["proc.aname", "sf.proc.aname"],
  ["proc.apid", "sf.proc.apid"],
  ["proc.ppid", "sf.pproc.pid"],
  ["proc.pcreatetime", "sf.pproc.createts"],
  ["proc.pname", "sf.pproc.name"],
  ["proc.pexe", "sf.pproc.exe"],
  ["proc.pargs", "sf.pproc.args"],
  ["proc.pcmdline", "sf.pproc.cmdline"],
  ["proc.puser", "sf.pproc.user"],
  ["proc.pgroup", "sf.pproc.group"],
  ["proc.puid", "sf.pproc.uid"],
  ["proc.pgid", "sf.pproc.gid"],
  ["proc.ptty", "sf.pproc.tty"],
  ["container.id", "sf.container.id"],
  ["container.image.id", "sf.container.imageid"],
  ["container.image", "sf.container.image"],
  ["container.name", "sf.container.name"],
  ["container.type", "sf.container.type"],
  ["container.privileged", "sf.container.privileged"]
]

const evtDir = ">,<"

/**
 * Every `sf.*` attribute and Falco alias usable in policies. The exporter-only `sf.pod.*+` arrays are
 * not here (`+` cannot appear in a policy identifier); encoders use `podHostipList` etc.
 */
export const attributeTable: ReadonlyMap<string, AttributeDef> = new Map<string, AttributeDef>([
  ...bySfName,
  ...aliases.map(([alias, target]): [string, AttributeDef] => [alias, { ...bySfName.get(target)!, name: alias }]),
  // `evt.dir` is a constant in the reference (kept, Q9).
  ["evt.dir", strDef("evt.dir", () => evtDir)]
])
