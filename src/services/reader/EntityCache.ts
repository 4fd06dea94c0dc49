/**
 * The reader's entity cache (data-model.md §2.1–2.2): the current header, containers, pods, files, and
 * processes in three state slots, plus the memoised ancestry (ptree). A new header resets everything,
 * so caches never span trace files.
 *
 * Exited processes are forgotten (X77): the reference keeps every process until the next header, and a
 * socket stream has one header, so its process table grows with every process the node ever started.
 * Here a process whose exit was seen is dropped once a later exit is `exitTtl` (trace time, ns) after
 * its own and none of the processes still cached has it as parent (a parent goes with its last child).
 * Trace time is that of the exits: without process churn nothing needs forgetting. A record of a process
 * arriving after it was dropped finds no process, as any record of an unknown process does. `exitTtl` 0
 * keeps them all.
 */
import type { Container, File, FOID, OID, Pod, Process, SFHeader } from "../../domain/sysflow.js"

const STATE_SLOT = { CREATED: 0, MODIFIED: 1, REUP: 2 } as const

/** One process identity: its state slots and the ancestry memo (stale by design, D10). */
interface ProcEntry {
  readonly oid: OID
  readonly slots: [Process | undefined, Process | undefined, Process | undefined]
  ptree: ReadonlyArray<Process> | undefined
  /** The parent's entry when it was cached as this one was first stored (it is kept while this one is). */
  readonly parent: ProcEntry | undefined
  /** Cached processes whose `parent` this is. */
  children: number
  /** Trace time of the exit (ns), once seen. */
  exitTs: bigint | undefined
}

export class EntityCache {
  header: SFHeader | undefined = undefined
  private containers = new Map<string, Container>()
  private pods = new Map<string, Pod>()
  private files = new Map<string, File>()
  /** hpid → createTS → entry (bigint keys compare by value). */
  private procs = new Map<bigint, Map<bigint, ProcEntry>>()
  /** Exited processes in order of exit, from `exitedFrom` on. */
  private exited: ProcEntry[] = []
  private exitedFrom = 0
  /** The latest exit seen (trace time, ns). */
  private lastExit = 0n
  /** Processes dropped after their exit since the start. */
  forgotten = 0

  /** `exitTtl`: how long (trace time, ns) an exited process stays cached; 0 keeps every process. */
  constructor(private readonly exitTtl: bigint = 0n) {}

  setHeader(h: SFHeader): void {
    this.header = h
    this.containers = new Map()
    this.pods = new Map()
    this.files = new Map()
    this.procs = new Map()
    this.exited = []
    this.exitedFrom = 0
    this.lastExit = 0n
  }

  putContainer(c: Container): void {
    this.containers.set(c.id, c)
  }

  putPod(p: Pod): void {
    this.pods.set(p.id, p)
  }

  putFile(f: File): void {
    this.files.set(f.oid, f)
  }

  putProcess(p: Process): void {
    let byTs = this.procs.get(p.oid.hpid)
    if (byTs === undefined) this.procs.set(p.oid.hpid, (byTs = new Map()))
    let entry = byTs.get(p.oid.createTS)
    if (entry === undefined) {
      const parent = p.poid === null ? undefined : this.procs.get(p.poid.hpid)?.get(p.poid.createTS)
      if (parent !== undefined) parent.children++
      entry = { oid: p.oid, slots: [undefined, undefined, undefined], ptree: undefined, parent, children: 0, exitTs: undefined }
      byTs.set(p.oid.createTS, entry)
    }
    entry.slots[STATE_SLOT[p.state] ?? 0] = p
  }

  /** The process exited at `ts` (its own exit, not one of its threads'): it is forgotten `exitTtl` later. */
  processExited(oid: OID, ts: bigint): void {
    if (this.exitTtl === 0n) return
    if (ts > this.lastExit) this.lastExit = ts
    const entry = this.procs.get(oid.hpid)?.get(oid.createTS)
    if (entry === undefined || entry.exitTs !== undefined) return
    entry.exitTs = ts
    this.exited.push(entry)
  }

  /** Forgets the processes that exited `exitTtl` before the latest exit and have no cached children. */
  forgetExited(): void {
    const exited = this.exited
    if (exited.length === 0) return
    const before = this.lastExit - this.exitTtl
    let i = this.exitedFrom
    while (i < exited.length && (exited[i].exitTs as bigint) <= before) this.forget(exited[i++], before)
    if (i === exited.length) {
      this.exited = []
      i = 0
    } else if (i > 4096 && i > exited.length / 2) {
      this.exited = exited.slice(i)
      i = 0
    }
    this.exitedFrom = i
  }

  /**
   * Drops an entry whose exit is at or `before` and that has no cached children, then its parent if that
   * was its last child and its exit is as old (an entry with children goes with its last child).
   */
  private forget(entry: ProcEntry, before: bigint): void {
    for (let e: ProcEntry | undefined = entry; e !== undefined && e.children === 0 && e.exitTs !== undefined && e.exitTs <= before; e = e.parent) {
      const byTs = this.procs.get(e.oid.hpid)
      if (byTs?.get(e.oid.createTS) !== e) return
      byTs.delete(e.oid.createTS)
      if (byTs.size === 0) this.procs.delete(e.oid.hpid)
      this.forgotten++
      if (e.parent !== undefined) e.parent.children--
    }
  }

  container(id: string | null): Container | undefined {
    return id === null ? undefined : this.containers.get(id)
  }

  pod(id: string | null): Pod | undefined {
    return id === null ? undefined : this.pods.get(id)
  }

  file(oid: FOID | null): File | undefined {
    return oid === null ? undefined : this.files.get(oid)
  }

  /** `GetProc`: the MODIFIED slot if set, else CREATED, else REUP. */
  process(oid: OID): Process | undefined {
    const e = this.procs.get(oid.hpid)?.get(oid.createTS)
    return e === undefined ? undefined : (e.slots[1] ?? e.slots[0] ?? e.slots[2])
  }

  /**
   * `GetPtree`: the process, its parent, and so on while found; memoised on first use and never updated
   * (D10). Stops at an OID already in the chain (D12). Undefined when the process itself is unknown.
   */
  ptree(oid: OID): ReadonlyArray<Process> | undefined {
    const entry = this.procs.get(oid.hpid)?.get(oid.createTS)
    if (entry === undefined) return undefined
    if (entry.ptree !== undefined) return entry.ptree
    const self = entry.slots[1] ?? entry.slots[0] ?? entry.slots[2]
    if (self === undefined) return undefined
    const chain: Process[] = [self]
    const seen = new Set<ProcEntry>([entry])
    let poid = self.poid
    while (poid !== null) {
      const pe = this.procs.get(poid.hpid)?.get(poid.createTS)
      if (pe === undefined || seen.has(pe)) break
      const parent = pe.slots[1] ?? pe.slots[0] ?? pe.slots[2]
      if (parent === undefined) break
      seen.add(pe)
      chain.push(parent)
      poid = parent.poid
    }
    entry.ptree = chain
    return chain
  }
}
