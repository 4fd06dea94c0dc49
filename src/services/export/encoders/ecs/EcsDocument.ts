/**
 * One record as an ECS document (data-model.md §5.4), byte for byte as the reference's Go
 * `encoding/json` wrote its `ECSRecord`, apart from the listed fixes (D1/Q13 true counters, D2 FE fd 0
 * in the synthesised `/proc/<pid>/fd/<fd>` path, D4 no trailing space in `process.command_line`).
 *
 * Layout: top-level keys in the fixed order `@timestamp, agent, ecs, event, host, container,
 * orchestrator, pod, service, file, sf_file_action, network, source, destination, process, user, rule, message,
 * tags` (`rule` only for Sigma alerts, docs/sigma.md; `message` only for rules with an output template);
 * every nested object with its keys sorted (Go marshals maps sorted); empty or absent sections omitted.
 * A hand-written string builder over the attribute functions (`domain/attributes.ts`): no
 * JSON.stringify, no intermediate objects, no Effect. Sections that depend only on one entity
 * (container, pod, process + parent, file) are memoised on the entity object.
 */
import * as A from "../../../../domain/attributes.js"
import { communityIdV1Ipv4 } from "../../../../domain/communityId.js"
import type { FlatRecord, ProcessEventRecord } from "../../../../domain/flatRecord.js"
import { base, dir } from "../../../../domain/goPath.js"
import { ipv4FromLong } from "../../../../domain/ipv4.js"
import { OpFlag } from "../../../../domain/opFlags.js"
import { Priority, type PolicyEvent, type SigmaRuleInfo } from "../../../../domain/policyEvent.js"
import type { Container, File, Pod, Process, SFHeader, Service } from "../../../../domain/sysflow.js"
import { gjsonGet } from "../../../policy/Gjson.js"
import { isoTime } from "./isoTime.js"

const q = A.jsonString

/** `agent` and `ecs` (inner keys dropped when empty, the objects themselves always present). */
export interface EcsOptions {
  /** `agent.version`: the injected `version` attribute (manifest 0.7.0). */
  readonly agentVersion: string
  /** `ecs.version`: the injected `ecsversion` attribute (manifest 8.2). */
  readonly ecsVersion: string
}

/** `,"agent":{…},"ecs":{…}` for the options, computed once per encoder. */
export const agentAndEcs = (o: EcsOptions): string =>
  ',"agent":{"type":"SysFlow"' +
  (o.agentVersion === "" ? "" : ',"version":' + q(o.agentVersion)) +
  '},"ecs":{' +
  (o.ecsVersion === "" ? "" : '"version":' + q(o.ecsVersion)) +
  "}"

// ---------------------------------------------------------------------------------------------------
// Values shared with the attribute table

/** `sf.pproc.cmdline` as policies (the reference's MapStr) render it: the parent's exe+args, trimmed once. */
const pprocCmdlineStr = A.attributeTable.get("sf.pproc.cmdline")!.str

/** ECS `network.protocol` (sf-apis `GetProto`). */
export const protoName = (proto: number): string =>
  proto === 6 ? "tcp" : proto === 17 ? "udp" : proto === 1 ? "icmp" : proto === 254 ? "raw" : ""

/** ECS `file.type` of a SysFlow type character (symlink decided by the caller). */
const fileTypeName = (t: string): string =>
  t === "f" ? "file" : t === "d" ? "dir" : t === "u" ? "socket" : t === "p" ? "pipe" : "unknown"

// ---------------------------------------------------------------------------------------------------
// Entity sections (memoised)

const hostMemo = new WeakMap<SFHeader, string>()
/** `,"host":{"id":…,"ip":…}` (always present). */
const host = (r: FlatRecord): string => {
  const h = r.header
  if (h === undefined) return ',"host":{"id":"","ip":""}'
  let s = hostMemo.get(h)
  if (s === undefined) {
    s = ',"host":{"id":' + q(A.nodeId(r)) + ',"ip":' + q(A.nodeIp(r)) + "}"
    hostMemo.set(h, s)
  }
  return s
}

