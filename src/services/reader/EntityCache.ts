/**
 * The reader's entity cache (data-model.md §2.1–2.2): the current header, containers, pods, files, and
 * processes in three state slots, plus the memoised ancestry (ptree). A new header resets everything,
 * so caches never span trace files.
 */
import type { Container, File, FOID, OID, Pod, Process, SFHeader } from "../../domain/sysflow.js"

const STATE_SLOT = { CREATED: 0, MODIFIED: 1, REUP: 2 } as const

/** One process identity: its state slots and the ancestry memo (stale by design, D10). */
interface ProcEntry {
  readonly slots: [Process | undefined, Process | undefined, Process | undefined]
  ptree: ReadonlyArray<Process> | undefined
}

export class EntityCache {
  header: SFHeader | undefined = undefined
  private containers = new Map<string, Container>()
  private pods = new Map<string, Pod>()
  private files = new Map<string, File>()
  /** hpid → createTS → entry (bigint keys compare by value). */
  private procs = new Map<bigint, Map<bigint, ProcEntry>>()

  setHeader(h: SFHeader): void {
    this.header = h
    this.containers = new Map()
    this.pods = new Map()
    this.files = new Map()
    this.procs = new Map()
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
    if (entry === undefined) byTs.set(p.oid.createTS, (entry = { slots: [undefined, undefined, undefined], ptree: undefined }))
    entry.slots[STATE_SLOT[p.state] ?? 0] = p
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
