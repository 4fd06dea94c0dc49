/**
 * What a compiled value depends on, when that is less than the whole record: the record's process
 * entities (its process, the ancestry the reader memoised for it, its container and pod). A condition
 * over such values has the same result on every record of that process, as long as those are the same
 * objects, so StraightLine.ts evaluates it once per process instead of once per record: the reference's
 * `not _whitelist` filters test eight process fields on every record. (Keeping file tests per File
 * object did not pay: a File serves about three records.)
 */
import { type AttributeDef, attributeTable } from "../../domain/attributes.js"

/** `constant`: nothing; `record`: anything of the record (the event or flow itself, or several entities). */
export type EntityScope = "constant" | "process" | "record"

/** `sf.proc.tid` is the event's thread, not the process's. */
const EVENT_FIELDS = new Set(["sf.proc.tid"])

const sfScope = (name: string): EntityScope =>
  /^sf\.(proc|pproc|container|pod)\./.test(name) && !EVENT_FIELDS.has(name) ? "process" : "record"

/**
 * The scope of each `sf.*` attribute's string function. Falco's names for them (`proc.aname`,
 * `proc.pcmdline`, …) are aliases sharing that function, so they get the same scope; by name they would
 * read as whole-record values, and since aliases share their target's memo slot, a Falco file loaded first
 * would make the `sf.*` name's tests per record too.
 */
const scopeByGetter = new Map<unknown, EntityScope>()
for (const def of attributeTable.values()) {
  if (!def.name.startsWith("sf.")) continue
  const known = scopeByGetter.get(def.str)
  const scope = sfScope(def.name)
  scopeByGetter.set(def.str, known === undefined || known === scope ? scope : "record")
}

/** Falco fields (FalcoFields.ts) computed from process entity attributes alone. */
const FALCO_PROCESS_FIELDS = new Set(["proc.tty", "container.id", "container.name", "container.privileged", "container.image.repository", "container.image.tag"])

/** Falco's indexed ancestry fields (`proc.aname[2]`): the process's ancestry. */
const FALCO_ANCESTRY_FIELD = /^proc\.a(name|exe|exepath|cmdline|pid)\[\d+\]$/

export const attributeScope = (def: AttributeDef): EntityScope =>
  scopeByGetter.get(def.str) ?? (FALCO_PROCESS_FIELDS.has(def.name) || FALCO_ANCESTRY_FIELD.test(def.name) ? "process" : "record")

/** The scope of a value computed from two others. */
export const joinScopes = (a: EntityScope, b: EntityScope): EntityScope => (a === "constant" ? b : b === "constant" || a === b ? a : "record")
