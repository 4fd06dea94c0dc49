/**
 * ECS export against the reference (data-model.md §5.4):
 *
 * 1. `sfprocessor` (the built CLI) with reader → policyengine (alert, runtimeintegrity) → exporter
 *    (file, ecs) over k8s_small.sf, byte for byte against ../shared/golden/k8s_small.sf.ecs.jsonl.gz after
 *    our documented fixes are applied to the reference's lines (`applyEcsFixes`):
 *    - D1/Q13: true counters: `network.bytes`, `source`/`destination` `bytes` and `packets`, and the four
 *      `sf_file_action` counts are halved;
 *    - D4/Q10: no trailing space in `process.command_line` when the process has no arguments;
 *    - D2/Q12: an FE without a path synthesises `/proc/<pid>/fd/0` (the reference used the second
 *      file's state as the fd).
 *    (D8 needs no fix in ECS: the reference's MapStr already trimmed the `"\"\""` to `""`.)
 * 2. Every record of the five shared traces, encoded in-process, against an ECS document projected from
 *    the reference's JSON export of the same record (../shared/golden/<trace>.all.jsonl.gz with the JSON
 *    fixes applied): an independent, object-based rendition of the §5.4 rules, serialised with sorted
 *    keys. The ECS golden holds only PE and KE alerts; this covers FF, FE and NF on the reference's data.
 *
 * Skips with a note when ../shared is absent.
 */
import { Effect, Stream } from "effect"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { jsonString } from "../../src/domain/attributes.js"
import { communityIdV1 } from "../../src/domain/communityId.js"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { base } from "../../src/domain/goPath.js"
import { bareEvent } from "../../src/domain/policyEvent.js"
import { readTraceFile } from "../../src/services/drivers/TraceFiles.js"
import { agentAndEcs, encodeEcsEvent } from "../../src/services/export/encoders/EcsEncoder.js"
import { Flattener } from "../../src/services/reader/Flattener.js"
import { lines, runCli, tempDir, writePipeline } from "../support/cli.js"
import { applyFixes, goldenLines } from "../support/golden.js"
import { hasShared, sharedPath, sharedTraces } from "../support/shared.js"

// ---------------------------------------------------------------------------------------------------
// The reference's ECS lines with our fixes

const half = (n: string): string => `${BigInt(n) / 2n}`
const STR = '"(?:[^"\\\\]|\\\\.)*"'

