/**
 * `format: ecs` (data-model.md §5.4): the worked examples byte for byte, every event
 * category/type/action branch, timestamps, file path synthesis, omission rules, KE documents, rules and
 * tags, escaping, and the encoder factory (documents + ids). Fixes pinned here: D1/Q13 (true counters),
 * D2 (FE fd 0 in the synthesised path), D4/Q10 (no trailing space in process.command_line).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { OpFlag as OP } from "../../src/domain/opFlags.js"
import { bareEvent, type PolicyEvent, type RuleMatch } from "../../src/domain/policyEvent.js"
import {
  agentAndEcs,
  ecsDocumentId,
  encodeEcsBatch,
  encodeEcsEvent,
  makeEcsEncoder
} from "../../src/services/export/encoders/EcsEncoder.js"
import { isoTime } from "../../src/services/export/encoders/ecs/isoTime.js"
import type { ExporterConfig } from "../../src/services/export/ExporterConfig.js"
import {
  container,
  exampleA,
  exampleB,
  exampleC,
  fe,
  ff,
  file,
  header,
  httpdEntities,
  ipInt,
  ke,
  nf,
  pe,
  pod,
  proc
} from "../domain/fixtures.js"

const head = agentAndEcs({ agentVersion: "0.7.0", ecsVersion: "8.2" })
const enc = (r: FlatRecord): string => encodeEcsEvent(bareEvent(r), head)
const doc = (r: FlatRecord | PolicyEvent): any => JSON.parse("record" in r ? encodeEcsEvent(r, head) : enc(r))


const TOP_ORDER = [
  "@timestamp",
  "agent",
  "ecs",
  "event",
  "host",
  "container",
  "orchestrator",
  "pod",
  "service",
  "file",
  "sf_file_action",
  "network",
  "source",
  "destination",
  "process",
  "user",
  "tags"
]

/** Top-level keys in the fixed order; every nested object's keys sorted (Go maps). */
const checkKeyOrder = (d: any): void => {
  const keys = Object.keys(d)
  expect(keys).toEqual(TOP_ORDER.filter((k) => keys.includes(k)))
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk)
    else if (v !== null && typeof v === "object") {
      const ks = Object.keys(v)
      expect(ks).toEqual([...ks].sort())
      ks.forEach((k) => walk((v as Record<string, unknown>)[k]))
    }
  }
  for (const k of keys) walk(d[k])
}

const exampleAEcs =
  '{"@timestamp":"2021-05-25T16:25:14.570130505Z","agent":{"type":"SysFlow","version":"0.7.0"},"ecs":{"version":"8.2"},"event":{"action":"process-start","category":"process","duration":0,"end":"2021-05-25T16:25:14.570130505Z","kind":"event","sf_ret":0,"sf_type":"PE","start":"2021-05-25T16:25:14.570130505Z","type":"start"},"host":{"id":"myhost","ip":"127.0.0.1"},"process":{"args":"--print-foreign-architectures","command_line":"/usr/bin/dpkg --print-foreign-architectures","executable":"/usr/bin/dpkg","name":"dpkg","parent":{"args":"","command_line":"/opt/BESClient/bin/BESClient","executable":"/opt/BESClient/bin/BESClient","name":"BESClient","pid":1922,"start":"2020-10-07T19:52:06.664Z"},"pid":105448,"start":"2021-05-25T16:25:14.567050151Z","thread":{"id":105448}},"user":{"group":{"id":0,"name":"root"},"id":0,"name":"root"}}'

const exampleBEcs =
  '{"@timestamp":"2020-10-30T15:20:35.203888327Z","agent":{"type":"SysFlow","version":"0.7.0"},"ecs":{"version":"8.2"},"event":{"action":"network-connection-traffic","category":"network","duration":1537749,"end":"2020-10-30T15:20:35.205426076Z","kind":"event","sf_type":"NF","start":"2020-10-30T15:20:35.203888327Z","type":"connection"},"host":{"id":"gladiator-1","ip":"169.48.198.72"},"container":{"id":"477216583b2f","image":{"id":"c3dc861cfb5bf757b336bf1502d023401a3247804f8a193e3f75888041da39f7","name":"httpd_preforked:latest"},"name":"httpd_preforked","runtime":"DOCKER","sf_privileged":false},"network":{"bytes":398,"community_id":"1:FyCYNj7ieXUf/6MVFQOoxgLvd/Q=","iana_number":"6","protocol":"tcp"},"source":{"address":"172.17.0.1","bytes":306,"ip":"172.17.0.1","packets":1,"port":47200},"destination":{"address":"172.17.0.2","bytes":92,"ip":"172.17.0.2","packets":2,"port":80},"process":{"args":"-DFOREGROUND","command_line":"/usr/local/apache2/bin/httpd -DFOREGROUND","executable":"/usr/local/apache2/bin/httpd","name":"httpd","parent":{"args":"-DFOREGROUND","command_line":"/usr/local/apache2/bin/httpd -DFOREGROUND","executable":"/usr/local/apache2/bin/httpd","name":"httpd","pid":48982,"start":"2020-10-30T14:58:18.201336885Z"},"pid":49035,"start":"2020-10-30T14:58:20.217306625Z","thread":{"id":49035}},"user":{"group":{"id":1,"name":"bin"},"id":1,"name":"bin"}}'

