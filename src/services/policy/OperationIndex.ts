/**
 * Indexing rules by operation, as Falco indexes them by event type. A record's operation flags
 * (`event.opFlags`: EXEC, OPEN|READ|CLOSE, …) decide some tests outright: Falco's `evt.type in (…)`
 * (compiled to flag tests) and `sf.opflags = …` / `sf.opflags in (…)` (and the reference's `evt.type`
 * alias of it). Such a test is true exactly when the record's flags share a bit with a mask that depends
 * only on the record type. The index learns from each condition which flag bits it looks at; a record
 * then meets only the rules and filters whose condition is not certainly false for its type and flags
 * (`PredicateGraph.truthOn`): one bucket per combination of those bits met, built on first use
 * (PolicySet.ts), tells the type's straight-line code (StraightLine.ts) which conditions to run.
 */
import { attributeTable } from "../../domain/attributes.js"
import type { RecordType } from "../../domain/flatRecord.js"
import { opFlagNames } from "../../domain/opFlags.js"
import { falcoOrAttribute } from "./FalcoFields.js"

/** Per record type, the mask a flag-decided test checks: it holds iff `(opFlags & mask) !== 0`. */
export type FlagMasks = Readonly<Partial<Record<RecordType, number>>>

/** Attribute string functions whose value is a function of the record type and `event.opFlags` alone. */
const FLAG_STRINGS: ReadonlySet<unknown> = new Set([attributeTable.get("sf.opflags")!.str, falcoOrAttribute("evt.type")!.str])

/** Whether `getter` (a memo slot's string function) reads only the record type and its operation flags. */
export const readsOnlyOpFlags = (getter: unknown): boolean => FLAG_STRINGS.has(getter)

const FLAG_BITS: ReadonlyArray<number> = Array.from({ length: 31 }, (_, i) => 1 << i)
const RECORD_TYPES: ReadonlyArray<RecordType> = ["PE", "FF", "FE", "NF", "KE"]

/**
 * The masks of "some comma-separated segment of the record's `sf.opflags` names is one of `values`":
 * the bits whose name (READ/WRITE, or RECV/SEND on NF) is a value. KE records have no flags (their
 * `sf.opflags` is ""). Undefined when a value is "": an empty name list matches it, which no mask says.
 */
export const opFlagsNameMasks = (values: ReadonlyArray<string>): FlagMasks | undefined => {
  if (values.includes("")) return undefined
  const wanted = new Set(values)
  const out: Partial<Record<RecordType, number>> = {}
  for (const t of RECORD_TYPES) {
    let mask = 0
    if (t !== "KE") for (const bit of FLAG_BITS) if (opFlagNames(bit, t).some((n) => wanted.has(n))) mask |= bit
    out[t] = mask
  }
  return out
}

/** Falco's `evt.type` flag test (`syscallFlags` masks): 0 for a type not given, and for KE (no flags). */
export const syscallMasks = (masks: FlagMasks): FlagMasks => ({ PE: masks.PE ?? 0, FF: masks.FF ?? 0, FE: masks.FE ?? 0, NF: masks.NF ?? 0, KE: 0 })