const containerMemo = new WeakMap<Container, string>()
/** `,"container":{id, image?:{id, name}, name, runtime, sf_privileged}` when the container id is not empty. */
const container = (r: FlatRecord): string => {
  const c = r.container
  if (c === undefined) return ""
  let s = containerMemo.get(c)
  if (s === undefined) {
    const id = A.containerId(r)
    const imageid = A.containerImageid(r)
    s =
      id === ""
        ? ""
        : ',"container":{"id":' +
          q(id) +
          (imageid === "" ? "" : ',"image":{"id":' + q(imageid) + ',"name":' + q(A.containerImage(r)) + "}") +
          ',"name":' +
          q(A.containerName(r)) +
          ',"runtime":' +
          q(A.containerType(r)) +
          ',"sf_privileged":' +
          (A.containerPrivileged(r) !== 0) +
          "}"
    containerMemo.set(c, s)
  }
  return s
}

const stringArray = A.jsonStringArray

/** `,"service":[{clusterip, id, name, namespace, ports:[{nodeport, port, proto, targetport}]}]`. */
const services = (list: ReadonlyArray<Service>): string => {
  if (list.length === 0) return ""
  let s = ',"service":['
  for (let i = 0; i < list.length; i++) {
    const svc = list[i]
    if (i > 0) s += ","
    s +=
      '{"clusterip":' +
      stringArray(svc.clusterIP.map(ipv4FromLong)) +
      ',"id":' +
      q(svc.id) +
      ',"name":' +
      q(svc.name) +
      ',"namespace":' +
      q(svc.namespace) +
      ',"ports":['
    for (let j = 0; j < svc.portList.length; j++) {
      const p = svc.portList[j]
      if (j > 0) s += ","
      s += '{"nodeport":' + p.nodePort + ',"port":' + p.port + ',"proto":' + q(p.proto) + ',"targetport":' + p.targetPort + "}"
    }
    s += "]}"
  }
  return s + "]"
}

const podMemo = new WeakMap<Pod, string>()
/** `,"orchestrator":{…},"pod":{…}[,"service":[…]]` when the pod id is not empty. */
const pod = (r: FlatRecord): string => {
  const p = r.pod
  if (p === undefined) return ""
  let s = podMemo.get(p)
  if (s === undefined) {
    const id = A.podId(r)
    const name = q(A.podName(r))
    const namespace = q(A.podNamespace(r))
    s =
      id === ""
        ? ""
        : ',"orchestrator":{"namespace":' +
          namespace +
          ',"resource":{"name":' +
          name +
          ',"type":"pod"},"type":"kubernetes"},"pod":{"hostip":' +
          stringArray(A.podHostipList(r)) +
          ',"id":' +
          q(id) +
          ',"internalip":' +
          stringArray(A.podInternalipList(r)) +
          ',"name":' +
          name +
          ',"namespace":' +
          namespace +
          ',"nodename":' +
          q(A.podNodename(r)) +
          ',"restartcnt":' +
          A.podRestartcnt(r) +
          ',"ts":"' +
          isoTime(A.podTs(r)) +
          '"}' +
          services(A.podServicesList(r))
    podMemo.set(p, s)
  }
  return s
}

/** The process section up to (excluding) `"thread"`, and the user section, for one (process, parent). */
interface ProcText {
  readonly parent: Process | undefined
  readonly head: string
  readonly user: string
}

const procMemo = new WeakMap<Process, ProcText>()