describe("ECS encoder: worked examples (data-model §5.4)", () => {
  it("PE EXEC, byte for byte", () => {
    expect(enc(exampleA())).toBe(exampleAEcs)
  })

  it("NF with true counts (D1/Q13) and Community ID, byte for byte", () => {
    expect(enc(exampleB())).toBe(exampleBEcs)
  })

  it("encoding is stable across repeated calls (entity memos)", () => {
    const a = exampleA()
    expect(enc(a)).toBe(enc(a))
    expect(enc(exampleB())).toBe(exampleBEcs)
    expect(enc(exampleA())).toBe(exampleAEcs)
  })

  it("key order: fixed top level, sorted nested maps", () => {
    checkKeyOrder(doc(exampleA()))
    checkKeyOrder(doc(exampleB()))
    checkKeyOrder(doc(exampleC()))
  })
})

describe("ECS timestamps: RFC3339Nano in UTC, trailing zeros trimmed", () => {
  it.each([
    [0n, "1970-01-01T00:00:00Z"],
    [1n, "1970-01-01T00:00:00.000000001Z"],
    [1602100326664000000n, "2020-10-07T19:52:06.664Z"],
    [1621959914570130505n, "2021-05-25T16:25:14.570130505Z"],
    [1647543075117498000n, "2022-03-17T18:51:15.117498Z"],
    [1600000000000000000n, "2020-09-13T12:26:40Z"],
    [1600000000100000000n, "2020-09-13T12:26:40.1Z"],
    [-1n, "1969-12-31T23:59:59.999999999Z"],
    [-1000000000n, "1969-12-31T23:59:59Z"],
    [9223372036854775807n, "2262-04-11T23:47:16.854775807Z"]
  ])("%s -> %s", (ns, want) => {
    expect(isoTime(ns)).toBe(want)
  })

  it("event start/end/duration: end = endts, or ts when endts is 0", () => {
    const d = doc(exampleC())
    expect(d["@timestamp"]).toBe("2020-10-30T15:20:35.204480411Z")
    expect(d.event.start).toBe("2020-10-30T15:20:35.204480411Z")
    expect(d.event.end).toBe("2020-10-30T15:20:35.204520606Z")
    expect(d.event.duration).toBe(40195)
    const p = doc(pe({ header: header() }, { ts: 1600000000000000000n }))
    expect(p.event.end).toBe(p.event.start)
    expect(p.event.duration).toBe(0)
    const f = doc(ff({ ...httpdEntities, file: file("/x") }, { ts: 5n, endTs: 0n }))
    expect(f.event.end).toBe("1970-01-01T00:00:00.000000005Z")
    expect(f.event.duration).toBe(0)
  })
})

