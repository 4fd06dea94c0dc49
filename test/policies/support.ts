/**
 * Helpers for the tests of our shipped policy sets (policies/): a scene builder that writes a SysFlow
 * trace with TraceWriter the way the collector reports activity, reads it back into flat records, and
 * evaluates them against a compiled policy set.
 *
 * The scene reproduces what matters to policies: a started program appears as a CREATED process still
 * carrying its parent's image plus a CLONE event, then a MODIFIED process with the new image plus an EXEC
 * event (so the ancestry is cached at the CLONE, as in real traces); containers have a shim and an entry
 * process; files are opened, read, written, renamed... with SysFlow's op and open flags.
 */
import { Effect, Stream } from "effect"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"
import { attributeTable } from "../../src/domain/attributes.js"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import { MemorySink } from "../../src/services/avro/OcfWriter.js"
import { OcfParser } from "../../src/services/avro/OcfReader.js"
import { makeSysFlowDecoder } from "../../src/services/avro/SysFlowDecoder.js"
import { readTraceFile } from "../../src/services/drivers/TraceFiles.js"
import { type CompiledPolicySet, type CompiledRule, evaluate, loadPolicies } from "../../src/services/policy/PolicySet.js"
import { Flattener } from "../../src/services/reader/Flattener.js"
import { OpenFlag, OpFlag, type TraceProcess, TraceWriter } from "../../src/services/trace/TraceWriter.js"

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
export const policiesDir = path.join(projectRoot, "policies")
export const runtimeIntegrityDir = path.join(policiesDir, "runtimeintegrity")
export const filterDir = path.join(policiesDir, "filter")
export const sampleTrace = path.join(projectRoot, "resources", "traces", "sample.sf")

/** Loads a policy set; fails the test with every diagnostic if it does not compile. */
export const load = (dir: string): Promise<CompiledPolicySet> =>
  Effect.runPromise(
    loadPolicies(dir).pipe(
      Effect.mapError((e) => new Error(`${dir} does not compile:\n${e.message}`))
    )
  )

export const warningsOf = (set: CompiledPolicySet): string[] => set.warnings.map(renderDiagnostic)

/** A policy attribute as policies see it (MapStr rendering). */
export const attr = (r: FlatRecord, name: string): string => {
  const def = attributeTable.get(name)
  if (def === undefined) throw new Error(`unknown attribute ${name}`)
  return def.str(r)
}

/** Every flat record of a trace file, in order. */
export const readTrace = async (file: string): Promise<FlatRecord[]> => {
  const out: FlatRecord[] = []
  const flattener = new Flattener()
  await Effect.runPromise(
    readTraceFile(file).pipe(Stream.runForEach((chunk) => Effect.sync(() => flattener.flatten(chunk, out))))
  )
  return out
}

/** Decodes an in-memory trace (Avro OCF bytes) into flat records. */
export const decodeTrace = (bytes: Uint8Array): FlatRecord[] => {
  const parser = new OcfParser("scene.sf")
  parser.push(bytes)
  const datums: SysFlowDatum[] = []
  let decoder: ReturnType<typeof makeSysFlowDecoder> | undefined
  for (let block = parser.next(); block !== undefined; block = parser.next()) {
    decoder ??= makeSysFlowDecoder(parser.header!.schema)
    decoder.decodeBlock(block.data, block.count, (d) => datums.push(d))
  }
  parser.end()
  const out: FlatRecord[] = []
  new Flattener().flatten(datums, out)
  return out
}

// ---------------------------------------------------------------------------------------------------
// Scenes

/** What an exec sets (unset fields are inherited from the parent). */
export interface Image {
  readonly exe: string
  readonly args?: string
  readonly uid?: number
  readonly user?: string
  readonly tty?: boolean
  /** The process is its container's entry point (default false). */
  readonly entry?: boolean
}

export interface ContainerInit {
  readonly id?: string
  readonly name?: string
  readonly image?: string
  /** The container's entry process (started before the capture). */
  readonly entry: Image
}

export interface ContainerHandle {
  readonly id: string
  /** The container's shim on the host: the parent of processes started with `kubectl exec`. */
  readonly shim: TraceProcess
  /** The entry process (entry = true). */
  readonly entry: TraceProcess
}

