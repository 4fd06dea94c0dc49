/**
 * Which attributes depend on the record's entities only: its process (with the ancestry the reader
 * memoised for it), container and pod, and on nothing of the event or flow itself. A condition over such
 * attributes has the same value on every record of a process (as long as those entities are the same
 * objects), so StraightLine.ts evaluates it once per process instead of once per record: the reference's
 * `not _whitelist` filters test eight process fields on every record.
 */
import type { AttributeDef } from "../../domain/attributes.js"

/** `sf.proc.tid` is the event's thread, not the process's. */
const EVENT_FIELDS = new Set(["sf.proc.tid"])

/** Falco fields (FalcoFields.ts) computed from entity attributes alone. */
const FALCO_ENTITY_FIELDS = new Set(["proc.tty", "container.id", "container.name", "container.privileged", "container.image.repository", "container.image.tag"])

export const isEntityAttribute = (def: AttributeDef): boolean =>
  FALCO_ENTITY_FIELDS.has(def.name) || (/^sf\.(proc|pproc|container|pod)\./.test(def.name) && !EVENT_FIELDS.has(def.name))
