/**
 * The flat record: what the flattener emits for each event or flow (data-model.md §3), modelled by
 * record type (decision Q12) rather than the reference's shared integer/string slots.
 *
 * A flat record does not copy entity fields: it references the cached entity objects that were current
 * when the record was read (header, process, ancestry, container, pod, files). Attribute functions
 * (`attributes.ts`) derive every `sf.*` value from it, so policies, encoders and plugins share one
 * definition of each field. Every record has the same property set (unused ones `undefined`), which keeps
 * the hot path monomorphic.
 */
import type {
  Container,
  File,
  FileEvent,
  FileFlow,
  K8sEvent,
  NetworkFlow,
  Pod,
  Process,
  ProcessEvent,
  SFHeader
} from "./sysflow.js"

export type RecordType = "PE" | "FF" | "FE" | "NF" | "KE"

interface FlatRecordBase {
  /** The current trace header (undefined before the first header). */
  readonly header: SFHeader | undefined
  /** `GetProc(procOID)`: MODIFIED slot, else CREATED, else REUP; undefined when the process is unknown. */
  readonly process: Process | undefined
  /** Ancestry, index 0 = the process itself (memoised per trace, so possibly stale: D10). */
  readonly ptree: ReadonlyArray<Process> | undefined
  readonly container: Container | undefined
  readonly pod: Pod | undefined
  /** FF/FE: the file (undefined when missing from the cache or not applicable). */
  readonly file: File | undefined
  /** FE: the second file of link/symlink/rename. */
  readonly newFile: File | undefined
}

export interface ProcessEventRecord extends FlatRecordBase {
  readonly type: "PE"
  readonly event: ProcessEvent
}
export interface FileFlowRecord extends FlatRecordBase {
  readonly type: "FF"
  readonly event: FileFlow
}
export interface FileEventRecord extends FlatRecordBase {
  readonly type: "FE"
  readonly event: FileEvent
}
export interface NetworkFlowRecord extends FlatRecordBase {
  readonly type: "NF"
  readonly event: NetworkFlow
}
export interface K8sEventRecord extends FlatRecordBase {
  readonly type: "KE"
  readonly event: K8sEvent
}

export type FlatRecord = ProcessEventRecord | FileFlowRecord | FileEventRecord | NetworkFlowRecord | K8sEventRecord

/** Builds a record with a fixed property order (one hidden class for all record types). */
export const makeFlatRecord = <R extends FlatRecord>(
  type: R["type"],
  event: R["event"],
  header: SFHeader | undefined,
  process: Process | undefined,
  ptree: ReadonlyArray<Process> | undefined,
  container: Container | undefined,
  pod: Pod | undefined,
  file: File | undefined,
  newFile: File | undefined
): R => ({ type, event, header, process, ptree, container, pod, file, newFile }) as unknown as R