export interface WriteOptions {
  /** Opened with O_CREAT (default true). */
  readonly create?: boolean
  /** Opened with O_TRUNC (default false). */
  readonly truncate?: boolean
  /** Opened with O_APPEND (default false). */
  readonly append?: boolean
  /** Bytes written (default 128). */
  readonly bytes?: bigint
  /** Only a WRITE flow, without the open (the file was opened before the capture). */
  readonly alreadyOpen?: boolean
}

export interface ConnectOptions {
  readonly proto?: number
  readonly sip?: string
  readonly sport?: number
}

const { CLONE, EXEC, SETUID, ACCEPT, CONNECT, OPEN, READ_RECV, WRITE_SEND, CLOSE, MMAP } = OpFlag
const { RDONLY, WRONLY, RDWR, CREAT, TRUNC, APPEND, CLOEXEC } = OpenFlag

/**
 * A host with systemd, containerd and sshd already running; add containers, start programs and make
 * them touch files and the network, then read the records back with `records()`.
 */
export class Scene {
  private readonly sink = new MemorySink()
  private readonly w = new TraceWriter(this.sink)
  private nextPid = 5000n
  private containers = 0
  private done: FlatRecord[] | undefined
  readonly systemd: TraceProcess
  readonly containerd: TraceProcess
  readonly sshd: TraceProcess

  constructor() {
    this.w.header({ exporter: "policy-tests", ip: "10.0.2.15", filename: "/mnt/data/policy-tests" })
    this.systemd = this.running({ exe: "/usr/lib/systemd/systemd", args: "--system" }, null, { entry: true })
    this.containerd = this.running({ exe: "/usr/bin/containerd" }, this.systemd)
    this.sshd = this.running({ exe: "/usr/sbin/sshd", args: "-D" }, this.systemd)
  }

  /** A process that was already running when the capture started (REUP), with no events of its own. */
  running(
    image: Image,
    parent: TraceProcess | null = this.systemd,
    opts: { readonly containerId?: string | null; readonly entry?: boolean } = {}
  ): TraceProcess {
    return this.w.process({
      state: "REUP",
      pid: this.pid(),
      exe: image.exe,
      exeArgs: image.args ?? "",
      parent,
      uid: image.uid ?? 0,
      userName: image.user ?? "root",
      gid: image.uid ?? 0,
      groupName: image.user ?? "root",
      tty: image.tty ?? false,
      containerId: opts.containerId ?? null,
      entry: opts.entry ?? false
    })
  }

  /** A container (record, shim, entry process). */
  container(init: ContainerInit): ContainerHandle {
    const n = ++this.containers
    const id = init.id ?? `c0ffee00000${n}`.slice(-12)
    this.w.container({ id, name: init.name ?? `app-${n}`, image: init.image ?? `registry.local/app-${n}:1.0` })
    const shim = this.running({ exe: "/usr/bin/containerd-shim-runc-v2", args: `-namespace k8s.io -id ${id}` })
    const entry = this.running(init.entry, shim, { containerId: id, entry: true })
    return { id, shim, entry }
  }

  /** `kubectl exec` / `docker exec`: a program started in the container by its shim. */
  execInto(c: ContainerHandle, image: Image): TraceProcess {
    return this.spawn(c.shim, image, c.id)
  }

  /** A long-running server already running on the host (e.g. nginx, postgres). */
  hostService(image: Image): TraceProcess {
    return this.running(image, this.systemd)
  }

  /** An interactive login shell of `user` on the host (sshd session → bash with a terminal). */
  loginShell(user = "alice", uid = 1000): TraceProcess {
    const session = this.spawn(this.sshd, { exe: "/usr/sbin/sshd", args: "-D -R" })
    return this.spawn(session, { exe: "/bin/bash", args: "-bash", uid, user, tty: true })
  }

  /**
   * fork + exec as the collector reports it: a CREATED child with the parent's image and a CLONE event,
   * then a MODIFIED record with the new image and an EXEC event. The child inherits the parent's user,
   * terminal and container unless the image overrides them.
   */
  spawn(parent: TraceProcess, image: Image, containerId: string | null = parent.containerId): TraceProcess {
    const { exe, exeArgs, uid, userName, gid, groupName, tty } = parent
    const child = this.w.process({
      pid: this.pid(),
      parent,
      exe,
      exeArgs,
      uid,
      userName,
      gid,
      groupName,
      tty,
      containerId
    })
    this.w.processEvent({ proc: child, opFlags: CLONE })
    const execd = this.w.update(child, {
      exe: image.exe,
      exeArgs: image.args ?? "",
      uid: image.uid ?? uid,
      userName: image.user ?? userName,
      gid: image.uid ?? gid,
      groupName: image.user ?? groupName,
      tty: image.tty ?? tty,
      entry: image.entry ?? false
    })
    this.w.processEvent({ proc: execd, opFlags: EXEC })
    return execd
  }