/** A reference ECS line with our documented fixes applied (D1/Q13, D4/Q10, D2/Q12). */
export const applyEcsFixes = (line: string): string => {
  let out = line
    // D1/Q13
    .replace(/"network":\{"bytes":(\d+),/, (_m, b: string) => `"network":{"bytes":${half(b)},`)
    .replace(
      new RegExp(`"(source|destination)":\\{"address":(${STR}),"bytes":(\\d+),"ip":(${STR}),"packets":(\\d+),`, "g"),
      (_m, k: string, addr: string, b: string, ip: string, p: string) => `"${k}":{"address":${addr},"bytes":${half(b)},"ip":${ip},"packets":${half(p)},`
    )
    .replace(
      /"sf_file_action":\{"bytes_read":(\d+),"bytes_written":(\d+),"read_ops":(\d+),"write_ops":(\d+)\}/,
      (_m, rb: string, wb: string, ro: string, wo: string) =>
        `"sf_file_action":{"bytes_read":${half(rb)},"bytes_written":${half(wb)},"read_ops":${half(ro)},"write_ops":${half(wo)}}`
    )
    // D4/Q10
    .replace(new RegExp(`("process":\\{"args":"","command_line":"(?:[^"\\\\]|\\\\.)*) ","executable"`), '$1","executable"')
  // D2/Q12
  if (out.includes('"sf_type":"FE"')) {
    out = out
      .replace(/"file":\{"directory":"\/proc\/(\d+)\/fd","name":"\d+","path":"\/proc\/\1\/fd\/\d+"/, '"file":{"directory":"/proc/$1/fd","name":"0","path":"/proc/$1/fd/0"')
      .replace(/"file":\{"directory":"\/proc\/(\d+)\/fd\/\d+"(,"target_path"|,"type":"dir")/, '"file":{"directory":"/proc/$1/fd/0"$2')
  }
  return out
}

describe("applyEcsFixes (the normalisation of the reference's ECS lines)", () => {
  it("D1/Q13: halves network, source, destination and sf_file_action counters", () => {
    const ref =
      '{"event":{"sf_type":"NF"},"network":{"bytes":796,"community_id":"1:x=","iana_number":"6","protocol":"tcp"},"source":{"address":"172.17.0.1","bytes":612,"ip":"172.17.0.1","packets":2,"port":47200},"destination":{"address":"172.17.0.2","bytes":184,"ip":"172.17.0.2","packets":4,"port":80},"process":{}}'
    expect(applyEcsFixes(ref)).toBe(
      '{"event":{"sf_type":"NF"},"network":{"bytes":398,"community_id":"1:x=","iana_number":"6","protocol":"tcp"},"source":{"address":"172.17.0.1","bytes":306,"ip":"172.17.0.1","packets":1,"port":47200},"destination":{"address":"172.17.0.2","bytes":92,"ip":"172.17.0.2","packets":2,"port":80},"process":{}}'
    )
    expect(applyEcsFixes('"sf_file_action":{"bytes_read":396,"bytes_written":0,"read_ops":4,"write_ops":2}')).toBe(
      '"sf_file_action":{"bytes_read":198,"bytes_written":0,"read_ops":2,"write_ops":1}'
    )
  })

  it("D4/Q10: drops the trailing space of an argument-less command_line, only there", () => {
    expect(applyEcsFixes('"process":{"args":"","command_line":"/storage-provisioner ","executable":"/storage-provisioner","name":"x","parent":{"args":"","command_line":"/p ","executable":"/p"')).toBe(
      '"process":{"args":"","command_line":"/storage-provisioner","executable":"/storage-provisioner","name":"x","parent":{"args":"","command_line":"/p ","executable":"/p"'
    )
    expect(applyEcsFixes('"process":{"args":"-x","command_line":"/a -x ","executable":"/a"')).toBe('"process":{"args":"-x","command_line":"/a -x ","executable":"/a"')
  })

  it("D2/Q12: FE synthesised paths use fd 0", () => {
    expect(applyEcsFixes('"sf_type":"FE"},"file":{"directory":"/proc/12/fd","name":"2","path":"/proc/12/fd/2","type":"file"}')).toBe(
      '"sf_type":"FE"},"file":{"directory":"/proc/12/fd","name":"0","path":"/proc/12/fd/0","type":"file"}'
    )
    expect(applyEcsFixes('"sf_type":"FE"},"file":{"directory":"/proc/12/fd/1","type":"dir"}')).toBe('"sf_type":"FE"},"file":{"directory":"/proc/12/fd/0","type":"dir"}')
    expect(applyEcsFixes('"sf_type":"FF"},"file":{"directory":"/proc/12/fd","name":"2","path":"/proc/12/fd/2","type":"file"}')).toBe(
      '"sf_type":"FF"},"file":{"directory":"/proc/12/fd","name":"2","path":"/proc/12/fd/2","type":"file"}'
    )
  })
})

// ---------------------------------------------------------------------------------------------------
// 1. The CLI against the reference's ECS alerts

const ecsAlertPipeline = (out: string) => ({
  pipeline: [
    { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
    {
      processor: "policyengine",
      in: "flat flattenerchan",
      out: "evt eventchan",
      mode: "alert",
      policies: sharedPath("conformance", "policies", "runtimeintegrity")
    },
    { processor: "exporter", in: "evt eventchan", export: "file", format: "ecs", "file.path": out }
  ]
})

describe.skipIf(!hasShared)("ECS export of the runtimeintegrity alerts equals the reference's, with our fixes", () => {
  it("k8s_small.sf: every line, byte for byte", async () => {
    const dir = tempDir()
    const out = path.join(dir, "alerts.ecs.jsonl")
    const res = await runCli(["-log", "error", "-config", writePipeline(dir, ecsAlertPipeline(out)), "-driver", "file", sharedPath("traces", "k8s_small.sf")])
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    const ours = lines(out)
    const golden = goldenLines("k8s_small.sf.ecs.jsonl.gz").map(applyEcsFixes)
    expect(ours.length).toBe(golden.length)
    for (let i = 0; i < golden.length; i++) expect({ line: i + 1, doc: ours[i] }).toEqual({ line: i + 1, doc: golden[i] })
  })
})

// ---------------------------------------------------------------------------------------------------
// 2. Every record against a projection of the reference's JSON export

/** JSON.parse keeping integers of 16+ digits exact (as strings; converted where int64 fields are read). */
const parseExact = (line: string): any => {
  let out = ""
  let last = 0
  let inStr = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (inStr) {
      if (c === "\\") i++
      else if (c === '"') inStr = false
    } else if (c === '"') inStr = true
    else if (c === "-" || (c >= "0" && c <= "9")) {
      let j = i + 1
      while (j < line.length && line[j] >= "0" && line[j] <= "9") j++
      if (j - i >= 16) {
        out += line.slice(last, i) + '"' + line.slice(i, j) + '"'
        last = j
      }
      i = j - 1
    }
  }
  return JSON.parse(out + line.slice(last))
}

const big = (v: unknown): bigint => BigInt(v as string | number)

const iso = (ns: bigint): string => {
  const s = ns / 1_000_000_000n
  const f = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "")
  return new Date(Number(s) * 1000).toISOString().slice(0, 19) + (f === "" ? "" : "." + f) + "Z"
}

/** Go-style JSON of a value: object keys sorted, bigints as integers, HTML-safe string escaping. */
const goJson = (v: unknown): string => {
  if (typeof v === "string") return jsonString(v)
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v)
  if (Array.isArray(v)) return "[" + v.map(goJson).join(",") + "]"
  const o = v as Record<string, unknown>
  return "{" + Object.keys(o).sort().map((k) => jsonString(k) + ":" + goJson(o[k])).join(",") + "}"
}

const TOP = ["@timestamp", "agent", "ecs", "event", "host", "container", "orchestrator", "pod", "service", "file", "sf_file_action", "network", "source", "destination", "process", "user", "tags"]

const ipBytes = (s: string): Uint8Array => Uint8Array.from(s.split(".").map(Number))

const protoNames: Record<number, string> = { 6: "tcp", 17: "udp", 1: "icmp", 254: "raw" }
const fileTypes: Record<string, string> = { f: "file", d: "dir", u: "socket", p: "pipe" }
const keTypes: Record<string, string> = {
  K8S_COMPONENT_ADDED: "creation",
  K8S_COMPONENT_DELETED: "deletion",
  K8S_COMPONENT_MODIFIED: "change",
  K8S_COMPONENT_ERROR: "error"
}

/** The ECS document of data-model §5.4 for a (fixed) reference JSON line. */
const projectEcs = (jsonLine: string): string => {
  const j = parseExact(jsonLine)
  const type: string = j.type
  const ops: ReadonlyArray<string> = j.opflags
  const has = (f: string) => ops.includes(f)
  const ts = big(j.ts)
  const endts = big(j.endts)
  const end = endts === 0n ? ts : endts
  const d: Record<string, unknown> = {
    "@timestamp": iso(ts),
    agent: { type: "SysFlow", version: "0.7.0" },
    ecs: { version: "8.2" },
    host: { id: j.node.id, ip: j.node.ip }
  }
  const event: Record<string, unknown> = { kind: "event", sf_type: type, start: iso(ts), end: iso(end), duration: end - ts }
  if (type === "PE" || type === "FE") event.sf_ret = j.ret
  if (type === "KE") {
    const msg: string = j.k8s.message
    let parsed: { kind?: string; items?: Array<{ name?: string; namespace?: string }> } = {}
    try {
      parsed = JSON.parse(msg)
    } catch {
      // not JSON: empty lookups
    }
    Object.assign(event, {
      category: "orchestration",
      type: keTypes[j.k8s.action] ?? "info",
      action: j.k8s.action,
      original: msg
    })
    d.orchestrator = {
      namespace: parsed.items?.[0]?.namespace ?? "",
      resource: { name: parsed.items?.[0]?.name ?? "", type: (parsed.kind ?? "").toLowerCase() },
      type: "kubernetes"
    }
  } else {
    const pr = j.proc
    const pp = j.pproc
    if (j.container !== undefined && j.container.id !== "") {
      const c = j.container
      d.container = { id: c.id, name: c.name, runtime: c.type, sf_privileged: c.privileged !== 0 }
      if (c.imageid !== "") (d.container as Record<string, unknown>).image = { id: c.imageid, name: c.image }
    }
    if (j.pod !== undefined && j.pod.id !== "") {
      const p = j.pod
      d.orchestrator = { namespace: p.namespace, resource: { name: p.name, type: "pod" }, type: "kubernetes" }
      d.pod = {
        hostip: p.hostip,
        id: p.id,
        internalip: p.internalip,
        name: p.name,
        namespace: p.namespace,
        nodename: p.nodename,
        restartcnt: big(p.restartcnt),
        ts: iso(big(p.ts))
      }
      if (p.services.length > 0) {
        d.service = p.services.map((s: { id: string; name: string; namespace: string; clusterIP: string[]; ports: Array<Record<string, unknown>> }) => ({
          clusterip: s.clusterIP,
          id: s.id,
          name: s.name,
          namespace: s.namespace,
          ports: s.ports.map((x) => ({ nodeport: x.nodeport, port: x.port, proto: x.proto, targetport: x.targetport }))
        }))
      }
    }
    const pid = big(pr.pid)
    const tid = big(pr.tid)
    if (type === "PE") {
      const t = has("EXIT")
        ? pid !== tid ? "thread-exit" : "exit"
        : has("CLONE") || has("EXEC")
          ? pid !== tid ? "thread-start" : "start"
          : has("SETUID")
            ? "change"
            : "start"
      Object.assign(event, { category: "process", type: t, action: `process-${t}` })
    } else if (type === "NF") {
      Object.assign(event, { category: "network", type: "connection", action: "network-connection-traffic" })
      const n = j.net
      const f = j.flow
      d.network = {
        bytes: big(f.rbytes) + big(f.wbytes),
        community_id: communityIdV1(ipBytes(n.sip), ipBytes(n.dip), n.sport, n.dport, n.proto),
        iana_number: String(n.proto),
        protocol: protoNames[n.proto] ?? ""
      }
      d.source = { address: n.sip, bytes: big(f.wbytes), ip: n.sip, packets: big(f.wops), port: n.sport }
      d.destination = { address: n.dip, bytes: big(f.rbytes), ip: n.dip, packets: big(f.rops), port: n.dport }
    } else {
      const fl = j.file
      let ftype = fileTypes[fl.type] ?? "unknown"
      if (has("SYMLINK")) ftype = "symlink"
      let fpath: string = fl.path
      let name: string
      // The reference's JSON `file.directory` is Go's Dir of the parsed path (path.posix.dirname differs,
      // e.g. for "//sys").
      let directory: string = fl.directory
      if (fpath !== "") name = base(fpath)
      else {
        fpath = `/proc/${pid}/fd/${fl.fd}`
        name = String(fl.fd)
        directory = `/proc/${pid}/fd`
      }
      const fileDoc: Record<string, unknown> = ftype === "dir" ? { type: ftype, directory: fpath } : { type: ftype, name, directory }
      if (ftype !== "dir" && fpath !== name) fileDoc.path = fpath
      if (type === "FF") {
        const f = j.flow
        const [rb, ro, wb, wo] = [big(f.rbytes), big(f.rops), big(f.wbytes), big(f.wops)]
        let t = "access"
        let action = "file-access"
        if (has("READ") && (rb > 0n || ro > 0n)) action += "-read"
        if (has("WRITE") && (wb > 0n || wo > 0n)) {
          t = "change"
          action += "-write"
        }
        Object.assign(event, { category: "file", type: t, action })
        if (rb > 0n || ro > 0n || wb > 0n || wo > 0n) d.sf_file_action = { bytes_read: rb, bytes_written: wb, read_ops: ro, write_ops: wo }
      } else {
        const [category, t, action, target] = has("MKDIR")
          ? ["directory", "creation", "directory-create", false]
          : has("RMDIR")
            ? ["directory", "deletion", "directory-delete", false]
            : has("UNLINK")
              ? ["file", "deletion", "file-delete", false]
              : has("SYMLINK") || has("LINK")
                ? ["file", "change", "file-link", true]
                : has("RENAME")
                  ? ["file", "change", "file-rename", true]
                  : ["file", "change", "file-change", false]
        Object.assign(event, { category, type: t, action })
        if (target) fileDoc.target_path = fl.newpath
      }
      d.file = fileDoc
    }
    d.process = {
      args: pr.args,
      command_line: pr.cmdline,
      executable: pr.exe,
      name: base(pr.exe),
      parent: {
        args: pp?.args ?? "",
        command_line: pp?.cmdline ?? "",
        executable: pp?.exe ?? "",
        name: base(pp?.exe ?? ""),
        pid: big(pp?.pid ?? 0),
        start: iso(big(pp?.createts ?? 0))
      },
      pid,
      start: iso(big(pr.createts)),
      thread: { id: tid }
    }
    const group: Record<string, unknown> = { id: pr.gid }
    if (pr.group !== "") group.name = pr.group
    const user: Record<string, unknown> = { group, id: pr.uid }
    if (pr.user !== "") user.name = pr.user
    d.user = user
  }
  d.event = event
  return "{" + TOP.filter((k) => d[k] !== undefined).map((k) => jsonString(k) + ":" + goJson(d[k])).join(",") + "}"
}

const encodeAll = async (trace: string): Promise<string[]> => {
  const head = agentAndEcs({ agentVersion: "0.7.0", ecsVersion: "8.2" })
  const out: string[] = []
  const flattener = new Flattener()
  await Effect.runPromise(
    readTraceFile(sharedPath("traces", trace)).pipe(
      Stream.runForEach((chunk) =>
        Effect.sync(() => {
          const records: FlatRecord[] = []
          flattener.flatten(chunk, records)
          for (const r of records) out.push(encodeEcsEvent(bareEvent(r), head))
        })
      )
    )
  )
  return out
}

describe.skipIf(!hasShared)("ECS of every record equals the §5.4 projection of the reference's JSON export", () => {
  for (const { name } of sharedTraces) {
    it(`${name}: every record`, async () => {
      const expected = goldenLines(`${name}.all.jsonl.gz`).map(applyFixes).map(projectEcs)
      const ours = await encodeAll(name)
      expect(ours.length).toBe(expected.length)
      const types: Record<string, number> = {}
      for (const l of ours) {
        const t = /"sf_type":"(\w+)"/.exec(l)![1]
        types[t] = (types[t] ?? 0) + 1
      }
      console.log(`${name}: ${ours.length} ECS documents ${JSON.stringify(types)}`)
      const firstDiff = ours.findIndex((l, i) => l !== expected[i])
      if (firstDiff >= 0) expect({ line: firstDiff + 1, doc: ours[firstDiff] }).toEqual({ line: firstDiff + 1, doc: expected[firstDiff] })
    })
  }
})
