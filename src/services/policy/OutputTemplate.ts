/**
 * Falco's rule `output` templates: `%field` and `%(field)` are replaced by the field's value on the
 * matching record, `%%` is a literal `%`, and a field with no value (an empty string, a field SysFlow data
 * does not have) renders as `<NA>`, as Falco prints it. Compiled once per rule into pieces; rendered per
 * alert only (never per record).
 *
 * Values render as Falco's formatter would: integers in decimal, booleans `true`/`false`, multi-valued
 * fields joined with `,` (the `[path]` / `[N]` argument forms are rendered through the policy string, so
 * `%proc.aname[2]` is `<NA>` until those fields are mapped).
 */
import { type AttributeDef, attributeTable } from "../../domain/attributes.js"
import type { FlatRecord } from "../../domain/flatRecord.js"

export const NA = "<NA>"

/** A field name as Falco's formatter reads it after `%`: a dotted word, optionally with `[arg]`. */
const FIELD = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+(?:\[[^\]\s]*\])?/y

export interface OutputTemplate {
  /** The record's output line. */
  readonly render: (r: FlatRecord) => string
  /** Fields the template names that SysFlow data does not have (they render as `<NA>`). */
  readonly unknownFields: ReadonlyArray<string>
}

type Lookup = (name: string) => AttributeDef | undefined

const valueOf = (name: string, lookup: Lookup): ((r: FlatRecord) => string) | undefined => {
  const def = lookup(name)
  if (def === undefined) return undefined
  const get = def.get as (r: FlatRecord) => unknown
  return (r) => {
    const v = get(r)
    const s = typeof v === "string" ? v : typeof v === "bigint" || typeof v === "number" || typeof v === "boolean" ? String(v) : Array.isArray(v) ? v.join(",") : ""
    return s === "" ? NA : s
  }
}

/** Compiles an output template; `lookup` resolves field names (Falco rules: FalcoFields). */
export const compileOutput = (template: string, lookup: Lookup = (n) => attributeTable.get(n)): OutputTemplate => {
  const pieces: Array<string | ((r: FlatRecord) => string)> = []
  const unknown: Array<string> = []
  let text = ""
  for (let i = 0; i < template.length; i++) {
    const c = template[i]
    if (c !== "%") {
      text += c
      continue
    }
    if (template[i + 1] === "%") {
      text += "%"
      i++
      continue
    }
    const paren = template[i + 1] === "("
    FIELD.lastIndex = i + (paren ? 2 : 1)
    const m = FIELD.exec(template)
    if (m === null || (paren && template[FIELD.lastIndex] !== ")")) {
      text += c // a lone '%' stays as written
      continue
    }
    const name = m[0]
    const value = valueOf(name, lookup)
    if (text !== "") pieces.push(text)
    text = ""
    if (value === undefined) {
      if (!unknown.includes(name)) unknown.push(name)
      pieces.push(NA)
    } else pieces.push(value)
    i = FIELD.lastIndex - 1 + (paren ? 1 : 0)
  }
  if (text !== "") pieces.push(text)
  return {
    render: (r) => {
      let out = ""
      for (const p of pieces) out += typeof p === "string" ? p : p(r)
      return out
    },
    unknownFields: unknown
  }
}
