/**
 * A generated trace for the socket tests (no ../shared needed): every record type the v4 socket layout
 * carries, built with TraceWriter. Returns the datums in order and, optionally, writes the same trace as a
 * v4 OCF file so the file driver's output can be compared with the socket driver's.
 */
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import { MemorySink, fileSink } from "../../src/services/avro/OcfWriter.js"
import { OpenFlag, OpFlag, TraceWriter } from "../../src/services/trace/TraceWriter.js"

export interface GeneratedTrace {
  readonly datums: ReadonlyArray<SysFlowDatum>
  /** Flattened records the reader exports (PE, FF, FE, NF, KE), per type. */
  readonly events: Readonly<Record<string, number>>
}

/**
 * `flows` FileFlow/NetworkFlow pairs after the entities, to make the stream longer than one chunk when
 * asked. `exporter` tells two streams apart in the output (`node.id`).
 */
export const generatedTrace = (opts: { flows?: number; exporter?: string; file?: string } = {}): GeneratedTrace => {
  const datums: SysFlowDatum[] = []
  const w = new TraceWriter(opts.file === undefined ? new MemorySink() : fileSink(opts.file), { version: 4 })
  const write = w.write.bind(w)
  w.write = (d) => {
    datums.push(d)
    write(d)
  }
  const events: Record<string, number> = {}
  const count = (t: string) => (events[t] = (events[t] ?? 0) + 1)

  w.header({ exporter: opts.exporter ?? "socket-test", ip: "10.0.0.1", filename: "/mnt/data/stream" })
  w.pod({ id: "pod-1", name: "web-0", hostIP: ["192.168.0.10"], internalIP: ["10.244.0.7"] })
  w.container({ id: "c0ffee123456", name: "web", image: "nginx:latest", podId: "pod-1" })
  const init = w.process({ pid: 1n, exe: "/sbin/init" })
  const sh = w.process({ pid: 100n, exe: "/bin/sh", exeArgs: "-c ls", parent: init, containerId: "c0ffee123456" })
  w.processEvent({ proc: sh, opFlags: OpFlag.CLONE })
  count("PE")
  const ls = w.update(sh, { exe: "/bin/ls", exeArgs: "-la /etc" })
  w.processEvent({ proc: ls, opFlags: OpFlag.EXEC, args: ["-la", "/etc"] })
  count("PE")
  w.fileEvent({ proc: ls, opFlags: OpFlag.RENAME, file: "/tmp/a", newFile: "/tmp/b" })
  count("FE")
  const flows = opts.flows ?? 10
  for (let i = 0; i < flows; i++) {
    w.fileFlow({ proc: ls, opFlags: OpFlag.OPEN | OpFlag.READ_RECV | OpFlag.CLOSE, file: `/etc/file${i % 50}`, openFlags: OpenFlag.RDONLY, numRRecvOps: 1n, numRRecvBytes: BigInt(100 + i) })
    count("FF")
    w.networkFlow({ proc: ls, opFlags: OpFlag.CONNECT | OpFlag.WRITE_SEND, sip: "10.0.0.1", sport: 40000 + (i % 20000), dip: "10.0.0.2", dport: 443 })
    count("NF")
  }
  w.k8sEvent({ kind: "K8S_PODS", action: "K8S_COMPONENT_ADDED", message: '{"items":[{"name":"web-0","namespace":"default"}]}' })
  count("KE")
  w.processEvent({ proc: ls, opFlags: OpFlag.EXIT })
  count("PE")
  w.close()
  return { datums, events }
}
