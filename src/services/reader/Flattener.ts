/**
 * The sysflowreader with the built-in `flattener` handler (data-model.md §2.3–§3.3): entity records
 * update the cache, events and flows become flat records joined with their process, ancestry, container,
 * pod and files, strictly in arrival order. NetworkEvent and ProcessFlow are dropped silently.
 *
 * Plain functions over arrays: this is the hot path.
 */
import { type FlatRecord, makeFlatRecord } from "../../domain/flatRecord.js"
import type {
  Container,
  File,
  FileEvent,
  FOID,
  FileFlow,
  K8sEvent,
  NetworkFlow,
  OID,
  Pod,
  Process,
  ProcessEvent,
  SysFlowDatum
} from "../../domain/sysflow.js"
import { OpFlag } from "../../domain/opFlags.js"
import { EntityCache } from "./EntityCache.js"

/** Counts of joins that failed; the reference logs each one, we log them summarised. */
export interface FlattenerDiagnostics {
  missingProcess: number
  missingContainer: number
  missingPod: number
  missingFile: number
}

/** A predicate deciding whether a flow/event record passes the rate filter (KE records bypass it). */
export type RecordFilter = (r: FlatRecord) => boolean

export class Flattener {
  readonly cache: EntityCache
  readonly diagnostics: FlattenerDiagnostics = { missingProcess: 0, missingContainer: 0, missingPod: 0, missingFile: 0 }

  /** `exitTtl`: trace time (ns) an exited process stays cached (EntityCache); 0 keeps every process. */
  constructor(
    private readonly filter: RecordFilter | undefined = undefined,
    exitTtl = 0n
  ) {
    this.cache = new EntityCache(exitTtl)
  }

  /** Processes datums in order, appending the flat records they produce to `out`. */
  flatten(datums: ReadonlyArray<SysFlowDatum>, out: FlatRecord[]): void {
    const cache = this.cache
    for (let i = 0; i < datums.length; i++) {
      const d = datums[i]
      switch (d.code) {
        case 0:
          cache.setHeader(d.rec)
          break
        case 1:
          trimEntity(d)
          cache.putContainer(d.rec)
          break
        case 2:
          trimEntity(d)
          cache.putProcess(d.rec)
          break
        case 3:
          trimEntity(d)
          cache.putFile(d.rec)
          break
        case 10:
          trimEntity(d)
          cache.putPod(d.rec)
          break
        case 11:
          out.push(this.k8sEvent(d.rec))
          break
        case 4: {
          const ev = d.rec
          this.emit(out, this.withProcess("PE", ev, ev.procOID, undefined, undefined))
          // The process's own exit (a thread's has another tid).
          if ((ev.opFlags & OpFlag.EXIT) !== 0 && ev.tid === ev.procOID.hpid) cache.processExited(ev.procOID, ev.ts)
          break
        }
        case 5:
          this.emit(out, this.withProcess("NF", d.rec, d.rec.procOID, undefined, undefined))
          break
        case 6:
          this.emit(out, this.withProcess("FF", d.rec, d.rec.procOID, this.lookupFile(d.rec.fileOID), undefined))
          break
        case 7: {
          const ev = d.rec
          const newFile = ev.newFileOID === null ? undefined : this.lookupFile(ev.newFileOID)
          this.emit(out, this.withProcess("FE", ev, ev.procOID, this.lookupFile(ev.fileOID), newFile))
          break
        }
        default:
          // NetworkEvent (8) and ProcessFlow (9): dropped, as the reference does.
          break
      }
    }
    cache.forgetExited()
  }

  private emit(out: FlatRecord[], r: FlatRecord): void {
    if (this.filter === undefined || this.filter(r)) out.push(r)
  }

  private lookupFile(oid: FOID): File | undefined {
    const f = this.cache.file(oid)
    if (f === undefined) this.diagnostics.missingFile++
    return f
  }

  private withProcess(
    type: "PE" | "NF" | "FF" | "FE",
    event: ProcessEvent | NetworkFlow | FileFlow | FileEvent,
    oid: OID,
    file: File | undefined,
    newFile: File | undefined
  ): FlatRecord {
    const cache = this.cache
    const process = cache.process(oid)
    let container: Container | undefined
    let pod: Pod | undefined
    let ptree: ReadonlyArray<Process> | undefined
    if (process === undefined) {
      this.diagnostics.missingProcess++
    } else {
      ptree = cache.ptree(oid)
      if (process.containerId !== null) {
        container = cache.container(process.containerId)
        if (container === undefined) this.diagnostics.missingContainer++
        else if (container.podId !== null) {
          pod = cache.pod(container.podId)
          if (pod === undefined) this.diagnostics.missingPod++
        }
      }
    }
    return makeFlatRecord(type, event as never, cache.header, process, ptree, container, pod, file, newFile)
  }

  private k8sEvent(ev: K8sEvent): FlatRecord {
    // D15: the collector's message ends in "\n\0"; the reference strips trailing newlines and NULs.
    ;(ev as { message: string }).message = ev.message.replace(/[\n\0]+$/, "")
    return makeFlatRecord("KE", ev, this.cache.header, undefined, undefined, undefined, undefined, undefined, undefined)
  }
}

// Go strings.TrimSpace equivalents applied once, when an entity is stored (data-model.md §2.1, §3.3).
type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const trimProcess = (p: Process): void => {
  const m = p as Mutable<Process>
  m.exe = p.exe.trim()
  m.exeArgs = p.exeArgs.trim()
}

const trimContainer = (c: Container): void => {
  const m = c as Mutable<Container>
  m.name = c.name.trim()
  m.image = c.image.trim()
}

const trimPod = (p: Pod): void => {
  const m = p as Mutable<Pod>
  m.name = p.name.trim()
  m.nodeName = p.nodeName.trim()
  m.namespace = p.namespace.trim()
}

const trimFile = (f: File): void => {
  ;(f as Mutable<File>).path = f.path.trim()
}

/** Trims an entity record in place before it is cached (a no-op for other records). */
export const trimEntity = (d: SysFlowDatum): void => {
  switch (d.code) {
    case 1:
      return trimContainer(d.rec)
    case 2:
      return trimProcess(d.rec)
    case 3:
      return trimFile(d.rec)
    case 10:
      return trimPod(d.rec)
  }
}