const procText = (r: FlatRecord): ProcText => {
  const exe = A.procExe(r)
  const pexe = A.pprocExe(r)
  const group = A.procGroup(r)
  const user = A.procUser(r)
  return {
    parent: r.ptree?.[1],
    head:
      ',"process":{"args":' +
      q(A.procArgs(r)) +
      ',"command_line":' +
      q(A.procCmdline(r)) +
      ',"executable":' +
      q(exe) +
      ',"name":' +
      q(base(exe)) +
      ',"parent":{"args":' +
      q(A.pprocArgs(r)) +
      ',"command_line":' +
      q(pprocCmdlineStr(r)) +
      ',"executable":' +
      q(pexe) +
      ',"name":' +
      q(base(pexe)) +
      ',"pid":' +
      A.pprocPid(r) +
      ',"start":"' +
      isoTime(A.pprocCreatets(r)) +
      '"},"pid":' +
      A.procPid(r) +
      ',"start":"' +
      isoTime(A.procCreatets(r)) +
      '","thread":{"id":',
    user:
      ',"user":{"group":{"id":' +
      A.procGid(r) +
      (group === "" ? "" : ',"name":' + q(group)) +
      '},"id":' +
      A.procUid(r) +
      (user === "" ? "" : ',"name":' + q(user)) +
      "}"
  }
}

/** `,"process":{…},"user":{…}` (non-KE records; zero values when the process is missing). */
const processAndUser = (r: FlatRecord): string => {
  const p = r.process
  let t: ProcText
  if (p === undefined) {
    t = procText(r)
  } else {
    const cached = procMemo.get(p)
    if (cached !== undefined && cached.parent === r.ptree?.[1]) {
      t = cached
    } else {
      t = procText(r)
      procMemo.set(p, t)
    }
  }
  return t.head + A.procTid(r) + "}}" + t.user
}

const fileMemo = new WeakMap<File, string>()

/** `,"file":{directory, name?, path?, target_path?, type}` (FF, FE). */
const file = (r: FlatRecord, opFlags: number, targetPath: string | undefined): string => {
  const f = r.file
  const symlink = (opFlags & OpFlag.SYMLINK) !== 0
  const plain = f !== undefined && !symlink && targetPath === undefined
  if (plain) {
    const s = fileMemo.get(f)
    if (s !== undefined) return s
  }
  const type = symlink ? "symlink" : fileTypeName(A.fileType(r))
  let path = A.filePath(r)
  let name: string
  let cacheable = plain
  if (path !== "") {
    name = base(path)
  } else {
    // No path: the process's fd (FE: 0, D2).
    const fd = A.fileFd(r)
    path = "/proc/" + A.procPid(r) + "/fd/" + fd
    name = "" + fd
    cacheable = false
  }
  const target = targetPath === undefined ? "" : ',"target_path":' + q(targetPath)
  const s =
    type === "dir"
      ? ',"file":{"directory":' + q(path) + target + ',"type":"dir"}'
      : ',"file":{"directory":' +
        q(dir(path)) +
        ',"name":' +
        q(name) +
        (path === name ? "" : ',"path":' + q(path)) +
        target +
        ',"type":"' +
        type +
        '"}'
  if (cacheable) fileMemo.set(f!, s)
  return s
}

// ---------------------------------------------------------------------------------------------------
// Event

/**
 * `,"event":{action, category, duration, end, kind, original?, reason?, severity?, sf_ret?, sf_type,
 * start, type}`. `start` = ts, `end` = endts or ts, `duration` = end − start (ns).
 */
const event = (
  ev: PolicyEvent,
  startTs: string,
  category: string,
  type: string,
  action: string,
  original: string | undefined
): string => {
  const r = ev.record
  const ts = r.event.ts
  const endts = A.endts(r)
  const end = endts === 0n ? ts : endts
  let s =
    ',"event":{"action":' +
    q(action) +
    ',"category":"' +
    category +
    '","duration":' +
    (end - ts) +
    ',"end":"' +
    (end === ts ? startTs : isoTime(end)) +
    '","kind":"event"'
  if (original !== undefined) s += ',"original":' + q(original)
  const rules = ev.rules
  if (rules.length > 0) {
    let reason = rules[0].name
    let severity: number = Priority.Low
    for (let i = 0; i < rules.length; i++) {
      if (i > 0) reason += ", " + rules[i].name
      if (rules[i].priority > severity) severity = rules[i].priority
    }
    s += ',"reason":' + q(reason) + ',"severity":' + severity
  }
  if (r.type === "PE" || r.type === "FE") s += ',"sf_ret":' + r.event.ret
  return s + ',"sf_type":"' + r.type + '","start":"' + startTs + '","type":"' + type + '"}'
}