describe("ECS event classification", () => {
  const p = proc({ pid: 100n, createTS: 1n, ppid: 1n, exe: "/bin/sh" })
  const peOf = (opFlags: number, tid = 100n) => doc(pe({ header: header(), process: p, ptree: [p] }, { opFlags, tid }))

  it.each([
    [OP.EXEC, 100n, "start"],
    [OP.CLONE, 100n, "start"],
    [OP.CLONE, 101n, "thread-start"],
    [OP.EXEC, 101n, "thread-start"],
    [OP.EXIT, 100n, "exit"],
    [OP.EXIT, 101n, "thread-exit"],
    [OP.EXIT | OP.CLONE, 100n, "exit"],
    [OP.SETUID, 100n, "change"],
    [OP.SETUID, 101n, "change"],
    [OP.SETUID | OP.EXEC, 100n, "start"],
    [0, 100n, "start"],
    [0, 101n, "start"]
  ])("PE opflags %i, tid %s: %s", (opFlags, tid, type) => {
    const d = peOf(opFlags, tid)
    expect(d.event).toMatchObject({ category: "process", type, action: `process-${type}`, kind: "event", sf_type: "PE", sf_ret: 0 })
  })

  it("PE sf_ret is the event's ret", () => {
    expect(doc(pe({ header: header(), process: p, ptree: [p] }, { opFlags: OP.EXEC, ret: -2 })).event.sf_ret).toBe(-2)
  })

  const ffOf = (opFlags: number, counts: { rb?: bigint; ro?: bigint; wb?: bigint; wo?: bigint }) =>
    doc(
      ff(
        { ...httpdEntities, file: file("/var/log/x.log") },
        {
          opFlags,
          numRRecvBytes: counts.rb ?? 0n,
          numRRecvOps: counts.ro ?? 0n,
          numWSendBytes: counts.wb ?? 0n,
          numWSendOps: counts.wo ?? 0n
        }
      )
    )

  it.each([
    ["no counts", OP.OPEN | OP.READ_RECV | OP.WRITE_SEND | OP.CLOSE, {}, "access", "file-access"],
    ["read", OP.OPEN | OP.READ_RECV, { rb: 10n, ro: 1n }, "access", "file-access-read"],
    ["read ops only", OP.READ_RECV, { ro: 1n }, "access", "file-access-read"],
    ["read bytes without the READ flag", OP.OPEN, { rb: 10n }, "access", "file-access"],
    ["write", OP.WRITE_SEND, { wb: 3n, wo: 1n }, "change", "file-access-write"],
    ["write bytes only", OP.WRITE_SEND, { wb: 3n }, "change", "file-access-write"],
    ["read-write", OP.READ_RECV | OP.WRITE_SEND, { rb: 1n, wo: 2n }, "change", "file-access-read-write"],
    ["write counts, READ flag only", OP.READ_RECV, { wb: 3n, wo: 1n }, "access", "file-access"]
  ])("FF %s: %s / %s", (_n, opFlags, counts, type, action) => {
    const d = ffOf(opFlags, counts)
    expect(d.event).toMatchObject({ category: "file", type, action, sf_type: "FF" })
    expect(d.event).not.toHaveProperty("sf_ret")
  })

  it("FF sf_file_action: true counts (D1), only when any is > 0", () => {
    expect(ffOf(OP.READ_RECV | OP.WRITE_SEND, { rb: 198n, ro: 2n, wb: 5n, wo: 1n }).sf_file_action).toEqual({
      bytes_read: 198,
      bytes_written: 5,
      read_ops: 2,
      write_ops: 1
    })
    expect(ffOf(OP.OPEN, { ro: 1n }).sf_file_action).toEqual({ bytes_read: 0, bytes_written: 0, read_ops: 1, write_ops: 0 })
    expect(ffOf(OP.OPEN | OP.CLOSE, {})).not.toHaveProperty("sf_file_action")
  })

  const feOf = (opFlags: number, withNew = true, path = "/data/db/WiredTiger.turtle.set") =>
    doc(
      fe(
        { ...httpdEntities, file: file(path), newFile: withNew ? file("/data/db/WiredTiger.turtle") : undefined },
        { opFlags, ret: 0 }
      )
    )

  it.each([
    ["MKDIR", OP.MKDIR, "directory", "creation", "directory-create"],
    ["RMDIR", OP.RMDIR, "directory", "deletion", "directory-delete"],
    ["UNLINK", OP.UNLINK, "file", "deletion", "file-delete"],
    ["SYMLINK", OP.SYMLINK, "file", "change", "file-link"],
    ["LINK", OP.LINK, "file", "change", "file-link"],
    ["RENAME", OP.RENAME, "file", "change", "file-rename"],
    ["none", 0, "file", "change", "file-change"],
    ["MKDIR wins over UNLINK", OP.MKDIR | OP.UNLINK, "directory", "creation", "directory-create"],
    ["RMDIR wins over RENAME", OP.RMDIR | OP.RENAME, "directory", "deletion", "directory-delete"],
    ["UNLINK wins over LINK", OP.UNLINK | OP.LINK, "file", "deletion", "file-delete"],
    ["LINK wins over RENAME", OP.LINK | OP.RENAME, "file", "change", "file-link"]
  ])("FE %s", (_n, opFlags, category, type, action) => {
    const d = feOf(opFlags)
    expect(d.event).toMatchObject({ category, type, action, sf_type: "FE", sf_ret: 0 })
    expect(d).not.toHaveProperty("sf_file_action")
    expect(d).not.toHaveProperty("network")
  })

  it("FE link/rename carry file.target_path (the parsed new path); others do not", () => {
    expect(feOf(OP.RENAME).file).toEqual({
      directory: "/data/db",
      name: "WiredTiger.turtle.set",
      path: "/data/db/WiredTiger.turtle.set",
      target_path: "/data/db/WiredTiger.turtle",
      type: "file"
    })
    expect(feOf(OP.LINK).file.target_path).toBe("/data/db/WiredTiger.turtle")
    expect(feOf(OP.UNLINK).file).not.toHaveProperty("target_path")
    expect(feOf(OP.MKDIR).file).not.toHaveProperty("target_path")
    // No second file: target_path is "" (D3).
    expect(feOf(OP.RENAME, false).file.target_path).toBe("")
  })

  it("FE SYMLINK: file.type symlink, target_path", () => {
    expect(enc(fe({ ...httpdEntities, file: file("/usr/bin/python"), newFile: file("/usr/bin/python3.9") }, { opFlags: OP.SYMLINK }))).toContain(
      ',"file":{"directory":"/usr/bin","name":"python","path":"/usr/bin/python","target_path":"/usr/bin/python3.9","type":"symlink"},"process":'
    )
  })

  it("NF: network/source/destination; protocol names and iana_number", () => {
    const nfOf = (proto: number) =>
      doc(nf(httpdEntities, { proto, sip: ipInt(10, 0, 0, 1), dip: ipInt(10, 0, 0, 2), sport: 5353, dport: 53 })).network
    expect(nfOf(6)).toMatchObject({ iana_number: "6", protocol: "tcp" })
    expect(nfOf(17)).toMatchObject({ iana_number: "17", protocol: "udp" })
    expect(nfOf(1)).toMatchObject({ iana_number: "1", protocol: "icmp" })
    expect(nfOf(254)).toMatchObject({ iana_number: "254", protocol: "raw" })
    expect(nfOf(132)).toMatchObject({ iana_number: "132", protocol: "" })
    expect(nfOf(-1)).toMatchObject({ iana_number: "-1", protocol: "" })
    expect(nfOf(0).community_id).toMatch(/^1:[A-Za-z0-9+/]{27}=$/)
  })

  it("NF: source = sip/sport with the write (send) counts, destination = dip/dport with the read counts", () => {
    const d = doc(
      nf(httpdEntities, {
        sip: ipInt(192, 168, 0, 1),
        dip: ipInt(10, 1, 2, 3),
        sport: 40000,
        dport: 443,
        proto: 6,
        numRRecvBytes: 1000n,
        numRRecvOps: 3n,
        numWSendBytes: 20n,
        numWSendOps: 1n
      })
    )
    expect(d.network.bytes).toBe(1020)
    expect(d.source).toEqual({ address: "192.168.0.1", bytes: 20, ip: "192.168.0.1", packets: 1, port: 40000 })
    expect(d.destination).toEqual({ address: "10.1.2.3", bytes: 1000, ip: "10.1.2.3", packets: 3, port: 443 })
    expect(d.event).not.toHaveProperty("sf_ret")
    expect(d).not.toHaveProperty("file")
  })
})

