/**
 * Sigma field names → SysFlow values (docs/sigma.md, "Field mapping").
 *
 * The built-in mapping covers the Sigma Linux taxonomy of the categories SysFlow can see
 * (process_creation, file_event and its variants, network_connection). A Sigma config (`config`) maps
 * further fields, or re-maps these, onto any policy attribute (`sf.*` or a Falco alias) or one of the
 * derived targets below. A field that is neither is a compile error for the rule that uses it, naming
 * the field and why SysFlow has no equivalent.
 */
import { attributeTable } from "../../../domain/attributes.js"
import type { FlatRecord } from "../../../domain/flatRecord.js"
import { OpFlag } from "../../../domain/opFlags.js"

/** How a mapped field is read from a record. */
export interface FieldAccess {
  /** The mapping target (attribute name or derived target): fields with one target share values. */
  readonly target: string
  /** The field as a string; `""` when the record has no value (Sigma `null`). */
  readonly str: (r: FlatRecord) => string
  /** Multi-valued attributes (`sf.proc.aexe` …): the elements, any of which may match. */
  readonly elements: ((r: FlatRecord) => ReadonlyArray<string>) | undefined
  /** The field as an integer, for `lt`/`lte`/`gt`/`gte` (NaN when not a number). */
  readonly num: (r: FlatRecord) => number
}

const RENAMING = OpFlag.RENAME | OpFlag.LINK | OpFlag.SYMLINK

/** FE rename/link/symlink: the name created is the second file (SysFlow `newFile`). */
const createsSecondName = (r: FlatRecord): boolean => r.type === "FE" && (r.event.opFlags & RENAMING) !== 0

const attr = (name: string) => attributeTable.get(name)!

const filePath = attr("sf.file.path").str
const fileNewpath = attr("sf.file.newpath").str

const toNum = (s: string): number => (/^-?\d+$/.test(s) ? Number(s) : NaN)

const derived = (target: string, str: (r: FlatRecord) => string): FieldAccess => ({ target, str, elements: undefined, num: (r) => toNum(str(r)) })

const PROTOCOLS: Readonly<Record<number, string>> = { 1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp" }

/** Targets computed for Sigma that are not policy attributes. */
const DERIVED: ReadonlyMap<string, FieldAccess> = new Map(
  [
    derived("sigma.target_filename", (r) => (createsSecondName(r) ? fileNewpath(r) : filePath(r))),
    derived("sigma.source_filename", (r) => (createsSecondName(r) ? filePath(r) : "")),
    derived("sigma.protocol", (r) => (r.type === "NF" ? PROTOCOLS[r.event.proto] ?? String(r.event.proto) : "")),
    // SysFlow network flows carry the connection's client → server tuple; CONNECT means this process
    // opened it, ACCEPT that it accepted it; a flow seen without either has no direction.
    derived("sigma.initiated", (r) =>
      r.type !== "NF" ? "" : (r.event.opFlags & OpFlag.CONNECT) !== 0 ? "true" : (r.event.opFlags & OpFlag.ACCEPT) !== 0 ? "false" : ""
    ),
    derived("sigma.ipv6", (r) => (r.type === "NF" ? "false" : ""))
  ].map((f) => [f.target, f])
)

/** The built-in mapping: Sigma Linux taxonomy field → target. */
export const BUILTIN_FIELD_MAPPING: ReadonlyMap<string, string> = new Map([
  // process_creation (and the process fields of every other category)
  ["Image", "sf.proc.exe"],
  ["OriginalFileName", "sf.proc.name"],
  ["CommandLine", "sf.proc.cmdline"],
  ["CurrentDirectory", "sf.proc.cwd"],
  ["User", "sf.proc.user"],
  ["ProcessId", "sf.proc.pid"],
  ["ProcessGuid", "sf.proc.oid"],
  ["ParentImage", "sf.pproc.exe"],
  ["ParentCommandLine", "sf.pproc.cmdline"],
  ["ParentProcessId", "sf.pproc.pid"],
  ["ParentProcessGuid", "sf.pproc.oid"],
  ["ParentUser", "sf.pproc.user"],
  // file_event, file_change, file_delete, file_rename
  ["TargetFilename", "sigma.target_filename"],
  ["SourceFilename", "sigma.source_filename"],
  // network_connection
  ["DestinationIp", "sf.net.dip"],
  ["DestinationPort", "sf.net.dport"],
  ["SourceIp", "sf.net.sip"],
  ["SourcePort", "sf.net.sport"],
  ["Protocol", "sigma.protocol"],
  ["Initiated", "sigma.initiated"],
  ["DestinationIsIpv6", "sigma.ipv6"],
  ["SourceIsIpv6", "sigma.ipv6"]
])

/** Taxonomy fields SysFlow has no equivalent for, and why (the compile error says it). */
export const UNSUPPORTED_FIELDS: ReadonlyMap<string, string> = new Map([
  ["LogonId", "SysFlow records no login session (audit login uid)"],
  ["LogonGuid", "SysFlow records no login session"],
  ["TerminalSessionId", "SysFlow records no terminal session id"],
  ["IntegrityLevel", "Linux processes have no integrity level"],
  ["Hashes", "SysFlow records no executable hashes"],
  ["md5", "SysFlow records no executable hashes"],
  ["sha1", "SysFlow records no executable hashes"],
  ["sha256", "SysFlow records no executable hashes"],
  ["Imphash", "SysFlow records no executable hashes"],
  ["Company", "Linux executables carry no version resource"],
  ["Product", "Linux executables carry no version resource"],
  ["Description", "Linux executables carry no version resource"],
  ["FileVersion", "Linux executables carry no version resource"],
  ["DestinationHostname", "SysFlow network flows carry addresses, not host names (no DNS)"],
  ["SourceHostname", "SysFlow network flows carry addresses, not host names (no DNS)"],
  ["DestinationPortName", "SysFlow network flows carry port numbers only"],
  ["SourcePortName", "SysFlow network flows carry port numbers only"],
  ["CreationUtcTime", "Sigma time fields are not supported"],
  ["ParentIntegrityLevel", "Linux processes have no integrity level"]
])

/** Fields every mapping uses for keyword searches (whole-record text search). */
export const KEYWORD_TARGETS: ReadonlyArray<string> = ["sf.proc.cmdline", "sf.file.path", "sf.file.newpath"]

/** The access for a mapping target, or undefined when it is neither an attribute nor derived. */
export const fieldAccess = (target: string): FieldAccess | undefined => {
  const d = DERIVED.get(target)
  if (d !== undefined) return d
  const def = attributeTable.get(target)
  if (def === undefined) return undefined
  const str = def.str
  switch (def.kind) {
    case "strings": {
      const get = def.get as (r: FlatRecord) => ReadonlyArray<string>
      return { target, str, elements: get, num: () => NaN }
    }
    case "ints": {
      const get = def.get as (r: FlatRecord) => ReadonlyArray<bigint>
      return { target, str, elements: (r) => get(r).map(String), num: () => NaN }
    }
    case "int": {
      const get = def.get as (r: FlatRecord) => bigint
      return { target, str, elements: undefined, num: (r) => Number(get(r)) }
    }
    default:
      return { target, str, elements: undefined, num: (r) => toNum(str(r)) }
  }
}