/**
 * `,"rule":{…}` for the Sigma rules matched (docs/sigma.md): description, id, level, name (the title),
 * reference (every reference URL) and ruleset; one value per key, or an array of them when several Sigma
 * rules matched. Omitted when none did (Falco-syntax alerts are unchanged).
 */
const rule = (ev: PolicyEvent): string => {
  const sigma: Array<SigmaRuleInfo & { readonly desc: string }> = []
  for (const r of ev.rules) if (r.sigma !== undefined) sigma.push({ ...r.sigma, desc: r.desc })
  if (sigma.length === 0) return ""
  const one = (values: ReadonlyArray<string>) => (values.length === 1 ? q(values[0]) : "[" + values.map(q).join(",") + "]")
  const levels = sigma.flatMap((m) => (m.level === undefined ? [] : [m.level]))
  return (
    ',"rule":{"description":' +
    one(sigma.map((m) => m.desc)) +
    ',"id":' +
    one(sigma.map((m) => m.id)) +
    (levels.length === 0 ? "" : ',"level":' + one(levels)) +
    ',"name":' +
    one(sigma.map((m) => m.title)) +
    ',"reference":[' +
    sigma.flatMap((m) => m.references).map(q).join(",") +
    '],"ruleset":"sigma"}'
  )
}

/**
 * `,"message":…`: the rendered outputs of the matched rules that have an output template (Falco's alert
 * text, docs/falco.md), one line each in rule order; omitted when none has one.
 */
const ruleMessage = (ev: PolicyEvent): string => {
  let text: string | undefined
  for (const r of ev.rules) if (r.renderOutput !== undefined) text = (text === undefined ? "" : text + "\n") + r.renderOutput(ev.record)
  return text === undefined ? "" : ',"message":' + q(text)
}

/** `,"tags":[ctx tags…, rule tags…]`, omitted when there are none. */
const tags = (ev: PolicyEvent): string => {
  let s = ""
  for (const t of ev.tags) s += (s === "" ? "" : ",") + q(t)
  for (const rule of ev.rules) for (const t of rule.tags) s += (s === "" ? "" : ",") + q(t)
  return s === "" ? "" : ',"tags":[' + s + "]"
}

// ---------------------------------------------------------------------------------------------------
// Per record type: event classification and type-specific sections

const peType = (r: ProcessEventRecord): string => {
  const op = r.event.opFlags
  const thread = A.procPid(r) !== A.procTid(r)
  if ((op & OpFlag.EXIT) !== 0) return thread ? "thread-exit" : "exit"
  if ((op & (OpFlag.CLONE | OpFlag.EXEC)) !== 0) return thread ? "thread-start" : "start"
  if ((op & OpFlag.SETUID) !== 0) return "change"
  return "start"
}

