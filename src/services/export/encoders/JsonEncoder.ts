/**
 * The reference JSON layout (data-model §5.2), byte for byte apart from the listed fixes (D1, D2, D4, D7,
 * D8, D9, D11): a hand-written string builder over the attribute functions, no JSON.stringify, no Effect.
 *
 * Layout: `{"version":V,"endts":…,"opflags":[…],"ret":…,"ts":…,"type":"…",<sections>[,"policies":[…]]
 * [,"tags":[…]]}`. Sections in lexical order `container, file, flow, meta, net, node, pod, pproc, proc`
 * with their presence rules; KE records carry only `k8s, meta, node`.
 */
import * as A from "../../../domain/attributes.js"
import type { FlatRecord } from "../../../domain/flatRecord.js"
import { ipv4FromLong } from "../../../domain/ipv4.js"
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

const stringArray = (items: ReadonlyArray<string>): string => {
  if (items.length === 0) return "[]"
  let s = "[" + q(items[0])
  for (let i = 1; i < items.length; i++) s += "," + q(items[i])
  return s + "]"
}

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

const file = (r: FlatRecord): string =>
  '"file":{"directory":' +
  q(A.fileDirectory(r)) +
  ',"fd":' +
  A.fileFd(r) +
  ',"is_open_read":' +
  A.fileIsOpenRead(r) +
  ',"is_open_write":' +
  A.fileIsOpenWrite(r) +
  ',"name":' +
  q(A.fileName(r)) +
  ',"newdirectory":' +
  q(A.fileNewdirectory(r)) +
  ',"newname":' +
  q(A.fileNewname(r)) +
  ',"newoid":' +
  q(A.fileNewoid(r)) +
  ',"newpath":' +
  q(A.fileNewpathRaw(r)) +
  ',"newsymlink":' +
  q(A.fileNewsymlink(r)) +
  ',"oid":' +
  q(A.fileOid(r)) +
  ',"openflags":' +
  flagArray(A.fileOpenflags(r)) +
  ',"path":' +
  q(A.filePath(r)) +
  ',"symlink":' +
  q(A.fileSymlink(r)) +
  ',"type":' +
  q(A.fileType(r)) +
  "},"

const flow = (r: FlatRecord): string =>
  '"flow":{"rbytes":' +
  A.flowRbytes(r) +
  ',"rops":' +
  A.flowRops(r) +
  ',"wbytes":' +
  A.flowWbytes(r) +
  ',"wops":' +
  A.flowWops(r) +
  "},"

const k8s = (r: FlatRecord): string =>
  '"k8s":{"action":' + q(A.keAction(r)) + ',"kind":' + q(A.keKind(r)) + ',"message":' + q(A.keMessage(r)) + "},"

const meta = (r: FlatRecord): string =>
  '"meta":{"schema":' + A.metaSchema(r) + ',"tracename":' + q(A.metaTracename(r)) + "},"

const net = (r: FlatRecord): string => {
  const sip = q(A.netSip(r))
  const dip = q(A.netDip(r))
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

/** The last section of a non-KE record: no trailing comma. */
const proc = (r: FlatRecord): string =>
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
  ',"tid":' +
  A.procTid(r) +
  ',"tty":' +
  A.procTty(r) +
  ',"uid":' +
  A.procUid(r) +
  ',"user":' +
  q(A.procUser(r)) +
  "}"

const sections = (r: FlatRecord): string => {
  if (r.type === "KE") return k8s(r) + meta(r) + node(r)
  let s = ""
  if (A.containerId(r) !== "") s += container(r)
  if (r.type === "FF" || r.type === "FE") s += file(r)
  if (r.type === "FF" || r.type === "NF") s += flow(r)
  s += meta(r)
  if (r.type === "NF") s += net(r)
  s += node(r) + ","
  if (A.podId(r) !== "") s += pod(r)
  // Present iff the process has a parent pid, whether or not the parent is cached (D8).
  if (A.pprocPid(r) !== 0n) s += pproc(r)
  return s + proc(r)
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

/** One record as one JSON line (without the newline). `schemaVersion` is written raw (config `5`). */
export const encodeJsonEvent = (ev: PolicyEvent, schemaVersion: string): string => {
  const r = ev.record
  return (
    '{"version":' +
    schemaVersion +
    ',"endts":' +
    A.endts(r) +
    ',"opflags":' +
    flagArray(A.opflags(r)) +
    ',"ret":' +
    A.ret(r) +
    ',"ts":' +
    A.ts(r) +
    ',"type":"' +
    r.type +
    '",' +
    sections(r) +
    policiesAndTags(ev) +
    "}"
  )
}

/** The records as JSON documents, one per event, in order. */
export const encodeJsonLines = (events: ReadonlyArray<PolicyEvent>, schemaVersion: string): Array<string> => {
  const lines = new Array<string>(events.length)
  for (let i = 0; i < events.length; i++) {
    const line = encodeJsonEvent(events[i], schemaVersion)
    // A line is a rope of ~100 pieces; flattening it now (charCodeAt does) lets the pieces die young
    // instead of surviving, with the whole batch, into the old generation (halves GC time).
    line.charCodeAt(0)
    lines[i] = line
  }
  return lines
}

/** JSON lines: each record's document followed by "\n" (an empty batch gives ""). */
export const encodeJsonBatch = (events: ReadonlyArray<PolicyEvent>, schemaVersion: string): string =>
  events.length === 0 ? "" : encodeJsonLines(events, schemaVersion).join("\n") + "\n"