describe("ECS file section", () => {
  it("FF path: directory, name, path, type (§5.3 c record)", () => {
    expect(enc(exampleC())).toContain(
      ',"file":{"directory":"/etc","name":"localtime","path":"/etc/localtime","type":"file"},"sf_file_action":{"bytes_read":198,"bytes_written":0,"read_ops":2,"write_ops":0},"process":'
    )
  })

  it.each([
    ["f", "file"],
    ["u", "socket"],
    ["p", "pipe"],
    ["?", "unknown"],
    ["e", "unknown"],
    ["4", "unknown"]
  ])("type character %s -> %s", (c, t) => {
    expect(doc(ff({ ...httpdEntities, file: file("/run/x", { restype: c.charCodeAt(0) }) })).file.type).toBe(t)
  })

  it("a directory: only directory = the path (and type)", () => {
    expect(doc(ff({ ...httpdEntities, file: file("/var/lib/", { restype: 100 }) })).file).toEqual({ directory: "/var/lib/", type: "dir" })
    expect(doc(fe({ ...httpdEntities, file: file("/tmp/d", { restype: 100 }) }, { opFlags: OP.MKDIR })).file).toEqual({
      directory: "/tmp/d",
      type: "dir"
    })
  })

  it("no path: /proc/<pid>/fd/<fd>, name <fd> (FF: the flow's fd)", () => {
    expect(doc(ff({ ...httpdEntities, file: file("") }, { fd: 7 })).file).toEqual({
      directory: "/proc/49035/fd",
      name: "7",
      path: "/proc/49035/fd/7",
      type: "file"
    })
    // Missing file: type unknown (NUL type character), same synthesis.
    expect(doc(ff({ ...httpdEntities }, { fd: 12 })).file).toEqual({
      directory: "/proc/49035/fd",
      name: "12",
      path: "/proc/49035/fd/12",
      type: "unknown"
    })
  })

  it("no path on FE: fd 0 (D2: the reference used the new file's state)", () => {
    expect(doc(fe({ ...httpdEntities, file: file(""), newFile: file("/x", { state: "REUP" }) }, { opFlags: OP.UNLINK })).file).toEqual({
      directory: "/proc/49035/fd",
      name: "0",
      path: "/proc/49035/fd/0",
      type: "file"
    })
  })

  it("no path and no process: pid 0", () => {
    expect(doc(ff({ header: header(), file: file("") }, { fd: 3 })).file.path).toBe("/proc/0/fd/3")
  })

  it("a relative name: path omitted when it equals the name; directory '.'", () => {
    expect(doc(ff({ ...httpdEntities, file: file("pipe:[1234]", { restype: 112 }) })).file).toEqual({
      directory: ".",
      name: "pipe:[1234]",
      type: "pipe"
    })
  })

  it("socket path: the parsed path (symlink pair dropped)", () => {
    expect(doc(ff({ ...httpdEntities, file: file("ffffa046554ef800->ffffa046554eec00 /run/lvm/lvmetad.socket", { restype: 117 }) })).file).toEqual({
      directory: "/run/lvm",
      name: "lvmetad.socket",
      path: "/run/lvm/lvmetad.socket",
      type: "socket"
    })
  })

  it("the same file object in different records (memo) stays correct", () => {
    const f = file("/etc/passwd")
    expect(doc(ff({ ...httpdEntities, file: f })).file.path).toBe("/etc/passwd")
    expect(doc(fe({ ...httpdEntities, file: f }, { opFlags: OP.SYMLINK })).file.type).toBe("symlink")
    expect(doc(fe({ ...httpdEntities, file: f, newFile: file("/etc/p2") }, { opFlags: OP.RENAME })).file.target_path).toBe("/etc/p2")
    expect(doc(ff({ ...httpdEntities, file: f })).file).toEqual({ directory: "/etc", name: "passwd", path: "/etc/passwd", type: "file" })
  })
})