/** The document of one event (compact JSON, no newline). `head` = `agentAndEcs(options)`. */
export const encodeEcsEvent = (ev: PolicyEvent, head: string): string => {
  const r = ev.record
  const startTs = isoTime(r.event.ts)
  let s = '{"@timestamp":"' + startTs + '"' + head
  switch (r.type) {
    case "PE": {
      const type = peType(r)
      s += event(ev, startTs, "process", type, "process-" + type, undefined) + host(r) + container(r) + pod(r)
      break
    }
    case "FF": {
      const e = r.event
      const rb = e.numRRecvBytes
      const ro = e.numRRecvOps
      const wb = e.numWSendBytes
      const wo = e.numWSendOps
      let type = "access"
      let action = "file-access"
      if ((e.opFlags & OpFlag.READ_RECV) !== 0 && (rb > 0n || ro > 0n)) action += "-read"
      if ((e.opFlags & OpFlag.WRITE_SEND) !== 0 && (wb > 0n || wo > 0n)) {
        type = "change"
        action += "-write"
      }
      s += event(ev, startTs, "file", type, action, undefined) + host(r) + container(r) + pod(r) + file(r, e.opFlags, undefined)
      if (rb > 0n || ro > 0n || wb > 0n || wo > 0n) {
        s += ',"sf_file_action":{"bytes_read":' + rb + ',"bytes_written":' + wb + ',"read_ops":' + ro + ',"write_ops":' + wo + "}"
      }
      break
    }
    case "FE": {
      const op = r.event.opFlags
      let category = "file"
      let type = "change"
      let action = "file-change"
      let target: string | undefined
      if ((op & OpFlag.MKDIR) !== 0) {
        category = "directory"
        type = "creation"
        action = "directory-create"
      } else if ((op & OpFlag.RMDIR) !== 0) {
        category = "directory"
        type = "deletion"
        action = "directory-delete"
      } else if ((op & OpFlag.UNLINK) !== 0) {
        type = "deletion"
        action = "file-delete"
      } else if ((op & (OpFlag.SYMLINK | OpFlag.LINK)) !== 0) {
        action = "file-link"
        target = A.fileNewpath(r)
      } else if ((op & OpFlag.RENAME) !== 0) {
        action = "file-rename"
        target = A.fileNewpath(r)
      }
      s += event(ev, startTs, category, type, action, undefined) + host(r) + container(r) + pod(r) + file(r, op, target)
      break
    }
    case "NF": {
      const e = r.event
      const sip = q(A.netSip(r))
      const dip = q(A.netDip(r))
      const rb = e.numRRecvBytes
      const wb = e.numWSendBytes
      s +=
        event(ev, startTs, "network", "connection", "network-connection-traffic", undefined) +
        host(r) +
        container(r) +
        pod(r) +
        ',"network":{"bytes":' +
        (rb + wb) +
        ',"community_id":"' +
        communityIdV1Ipv4(e.sip, e.dip, e.sport, e.dport, e.proto) +
        '","iana_number":"' +
        e.proto +
        '","protocol":"' +
        protoName(e.proto) +
        '"},"source":{"address":' +
        sip +
        ',"bytes":' +
        wb +
        ',"ip":' +
        sip +
        ',"packets":' +
        e.numWSendOps +
        ',"port":' +
        e.sport +
        '},"destination":{"address":' +
        dip +
        ',"bytes":' +
        rb +
        ',"ip":' +
        dip +
        ',"packets":' +
        e.numRRecvOps +
        ',"port":' +
        e.dport +
        "}"
      break
    }
    case "KE": {
      const message = A.keMessage(r)
      s +=
        event(ev, startTs, "orchestration", keType(r.event.action), A.keAction(r), message) +
        host(r) +
        ',"orchestrator":{"namespace":' +
        q(gjsonGet(message, "items.0.namespace")) +
        ',"resource":{"name":' +
        q(gjsonGet(message, "items.0.name")) +
        ',"type":' +
        q(gjsonGet(message, "kind").toLowerCase()) +
        '},"type":"kubernetes"}'
      return s + rule(ev) + ruleMessage(ev) + tags(ev) + "}"
    }
  }
  return s + processAndUser(r) + rule(ev) + ruleMessage(ev) + tags(ev) + "}"
}

/** KE `event.type` from the action. */
const keType = (action: string): string =>
  action === "K8S_COMPONENT_ADDED"
    ? "creation"
    : action === "K8S_COMPONENT_DELETED"
      ? "deletion"
      : action === "K8S_COMPONENT_MODIFIED"
        ? "change"
        : action === "K8S_COMPONENT_ERROR"
          ? "error"
          : "info"