  /** fork without exec: a CREATED child with the parent's image and a CLONE event. */
  fork(parent: TraceProcess): TraceProcess {
    const { exe, exeArgs, uid, userName, gid, groupName, tty, containerId } = parent
    const child = this.w.process({ pid: this.pid(), parent, exe, exeArgs, uid, userName, gid, groupName, tty, containerId })
    this.w.processEvent({ proc: child, opFlags: CLONE })
    return child
  }

  /** A program started by a parent the capture never saw (the parent is not in the trace). */
  execOrphan(image: Image, containerId: string | null = null): TraceProcess {
    const proc = this.w.process({
      pid: this.pid(),
      parent: { hpid: 999_999n, createTS: 1n },
      exe: image.exe,
      exeArgs: image.args ?? "",
      uid: image.uid ?? 0,
      userName: image.user ?? "root",
      gid: image.uid ?? 0,
      groupName: image.user ?? "root",
      tty: image.tty ?? false,
      containerId
    })
    this.w.processEvent({ proc, opFlags: EXEC })
    return proc
  }

  /** The process changes its user (setuid): a MODIFIED record, then a SETUID event. */
  setuid(proc: TraceProcess, uid: number, user: string): TraceProcess {
    const changed = this.w.update(proc, { uid, userName: user, gid: uid, groupName: user })
    this.w.processEvent({ proc: changed, opFlags: SETUID })
    return changed
  }

  /** A thread of `proc` is created (CLONE with a tid other than the pid). */
  thread(proc: TraceProcess, tid: bigint, opFlags: number = CLONE): void {
    this.w.processEvent({ proc, opFlags, tid })
  }

  /** open(O_RDONLY) + read + close. */
  read(proc: TraceProcess, file: string, bytes = 512n): void {
    this.w.fileFlow({
      proc,
      file,
      opFlags: OPEN | READ_RECV | CLOSE,
      openFlags: RDONLY | CLOEXEC,
      numRRecvOps: 1n,
      numRRecvBytes: bytes
    })
  }

  /** A shared library mapped by the loader: open + read + mmap + close. */
  loadLibrary(proc: TraceProcess, file: string): void {
    this.w.fileFlow({ proc, file, opFlags: OPEN | READ_RECV | MMAP | CLOSE, openFlags: RDONLY | CLOEXEC, numRRecvOps: 1n, numRRecvBytes: 832n })
  }

  /** open(O_WRONLY [|O_CREAT] [|O_TRUNC]) + write + close, or a bare WRITE flow on an open file. */
  write(proc: TraceProcess, file: string, opts: WriteOptions = {}): void {
    const bytes = opts.bytes ?? 128n
    if (opts.alreadyOpen === true) {
      this.w.fileFlow({ proc, file, opFlags: WRITE_SEND, numWSendOps: 1n, numWSendBytes: bytes })
      return
    }
    const openFlags =
      WRONLY | (opts.create === false ? 0 : CREAT) | (opts.truncate === true ? TRUNC : 0) | (opts.append === true ? APPEND : 0)
    this.w.fileFlow({
      proc,
      file,
      opFlags: OPEN | (bytes > 0n ? WRITE_SEND : 0) | CLOSE,
      openFlags,
      numWSendOps: bytes > 0n ? 1n : 0n,
      numWSendBytes: bytes
    })
  }

  /** open(O_RDWR) + read + write + close (e.g. an editor or a lock file). */
  readWrite(proc: TraceProcess, file: string): void {
    this.w.fileFlow({
      proc,
      file,
      opFlags: OPEN | READ_RECV | WRITE_SEND | CLOSE,
      openFlags: RDWR,
      numRRecvOps: 1n,
      numRRecvBytes: 64n,
      numWSendOps: 1n,
      numWSendBytes: 64n
    })
  }

  /** `truncate -s 0 file`: open + truncate + close. */
  truncate(proc: TraceProcess, file: string): void {
    this.w.fileFlow({ proc, file, opFlags: OPEN | OpFlag.TRUNCATE | CLOSE, openFlags: WRONLY })
  }