describe("ECS process, user, container, pod: presence and omission", () => {
  it("D4: no trailing space in process.command_line", () => {
    const p = proc({ pid: 9n, exe: "/storage-provisioner" })
    expect(enc(pe({ header: header(), process: p, ptree: [p] }))).toContain(
      '"process":{"args":"","command_line":"/storage-provisioner","executable":"/storage-provisioner","name":"storage-provisioner",'
    )
  })

  it("parent not cached (D8): empty strings, name '.', pid and start from poid", () => {
    const p = proc({ pid: 55500n, createTS: 5n, ppid: 1922n, pcreateTS: 1602100326664000000n, exe: "/bin/sh" })
    expect(doc(pe({ header: header(), process: p, ptree: [p] }, { opFlags: OP.CLONE, tid: 55500n })).process.parent).toEqual({
      args: "",
      command_line: "",
      executable: "",
      name: ".",
      pid: 1922,
      start: "2020-10-07T19:52:06.664Z"
    })
  })

  it("no poid: parent pid 0, start at the epoch", () => {
    const p = proc({ pid: 1n, exe: "/sbin/init" })
    expect(doc(pe({ header: header(), process: p, ptree: [p] })).process.parent).toEqual({
      args: "",
      command_line: "",
      executable: "",
      name: ".",
      pid: 0,
      start: "1970-01-01T00:00:00Z"
    })
  })

  it("missing process: zero values, names '.'", () => {
    expect(enc(pe({ header: header() }, { tid: 42n, opFlags: OP.EXIT }))).toBe(
      '{"@timestamp":"1970-01-01T00:00:00Z","agent":{"type":"SysFlow","version":"0.7.0"},"ecs":{"version":"8.2"},' +
        '"event":{"action":"process-thread-exit","category":"process","duration":0,"end":"1970-01-01T00:00:00Z","kind":"event","sf_ret":0,"sf_type":"PE","start":"1970-01-01T00:00:00Z","type":"thread-exit"},' +
        '"host":{"id":"node","ip":"10.0.0.1"},' +
        '"process":{"args":"","command_line":"","executable":"","name":".","parent":{"args":"","command_line":"","executable":"","name":".","pid":0,"start":"1970-01-01T00:00:00Z"},"pid":0,"start":"1970-01-01T00:00:00Z","thread":{"id":42}},' +
        '"user":{"group":{"id":0},"id":0}}'
    )
  })

  it("no header: host with empty id and ip", () => {
    expect(doc(pe({})).host).toEqual({ id: "", ip: "" })
  })

  it("user and group names omitted when empty", () => {
    const p = proc({ pid: 2n, uid: 100, gid: 101, userName: "", groupName: "" })
    expect(doc(pe({ header: header(), process: p, ptree: [p] })).user).toEqual({ group: { id: 101 }, id: 100 })
    const q = proc({ pid: 2n, uid: 100, gid: 101, userName: "rabbit", groupName: "" })
    expect(doc(pe({ header: header(), process: q, ptree: [q] })).user).toEqual({ group: { id: 101 }, id: 100, name: "rabbit" })
  })

  it("the process section follows the parent when the ptree changes (memo keyed by process and parent)", () => {
    const p = proc({ pid: 3n, ppid: 2n, exe: "/bin/a" })
    const parent1 = proc({ pid: 2n, exe: "/bin/p1" })
    const parent2 = proc({ pid: 2n, exe: "/bin/p2" })
    expect(doc(pe({ header: header(), process: p, ptree: [p, parent1] })).process.parent.executable).toBe("/bin/p1")
    expect(doc(pe({ header: header(), process: p, ptree: [p, parent2] })).process.parent.executable).toBe("/bin/p2")
    expect(doc(pe({ header: header(), process: p, ptree: [p] })).process.parent.executable).toBe("")
    expect(doc(pe({ header: header(), process: p, ptree: [p, parent1] }, { tid: 99n })).process.thread.id).toBe(99)
  })

  it("container: sf_privileged bool, runtime without CT_, image only with an image id", () => {
    const c = container({ id: "abc123", name: " web ", image: "nginx", imageid: "", type: "CT_CRIO", privileged: true })
    expect(doc(pe({ header: header(), container: c })).container).toEqual({
      id: "abc123",
      name: "web",
      runtime: "CRIO",
      sf_privileged: true
    })
    const d = container({ id: "abc124", imageid: "sha256:1", image: "nginx:1" })
    expect(doc(pe({ header: header(), container: d })).container.image).toEqual({ id: "sha256:1", name: "nginx:1" })
  })

  it("container with an empty id: omitted; no container: omitted", () => {
    expect(doc(pe({ header: header(), container: container({ id: "" }) }))).not.toHaveProperty("container")
    expect(doc(pe({ header: header() }))).not.toHaveProperty("container")
  })

  it("pod: orchestrator, pod and service (sorted keys, valid arrays)", () => {
    const p = pod({
      hostIP: [BigInt(ipInt(192, 168, 59, 100)), BigInt(ipInt(192, 168, 59, 101))],
      restartCount: 2n,
      services: [
        {
          name: "redis",
          id: "81bc",
          namespace: "robot-shop",
          portList: [
            { port: 6379, targetPort: 6379, nodePort: 0, proto: "TCP" },
            { port: 16379, targetPort: 16380, nodePort: 30000, proto: "TCP" }
          ],
          clusterIP: [BigInt(ipInt(10, 111, 214, 104))]
        },
        { name: "empty", id: "e", namespace: "ns", portList: [], clusterIP: [] }
      ]
    })
    const c = container({ podId: p.id })
    const line = enc(pe({ header: header(), container: c, pod: p }))
    expect(line).toContain(
      '"orchestrator":{"namespace":"robot-shop","resource":{"name":"redis-0","type":"pod"},"type":"kubernetes"},' +
        '"pod":{"hostip":["192.168.59.100","192.168.59.101"],"id":"29c707fd-318a-4af4-be47-79a146578fc2","internalip":["172.17.0.15"],"name":"redis-0","namespace":"robot-shop","nodename":"minikube","restartcnt":2,"ts":"2022-03-17T18:50:15.033685Z"},' +
        '"service":[{"clusterip":["10.111.214.104"],"id":"81bc","name":"redis","namespace":"robot-shop","ports":[{"nodeport":0,"port":6379,"proto":"TCP","targetport":6379},{"nodeport":30000,"port":16379,"proto":"TCP","targetport":16380}]},' +
        '{"clusterip":[],"id":"e","name":"empty","namespace":"ns","ports":[]}],"process":'
    )
    checkKeyOrder(JSON.parse(line))
  })

  it("pod without services: no service key; pod with an empty id: no orchestrator/pod", () => {
    const d = doc(pe({ header: header(), pod: pod({ services: [] }) }))
    expect(d).toHaveProperty("pod")
    expect(d).not.toHaveProperty("service")
    const e = doc(pe({ header: header(), pod: pod({ id: "" }) }))
    expect(e).not.toHaveProperty("orchestrator")
    expect(e).not.toHaveProperty("pod")
  })
})

