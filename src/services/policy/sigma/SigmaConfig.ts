/**
 * The Sigma configuration named by the policy engine's `config` key (policy-language.md §10): a legacy
 * sigmac-style YAML file. What sfprocessor reads from it:
 *
 * - `fieldmappings`: Sigma field → target (an `sf.*` attribute, a Falco alias or a derived target of
 *   SigmaFields); a list maps to its first target, as the reference did. These override the built-in
 *   mapping field by field.
 * - `placeholders` (extension): name → list of values, for the `expand` modifier.
 * - `logsource: ignore` (extension): apply every rule to every record type, as the reference did.
 *
 * `title`, `order`, `backends` and `logsources` are accepted and ignored (the reference ignored them
 * too). Anything wrong in the file is a load error naming file:line:col: a config is written by the
 * user, so a mistake must not silently change what the rules mean.
 */
import { isMap, isScalar, isSeq, type Node, type Pair, parseDocument } from "yaml"
import type { Diagnostic } from "../../../domain/policy/Diagnostic.js"
import { SourceText } from "./SigmaReader.js"

export interface SigmaConfig {
  readonly file: string | undefined
  readonly fieldMappings: ReadonlyMap<string, { readonly target: string; readonly line: number; readonly column: number }>
  readonly placeholders: ReadonlyMap<string, ReadonlyArray<string>>
  readonly logsource: "map" | "ignore"
}

export const EMPTY_SIGMA_CONFIG: SigmaConfig = { file: undefined, fieldMappings: new Map(), placeholders: new Map(), logsource: "map" }

const IGNORED_KEYS = new Set(["title", "order", "backends", "logsources", "defaultindex"])

/** Parses a Sigma config file; the diagnostics are errors (the config is unusable when there is one). */
export const readSigmaConfig = (file: string, text: string): { readonly config: SigmaConfig } | { readonly errors: ReadonlyArray<Diagnostic> } => {
  const src = new SourceText(file, text)
  const errors: Array<Diagnostic> = []
  const error = (node: Node | null | undefined, message: string, fallback = 0) => {
    const loc = src.of(node, fallback)
    errors.push({ severity: "error", file, line: loc.line, column: loc.column, message, snippet: loc.snippet, reason: "Semantic" })
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const loc = src.at(e.pos[0])
    return {
      errors: [{ severity: "error", file, line: loc.line, column: loc.column, message: `invalid Sigma config: ${e.message.split("\n")[0]}`, snippet: loc.snippet, reason: "Yaml" }]
    }
  }
  const root = doc.contents
  if (!isMap(root)) return { errors: [{ severity: "error", file, line: 1, column: 1, message: "a Sigma config must be a mapping", reason: "Semantic" }] }
  const fieldMappings = new Map<string, { target: string; line: number; column: number }>()
  const placeholders = new Map<string, ReadonlyArray<string>>()
  let logsource: "map" | "ignore" = "map"
  const keyText = (p: Pair) => (isScalar(p.key) ? String(p.key.value) : "")
  const str = (n: unknown): string | undefined => (isScalar(n) && (typeof n.value === "string" || typeof n.value === "number") ? String(n.value) : undefined)
  for (const p of root.items) {
    const key = keyText(p)
    const value = p.value as Node | null
    if (key === "fieldmappings") {
      if (value === null) continue
      if (!isMap(value)) {
        error(value, "'fieldmappings' must be a mapping of Sigma field to target")
        continue
      }
      for (const m of value.items) {
        const field = keyText(m)
        const v = m.value as Node | null
        const target = isSeq(v) ? str(v.items[0]) : str(v)
        if (target === undefined || target.trim() === "") {
          error(v ?? (m.key as Node), `mapping of '${field}' must be a target name (or a list whose first item is one)`)
          continue
        }
        const at = src.of(v)
        fieldMappings.set(field, { target: target.trim(), line: at.line, column: at.column })
      }
    } else if (key === "placeholders") {
      if (!isMap(value)) {
        error(value ?? (p.key as Node), "'placeholders' must be a mapping of name to a list of values")
        continue
      }
      for (const m of value.items) {
        const v = m.value as Node | null
        const items = isSeq(v) ? v.items.map(str) : [str(v)]
        if (items.some((i) => i === undefined)) {
          error(v ?? (m.key as Node), `placeholder '${keyText(m)}' must be a value or a list of values`)
          continue
        }
        placeholders.set(keyText(m), items as Array<string>)
      }
    } else if (key === "logsource") {
      const v = str(value)
      if (v !== "ignore" && v !== "map") error(value ?? (p.key as Node), "'logsource' must be 'map' (default) or 'ignore'")
      else logsource = v
    } else if (!IGNORED_KEYS.has(key)) {
      error(p.key as Node, `unknown Sigma config key '${key}' (known: fieldmappings, placeholders, logsource; ignored: ${Array.from(IGNORED_KEYS).join(", ")})`)
    }
  }
  return errors.length > 0 ? { errors } : { config: { file, fieldMappings, placeholders, logsource } }
}
