/**
 * Sigma logsources → the SysFlow records a rule applies to (docs/sigma.md, "Logsources"). The reference
 * ignored logsources, so a process_creation rule also fired on every file and network record of a
 * matching process; sfprocessor restricts each category to the records that are that kind of event.
 * `sysflow: { logsource: ignore }` in a rule (or `logsource: ignore` in the Sigma config) restores the
 * reference's behaviour.
 */
import type { FlatRecord, RecordType } from "../../../domain/flatRecord.js"
import { OpenFlag } from "../../../domain/openFlags.js"
import { OpFlag } from "../../../domain/opFlags.js"
import type { SigmaLogsource } from "./SigmaRule.js"

/** Per record type the rule applies to: a test the record must pass too (undefined: all of that type). */
export interface LogsourceScope {
  /** A short description for diagnostics and docs (`PE with EXEC`). */
  readonly description: string
  readonly types: ReadonlyArray<RecordType>
  /** Key (for sharing) and test, per record type. */
  readonly tests: Readonly<Partial<Record<RecordType, { readonly key: string; readonly test: (r: FlatRecord) => boolean }>>>
}

const ops = (r: FlatRecord): number => (r.type === "KE" ? 0 : r.event.opFlags)
const opsAny = (mask: number, key: string) => ({ key: `ops&${key}`, test: (r: FlatRecord) => (ops(r) & mask) !== 0 })

const { EXEC, WRITE_SEND, TRUNCATE, MKDIR, RMDIR, LINK, UNLINK, SYMLINK, RENAME } = OpFlag
const CREATES_FE = MKDIR | LINK | SYMLINK | RENAME
const DELETES_FE = UNLINK | RMDIR

/** A file flow that writes: opened for writing or creation, or with write/truncate operations. */
const writingFlow = {
  key: "ff-writes",
  test: (r: FlatRecord): boolean =>
    r.type === "FF" &&
    ((r.event.opFlags & (WRITE_SEND | TRUNCATE)) !== 0 || (r.event.openFlags & (OpenFlag.WRONLY | OpenFlag.CREAT | OpenFlag.TRUNC)) !== 0)
}

/** The categories SysFlow records. */
export const CATEGORY_SCOPES: ReadonlyMap<string, LogsourceScope> = new Map<string, LogsourceScope>([
  ["process_creation", { description: "process events with EXEC", types: ["PE"], tests: { PE: opsAny(EXEC, "EXEC") } }],
  [
    "file_event",
    {
      description: "file flows that write or create, file events that create a name (mkdir, link, symlink, rename)",
      types: ["FF", "FE"],
      tests: { FF: writingFlow, FE: opsAny(CREATES_FE, "creates") }
    }
  ],
  ["file_change", { description: "file flows that write", types: ["FF"], tests: { FF: writingFlow } }],
  ["file_delete", { description: "file events with UNLINK or RMDIR", types: ["FE"], tests: { FE: opsAny(DELETES_FE, "deletes") } }],
  ["file_rename", { description: "file events with RENAME", types: ["FE"], tests: { FE: opsAny(RENAME, "RENAME") } }],
  ["file_access", { description: "file flows", types: ["FF"], tests: {} }],
  ["network_connection", { description: "network flows", types: ["NF"], tests: {} }]
])

/** Every record type, no restriction (the reference's behaviour). */
export const ALL_RECORDS: LogsourceScope = { description: "every record", types: ["PE", "FF", "FE", "NF", "KE"], tests: {} }

/** Products whose events SysFlow can stand for (`linux`, or none). */
const PRODUCTS = new Set(["linux", "sysflow"])

/** The scope of a logsource, or why it is not applicable to SysFlow. */
export const logsourceScope = (ls: SigmaLogsource): { readonly scope: LogsourceScope } | { readonly notApplicable: string } => {
  if (ls.product !== undefined && !PRODUCTS.has(ls.product.toLowerCase())) {
    return { notApplicable: `logsource product '${ls.product}' is not a SysFlow source (SysFlow records Linux hosts)` }
  }
  if (ls.service !== undefined) {
    return { notApplicable: `logsource service '${ls.service}' is a log SysFlow does not record` }
  }
  if (ls.category === undefined) {
    // `product: linux` alone means the host's system logs (syslog, journald…), not process activity.
    return ls.product === undefined
      ? { scope: ALL_RECORDS }
      : { notApplicable: `logsource product '${ls.product}' without a category means system logs SysFlow does not record` }
  }
  const scope = CATEGORY_SCOPES.get(ls.category.toLowerCase())
  if (scope === undefined) {
    return {
      notApplicable: `logsource category '${ls.category}' has no SysFlow records (supported: ${Array.from(CATEGORY_SCOPES.keys()).join(", ")})`
    }
  }
  return { scope }
}