describe("ECS KE documents", () => {
  const msg =
    '{"apiVersion":"v1","items":[{"name":"user-899b6c7ff-qxd47","namespace":"robot-shop","labels":{"a":"<b>"}},{"name":"second","namespace":"other"}],"kind":"Pod","type":"ADDED"}'
  const keOf = (action: "K8S_COMPONENT_ADDED" | "K8S_COMPONENT_MODIFIED" | "K8S_COMPONENT_DELETED" | "K8S_COMPONENT_ERROR" | "K8S_COMPONENT_NONEXISTENT" | "K8S_COMPONENT_UNKNOWN", message = msg) =>
    ke(header({ exporter: "minikube", ip: "192.168.59.100" }), { ts: 1647544504410939817n, action, kind: "K8S_PODS", message })

  it("ADDED, byte for byte: no container/process/user; orchestrator from the message; original", () => {
    expect(enc(keOf("K8S_COMPONENT_ADDED", msg + "\n\u0000"))).toBe(
      '{"@timestamp":"2022-03-17T19:15:04.410939817Z","agent":{"type":"SysFlow","version":"0.7.0"},"ecs":{"version":"8.2"},' +
        '"event":{"action":"K8S_COMPONENT_ADDED","category":"orchestration","duration":0,"end":"2022-03-17T19:15:04.410939817Z","kind":"event",' +
        '"original":"{\\"apiVersion\\":\\"v1\\",\\"items\\":[{\\"name\\":\\"user-899b6c7ff-qxd47\\",\\"namespace\\":\\"robot-shop\\",\\"labels\\":{\\"a\\":\\"\\u003cb\\u003e\\"}},{\\"name\\":\\"second\\",\\"namespace\\":\\"other\\"}],\\"kind\\":\\"Pod\\",\\"type\\":\\"ADDED\\"}",' +
        '"sf_type":"KE","start":"2022-03-17T19:15:04.410939817Z","type":"creation"},' +
        '"host":{"id":"minikube","ip":"192.168.59.100"},' +
        '"orchestrator":{"namespace":"robot-shop","resource":{"name":"user-899b6c7ff-qxd47","type":"pod"},"type":"kubernetes"}}'
    )
  })

  it.each([
    ["K8S_COMPONENT_ADDED", "creation"],
    ["K8S_COMPONENT_MODIFIED", "change"],
    ["K8S_COMPONENT_DELETED", "deletion"],
    ["K8S_COMPONENT_ERROR", "error"],
    ["K8S_COMPONENT_NONEXISTENT", "info"],
    ["K8S_COMPONENT_UNKNOWN", "info"]
  ] as const)("%s -> event.type %s, action = the action name", (action, type) => {
    const d = doc(keOf(action))
    expect(d.event).toMatchObject({ category: "orchestration", type, action, duration: 0, sf_type: "KE" })
    expect(d.event).not.toHaveProperty("sf_ret")
    checkKeyOrder(d)
  })

  it("message without items or kind: empty orchestrator strings; not JSON at all: the same", () => {
    expect(doc(keOf("K8S_COMPONENT_MODIFIED", '{"kind":"Service"}')).orchestrator).toEqual({
      namespace: "",
      resource: { name: "", type: "service" },
      type: "kubernetes"
    })
    expect(doc(keOf("K8S_COMPONENT_MODIFIED", "garbage")).orchestrator).toEqual({
      namespace: "",
      resource: { name: "", type: "" },
      type: "kubernetes"
    })
  })

  it("rules and tags on a KE", () => {
    const ev: PolicyEvent = {
      record: keOf("K8S_COMPONENT_ADDED"),
      rules: [{ name: "New pod in namespace robot-shop", desc: "d", priority: 3, tags: ["k8s"] }],
      tags: []
    }
    const line = encodeEcsEvent(ev, head)
    expect(line).toContain('"reason":"New pod in namespace robot-shop","severity":3,"sf_type":"KE"')
    expect(line.endsWith('"type":"kubernetes"},"tags":["k8s"]}')).toBe(true)
  })
})

