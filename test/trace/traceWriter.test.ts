import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import avro from "avsc"
import { describe, expect, it } from "vitest"
import { SysFlowSchemaV4, SysFlowSchemaV5 } from "../../src/domain/avroSchema.js"
import { RecordCode, type SysFlowDatum } from "../../src/domain/sysflow.js"
import { MemorySink, readOcfHeader, syncMarker } from "../../src/services/avro/OcfWriter.js"
import {
  OpenFlag,
  OpFlag,
  TraceWriter,
  type TraceWriterOptions,
  encodeDatum,
  foid,
  ipaddr,
  ipv4
} from "../../src/services/trace/TraceWriter.js"
import { bigintType, blockCounts, decodeOcf, sysflowDatums } from "./avsc.js"
import { legacySchema } from "./legacySchema.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const shared = path.resolve(root, "../shared")

/** Above 2^53, so any detour through doubles would show. */
const BIG = (1n << 62n) + 123_456_789n

const written = (opts: TraceWriterOptions, build: (w: TraceWriter) => void): Buffer => {
  const sink = new MemorySink()
  const w = new TraceWriter(sink, opts)
  build(w)
  w.close()
  return sink.bytes()
}

describe("TraceWriter", () => {
  it("round-trips every record type with exact 64-bit values", async () => {
    const expected: SysFlowDatum[] = []
    const bytes = written({ blockSize: 4 }, (w) => {
      // Everything written, including the File records the writer adds itself.
      const write = w.write.bind(w)
      w.write = (d) => {
        expected.push(d)
        write(d)
      }
      w.header({ exporter: "node-a", ip: "10.1.2.3", filename: "/mnt/data/1" })
      const pod = w.pod({
        id: "pod-1",
        name: "web-0",
        ts: BIG,
        hostIP: ["192.168.59.100"],
        internalIP: ["10.244.0.7"],
        restartCount: BIG + 1n,
        labels: { app: "web" },
        selectors: { tier: "front" },
        services: [
          {
            name: "web",
            id: "svc-1",
            namespace: "default",
            portList: [{ port: 80, targetPort: 8080, nodePort: 30080, proto: "TCP" }],
            clusterIP: [ipaddr("10.96.0.1")]
          }
        ]
      })
      const c = w.container({ id: "c0ffee000001", podId: pod.id, type: "CT_CRIO", privileged: true })
      const init = w.process({ pid: 1n, exe: "/sbin/init", createTS: BIG, ts: BIG + 2n, entry: true })
      const bash = w.process({
        pid: 1n << 40n,
        exe: "/bin/bash",
        exeArgs: "-c true",
        parent: init,
        containerId: c.id,
        uid: 1000,
        userName: "alice",
        gid: 1001,
        groupName: "staff",
        tty: true,
        cwd: "/home/alice",
        env: ["HOME=/home/alice", "TERM=xterm"]
      })
      w.processEvent({ proc: bash, opFlags: OpFlag.EXEC, ret: -1, args: ["a", "b"], tid: -5n })
      w.fileFlow({
        proc: bash,
        file: "/etc/passwd",
        opFlags: OpFlag.OPEN | OpFlag.READ_RECV | OpFlag.CLOSE,
        openFlags: OpenFlag.RDONLY | OpenFlag.CLOEXEC,
        fd: 7,
        endTs: BIG + 3n,
        numRRecvOps: 2n,
        numRRecvBytes: BIG
      })
      w.fileEvent({ proc: bash.oid, opFlags: OpFlag.RENAME, file: "/tmp/a", newFile: "/tmp/b" })
      w.fileEvent({ proc: 1n, opFlags: OpFlag.UNLINK, file: "/var/run/x.pid", ret: -2 })
      w.networkFlow({
        proc: bash,
        opFlags: OpFlag.CLOSE,
        sip: "172.17.0.1",
        sport: 0,
        dip: "203.0.113.7",
        dport: 65535,
        proto: -1,
        numWSendBytes: (1n << 63n) - 1n,
        numRRecvBytes: -(1n << 63n)
      })
      w.k8sEvent({ kind: "K8S_PODS", action: "K8S_COMPONENT_DELETED", message: '{"kind":"PodList"}\n\u0000' })
      w.update(bash, { exe: "/usr/bin/id", exeArgs: "-u" })
      // Branches the processor drops still have to be writable.
      const head = { procOID: bash.oid, ts: BIG, opFlags: 0 }
      w.write({
        code: RecordCode.NetworkEvent,
        rec: { ...head, tid: 1n, sip: 1, sport: 2, dip: 3, dport: 4, proto: 6, ret: 0 }
      })
      w.write({
        code: RecordCode.ProcessFlow,
        rec: { ...head, numThreadsCloned: 1n, endTs: BIG, numThreadsExited: 2n, numCloneErrors: 0n }
      })
    })

    const decoded = sysflowDatums(await decodeOcf(bytes))
    expect(decoded.map((d) => d.code)).toEqual([0, 10, 1, 2, 2, 4, 3, 6, 3, 3, 7, 3, 7, 5, 11, 2, 8, 9])
    expect(decoded).toEqual(expected)
    expect(blockCounts(bytes)).toEqual([4, 4, 4, 4, 2])

    const [, , , init, bash] = decoded.map((d) => d.rec)
    expect(init.oid).toEqual({ createTS: BIG, hpid: 1n })
    expect(bash.poid).toEqual(init.oid)
    expect(bash.cwd).toBe("/home/alice")
    const flow = decoded[7].rec
    expect(flow.fileOID).toBe(foid("/etc/passwd", "c0ffee000001"))
  })

  it("computes FOIDs and IPs the way the collector does", () => {
    // Values seen in real collector traces (k8s_small.sf).
    expect(foid("/proc/1/stat", "4269f06be75a")).toBe("df48144f8873c2b5cbe46ccf2b8a419116624ae4")
    expect(foid("pipe:[454379322]", null)).toBe("e07af4c610e2120fe217fc5340a198d49813319b")
    expect(ipv4("172.17.0.1")).toBe(16781740)
    expect(ipv4("10.0.2.200")).toBe(-939393014) // last octet >= 128: sign-extended
    expect(ipaddr("192.168.59.100")).toBe(1681631424n)
    expect(() => ipv4("10.0.0")).toThrow(/IPv4/)
  })

  it("writes each File record once, before its first use, in the process's container", async () => {
    const bytes = written({}, (w) => {
      w.header()
      const p = w.process({ pid: 10n, exe: "/bin/cat", containerId: "abc" })
      w.fileFlow({ proc: p, file: "/etc/hosts", opFlags: OpFlag.OPEN })
      w.fileFlow({ proc: 10n, file: "/etc/hosts", opFlags: OpFlag.CLOSE })
      w.fileFlow({ proc: p, file: "pipe:[7]", opFlags: OpFlag.OPEN })
    })
    const decoded = sysflowDatums(await decodeOcf(bytes))
    expect(decoded.map((d) => d.code)).toEqual([0, 2, 3, 6, 6, 3, 6])
    expect(decoded[2].rec).toMatchObject({ path: "/etc/hosts", containerId: "abc", restype: "f".charCodeAt(0) })
    expect(decoded[5].rec.restype).toBe("p".charCodeAt(0))
    expect(decoded[3].rec.fileOID).toEqual(decoded[2].rec.oid)
  })

  it("refuses a pid it has not seen", () => {
    const w = new TraceWriter(new MemorySink())
    expect(() => w.processEvent({ proc: 42n, opFlags: OpFlag.EXIT })).toThrow(/pid 42/)
  })

  it("is deterministic: same calls, same bytes", () => {
    const build = (w: TraceWriter) => {
      w.header({ exporter: "x" })
      const p = w.process({ pid: 5n, exe: "/bin/sh" })
      for (let i = 0; i < 50; i++) w.fileFlow({ proc: p, file: `/tmp/f${i % 7}`, opFlags: OpFlag.OPEN })
    }
    expect(written({}, build).equals(written({}, build))).toBe(true)
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tracewriter-")), "t.sf")
    const w = TraceWriter.toFile(file)
    build(w)
    w.close()
    expect(fs.readFileSync(file).equals(written({}, build))).toBe(true)
    fs.rmSync(path.dirname(file), { recursive: true })
    expect(written({}, build).equals(written({ sync: syncMarker("other") }, build))).toBe(false)
  })

  it("writes the v4 (socket) layout: no cwd/env, header version 4", async () => {
    const bytes = written({ version: 4, codec: "null" }, (w) => {
      w.header()
      w.process({ pid: 1n, exe: "/sbin/init", cwd: "/ignored" })
    })
    const decoded = await decodeOcf(bytes)
    expect(decoded.schema).toEqual(SysFlowSchemaV4)
    const [header, proc] = sysflowDatums(decoded).map((d) => d.rec)
    expect(header.version).toBe(4n)
    expect(proc).not.toHaveProperty("cwd")
    expect(proc).toHaveProperty("entry", false)
  })

  it("encodes bare datums for the socket stream", () => {
    const datum: SysFlowDatum = {
      code: RecordCode.K8sEvent,
      rec: { kind: "K8S_NODES", action: "K8S_COMPONENT_ADDED", ts: BIG, message: "{}" }
    }
    const v4 = bigintType(SysFlowSchemaV4)
    expect(v4.fromBuffer(encodeDatum(datum))).toEqual({ rec: { "sysflow.event.K8sEvent": datum.rec } })
    expect(bigintType(SysFlowSchemaV5).fromBuffer(encodeDatum(datum, SysFlowSchemaV5)).rec).toEqual(
      (v4.fromBuffer(encodeDatum(datum)) as { rec: unknown }).rec
    )
  })

  it("writes a legacy v1000 layout from a custom schema", async () => {
    const bytes = written({ schema: legacySchema() }, (w) => {
      w.header({ version: 1000n, exporter: "old", ip: "dropped" })
      w.container({ id: "c1", podId: "dropped" })
      w.process({ pid: 7n, exe: "/bin/true", ts: BIG })
      expect(() => w.pod({ id: "p", name: "p" })).toThrow(/no sysflow.entity.Pod branch/)
    })
    const decoded = await decodeOcf(bytes)
    const [header, container, proc] = sysflowDatums(decoded).map((d) => d.rec)
    expect({ ...header }).toEqual({ version: 1000n, exporter: "old" })
    expect(container).not.toHaveProperty("podId")
    expect(proc).not.toHaveProperty("entry")
    expect(proc.ts).toBe(BIG)
    expect(JSON.stringify(decoded.schema)).toContain('"logicalType":"timestamp-millis"')
  })
})