  unlink(proc: TraceProcess, file: string): void {
    this.w.fileEvent({ proc, file, opFlags: OpFlag.UNLINK })
  }

  rename(proc: TraceProcess, from: string, to: string): void {
    this.w.fileEvent({ proc, file: from, newFile: to, opFlags: OpFlag.RENAME })
  }

  /** `ln -s target link`. */
  symlink(proc: TraceProcess, target: string, link: string): void {
    this.w.fileEvent({ proc, file: target, newFile: link, opFlags: OpFlag.SYMLINK })
  }

  /** `ln existing link`. */
  link(proc: TraceProcess, existing: string, link: string): void {
    this.w.fileEvent({ proc, file: existing, newFile: link, opFlags: OpFlag.LINK })
  }

  mkdir(proc: TraceProcess, dir: string): void {
    this.w.fileEvent({ proc, file: dir, opFlags: OpFlag.MKDIR })
  }

  /** A client connection: connect + send + receive + close. */
  connect(proc: TraceProcess, dip: string, dport: number, opts: ConnectOptions = {}): void {
    this.w.networkFlow({
      proc,
      opFlags: CONNECT | WRITE_SEND | READ_RECV | CLOSE,
      sip: opts.sip ?? "10.244.0.12",
      sport: opts.sport ?? 43210,
      dip,
      dport,
      proto: opts.proto ?? 6,
      numRRecvOps: 1n,
      numWSendOps: 1n,
      numRRecvBytes: 100n,
      numWSendBytes: 100n
    })
  }

  /** A server side connection: accept + receive + send + close. */
  accept(proc: TraceProcess, localPort: number, from = "192.0.2.44", local = "10.0.2.15"): void {
    this.w.networkFlow({
      proc,
      opFlags: ACCEPT | READ_RECV | WRITE_SEND | CLOSE,
      sip: from,
      sport: 53122,
      dip: local,
      dport: localPort,
      numRRecvOps: 1n,
      numWSendOps: 1n,
      numRRecvBytes: 100n,
      numWSendBytes: 100n
    })
  }

  /** Closes the trace and returns its flat records (computed once). */
  records(): FlatRecord[] {
    if (this.done === undefined) {
      this.w.close()
      this.done = decodeTrace(this.sink.bytes())
    }
    return this.done
  }

  private pid(): bigint {
    return this.nextPid++
  }
}

/** Common images. */
export const img = {
  bash: (args = ""): Image => ({ exe: "/bin/bash", args }),
  sh: (args = ""): Image => ({ exe: "/bin/sh", args }),
  nginx: (): Image => ({ exe: "/usr/sbin/nginx", args: "-g daemon off;" }),
  nginxWorker: (): Image => ({ exe: "/usr/sbin/nginx", args: "-g daemon off;", uid: 101, user: "nginx" }),
  /** Any program, by path. */
  run: (exe: string, args = "", extra: Partial<Image> = {}): Image => ({ exe, args, ...extra })
}

// ---------------------------------------------------------------------------------------------------
// Alerts

export interface Alert {
  readonly record: FlatRecord
  readonly rule: CompiledRule
}

/** Every (record, rule) match of a trace, in order; dropped records give none. */
export const alertsOf = (set: CompiledPolicySet, records: ReadonlyArray<FlatRecord>): Alert[] =>
  records.flatMap((record) => evaluate(set, record).matches.map((rule) => ({ record, rule })))

/** The alerts of one rule. */
export const alertsFor = (set: CompiledPolicySet, records: ReadonlyArray<FlatRecord>, rule: string): Alert[] =>
  alertsOf(set, records).filter((a) => a.rule.name === rule)

/** A one-line description of a record, for failure messages. */
export const describeRecord = (r: FlatRecord): string => {
  const base = `${r.type} ${attr(r, "sf.opflags")} ${attr(r, "sf.proc.cmdline")}`
  if (r.type === "FF" || r.type === "FE") {
    const np = attr(r, "sf.file.newpath")
    return `${base} file=${attr(r, "sf.file.path")}${np === "" ? "" : ` new=${np}`}`
  }
  if (r.type === "NF") return `${base} ${attr(r, "sf.net.dip")}:${attr(r, "sf.net.dport")}`
  return base
}

export const expectNoAlert = (set: CompiledPolicySet, records: ReadonlyArray<FlatRecord>, rule: string): void => {
  expect(alertsFor(set, records, rule).map((a) => describeRecord(a.record))).toEqual([])
}