describe("ECS rules and tags", () => {
  const rule = (name: string, priority: RuleMatch["priority"], tags: ReadonlyArray<string> = []): RuleMatch => ({ name, desc: "d", priority, tags })

  it("reason = rule names joined with ', ', severity = max priority, tags = ctx tags then rule tags", () => {
    const ev: PolicyEvent = {
      record: exampleA(),
      rules: [rule("Exec <x>", 2, ["mitre:T1059", "exec"]), rule("Second", 4), rule("Third", 1, ["t"])],
      tags: ["ctx"]
    }
    expect(encodeEcsEvent(ev, head)).toBe(
      exampleAEcs
        .replace('"kind":"event",', '"kind":"event","reason":"Exec \\u003cx\\u003e, Second, Third","severity":4,')
        .slice(0, -1) + ',"tags":["ctx","mitre:T1059","exec","t"]}'
    )
  })

  it("severity is at least Low (1): informational rules give 1", () => {
    expect(doc({ record: exampleA(), rules: [rule("I", 0)], tags: [] }).event.severity).toBe(1)
  })

  it("tags without rules: no reason/severity; no tags: no tags key", () => {
    const d = doc({ record: exampleA(), rules: [], tags: ["a", "a", ""] })
    expect(d.tags).toEqual(["a", "a", ""])
    expect(d.event).not.toHaveProperty("reason")
    expect(d.event).not.toHaveProperty("severity")
    expect(doc({ record: exampleA(), rules: [rule("R", 2)], tags: [] })).not.toHaveProperty("tags")
  })

  it("message: the rendered outputs of the rules that have one, one line each in rule order; absent otherwise", () => {
    const withOutput = (name: string, text: (r: FlatRecord) => string): RuleMatch => ({ ...rule(name, 2), renderOutput: text })
    const d = doc({
      record: exampleA(),
      rules: [withOutput("A", (r) => `shell ${r.process?.exe} "quoted"`), rule("B", 3), withOutput("C", () => "second line")],
      tags: []
    })
    expect(d.message).toBe(`shell ${exampleA().process?.exe} "quoted"\nsecond line`)
    expect(doc({ record: exampleA(), rules: [rule("B", 3)], tags: [] })).not.toHaveProperty("message")
  })

  it("the same rule twice (Q23) appears twice in reason", () => {
    expect(doc({ record: exampleA(), rules: [rule("R", 2), rule("R", 2)], tags: [] }).event.reason).toBe("R, R")
  })
})

