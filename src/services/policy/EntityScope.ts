/**
 * What a compiled value depends on, when that is less than the whole record: the record's process
 * entities (its process, the ancestry the reader memoised for it, its container and pod). A condition
 * over such values has the same result on every record of that process, as long as those are the same
 * objects, so StraightLine.ts evaluates it once per process instead of once per record: the reference's
 * `not _whitelist` filters test eight process fields on every record. (Keeping file tests per File
 * object did not pay: a File serves about three records.)
 */
import type { AttributeDef } from "../../domain/attributes.js"

/** `constant`: nothing; `record`: anything of the record (the event or flow itself, or several entities). */
export type EntityScope = "constant" | "process" | "record"

/** `sf.proc.tid` is the event's thread, not the process's. */
const EVENT_FIELDS = new Set(["sf.proc.tid"])

/** Falco fields (FalcoFields.ts) computed from process entity attributes alone. */
const FALCO_PROCESS_FIELDS = new Set(["proc.tty", "container.id", "container.name", "container.privileged", "container.image.repository", "container.image.tag"])

export const attributeScope = (def: AttributeDef): EntityScope =>
  FALCO_PROCESS_FIELDS.has(def.name) || (/^sf\.(proc|pproc|container|pod)\./.test(def.name) && !EVENT_FIELDS.has(def.name)) ? "process" : "record"

/** The scope of a value computed from two others. */
export const joinScopes = (a: EntityScope, b: EntityScope): EntityScope => (a === "constant" ? b : b === "constant" || a === b ? a : "record")