describe("SysFlow schemas", () => {
  // avsc's own export: fully qualified names, defaults kept; equal exports mean the same wire format.
  const exported = (schema: unknown) =>
    JSON.stringify(avro.Type.forSchema(schema as avro.Schema).schema({ exportAttrs: true }))

  const avsc = path.join(shared, "spec/avro/SysFlow.avsc")
  const hasAvsc = fs.existsSync(avsc)
  const avscNote = hasAvsc ? "" : " (skipped: ../shared/spec/avro/SysFlow.avsc not found)"
  it.skipIf(!hasAvsc)(`v5 matches sf-apis SysFlow.avsc${avscNote}`, () => {
    expect(exported(SysFlowSchemaV5)).toBe(exported(JSON.parse(fs.readFileSync(avsc, "utf8"))))
  })

  const k8s = path.join(shared, "traces/k8s_small.sf")
  const hasK8s = fs.existsSync(k8s)
  it.skipIf(!hasK8s)(`v4 matches a v4 collector trace${hasK8s ? "" : " (skipped: ../shared/traces not found)"}`, () => {
    expect(exported(SysFlowSchemaV4)).toBe(exported(readOcfHeader(k8s).schema))
  })

  it("v4 is v5 without Process cwd/env", () => {
    const process = (s: unknown) =>
      ((s as { fields: [{ type: Array<{ name: string; fields: Array<{ name: string }> }> }] }).fields[0].type)[2]
    expect(process(SysFlowSchemaV5).fields.map((f) => f.name).slice(-2)).toEqual(["cwd", "env"])
    expect(process(SysFlowSchemaV4).fields.map((f) => f.name)).not.toContain("cwd")
  })
})