describe("ECS escaping and agent/ecs options", () => {
  it("Go/HTML escaping: <>& as \\u00xx, controls, U+2028, lone surrogates", () => {
    const p = proc({ pid: 16681n, exe: "/bin/bash", exeArgs: "-c echo a<b>&c\t\"x\"\\y\u0001\u2028z\ud800", userName: "<NA>", groupName: "<NA>" })
    const line = enc(pe({ header: header(), process: p, ptree: [p] }))
    expect(line).toContain('"args":"-c echo a\\u003cb\\u003e\\u0026c\\t\\"x\\"\\\\y\\u0001\\u2028z\\ufffd"')
    expect(line).toContain('"user":{"group":{"id":0,"name":"\\u003cNA\\u003e"},"id":0,"name":"\\u003cNA\\u003e"}')
    expect(JSON.parse(line).process.command_line).toBe('/bin/bash -c echo a<b>&c\t"x"\\y\u0001\u2028z\ufffd')
  })

  it("empty versions drop the inner keys; agent and ecs stay", () => {
    expect(encodeEcsEvent(bareEvent(exampleA()), agentAndEcs({ agentVersion: "", ecsVersion: "" }))).toBe(
      exampleAEcs.replace('"agent":{"type":"SysFlow","version":"0.7.0"},"ecs":{"version":"8.2"}', '"agent":{"type":"SysFlow"},"ecs":{}')
    )
  })
})

describe("ECS encoder factory", () => {
  const config: ExporterConfig = { export: "file", format: "ecs", buffer: 0, jsonSchemaVersion: "5", filePath: "x", warnings: [] }
  const run = (attrs: Record<string, unknown>) => Effect.runSync(Effect.scoped(makeEcsEncoder(attrs, config)))

  it("lines are the documents, ids the document ids, in order; versions from the injected attributes", () => {
    const encoder = run({ version: "0.7.0", ecsversion: "8.2", jsonschemaversion: "5" })
    const batch = encoder.encode([bareEvent(exampleA()), bareEvent(exampleB())])
    expect(batch.lines).toEqual([exampleAEcs, exampleBEcs])
    expect(batch.ids).toEqual([ecsDocumentId(exampleA()), ecsDocumentId(exampleB())])
    expect(batch.ids![0]).toBe("5011dfdc1f5f9a67")
    expect(encoder.encode([])).toEqual({ lines: [], ids: [] })
  })

  it("without the manifest attributes: agent.version and ecs.version dropped", () => {
    const encoder = run({})
    expect(encoder.encode([bareEvent(exampleA())]).lines[0]).toContain('"agent":{"type":"SysFlow"},"ecs":{},"event":')
  })

  it("encodeEcsBatch: every document is valid JSON with the key order rules", () => {
    const p = pod({ services: [{ name: "s", id: "i", namespace: "n", portList: [{ port: 1, targetPort: 2, nodePort: 3, proto: "UDP" }], clusterIP: [1n] }] })
    const records = [
      exampleA(),
      exampleB(),
      exampleC(),
      fe({ ...httpdEntities, pod: p, file: file("/a"), newFile: file("/b") }, { opFlags: OP.RENAME }),
      ke(header(), { message: '{"kind":"Pod"}' })
    ]
    const batch = encodeEcsBatch(records.map(bareEvent), head)
    for (const l of batch.lines) checkKeyOrder(JSON.parse(l))
  })
})
