/**
 * Reading a Sigma rule file (YAML) into a `SigmaRule`, keeping node positions (policy-language.md §10,
 * Sigma rules specification v2). A file that is not one YAML document holding a rule is rejected with a
 * diagnostic at `file:line:col`; the caller skips it (the reference logged and skipped such files) and
 * reports it. A Sigma *configuration* file found among the rules (it has `fieldmappings` and no
 * `detection`) is recognised and reported as not applied: only the file named by `config` applies.
 */
import { isMap, isScalar, isSeq, type Node, parseAllDocuments, type Pair, type YAMLMap } from "yaml"
import { type Diagnostic, diagnosticAt } from "../../../domain/policy/Diagnostic.js"
import type { SourceLocation } from "../../../domain/policy/PolicyAst.js"
import type { FieldMatcher, Search, SigmaConditionText, SigmaLogsource, SigmaRule, SigmaScalar } from "./SigmaRule.js"

/** Positions in one file: 1-based line and column (UTF-16 units), with the line's text. */
export class SourceText {
  private readonly lines: ReadonlyArray<string>

  constructor(
    readonly file: string,
    readonly text: string
  ) {
    this.lines = text.split("\n")
  }

  at(offset: number): SourceLocation {
    let rest = Math.max(0, Math.min(offset, this.text.length))
    let line = 0
    while (line < this.lines.length - 1 && rest > this.lines[line].length) {
      rest -= this.lines[line].length + 1
      line++
    }
    const snippet = this.lines[line]?.replace(/\r$/, "")
    return { file: this.file, line: line + 1, column: rest + 1, snippet }
  }

  of(node: Node | null | undefined, fallback = 0): SourceLocation {
    return this.at(node?.range?.[0] ?? fallback)
  }
}

export type ReadOutcome =
  | { readonly kind: "rule"; readonly rule: SigmaRule; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly kind: "config"; readonly diagnostics: ReadonlyArray<Diagnostic> }
  | { readonly kind: "invalid"; readonly diagnostics: ReadonlyArray<Diagnostic> }


/** Thrown inside the reader to abandon the file at a node. */
class Invalid extends Error {
  constructor(
    readonly loc: SourceLocation,
    message: string
  ) {
    super(message)
  }
}

const scalarText = (v: unknown): SigmaScalar | undefined => {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v
  if (typeof v === "number") return v
  if (typeof v === "bigint") return Number(v)
  return undefined
}

/** The key string of a pair (keys are scalars in Sigma). */
const keyOf = (p: Pair): string => {
  const k = isScalar(p.key) ? p.key.value : p.key
  return k === null || k === undefined ? "" : String(k)
}

/**
 * Reads one Sigma rule file. `invalid` carries the reason (file:line:col); the caller decides whether the
 * file is skipped (the reference's behaviour, kept, always reported).
 */
export const readSigmaFile = (file: string, text: string): ReadOutcome => {
  const src = new SourceText(file, text)
  const docs = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false })
  const list = Array.isArray(docs) ? docs : [docs]
  for (const d of list) {
    const e = d.errors[0]
    if (e !== undefined) {
      const message = e.code === "DUPLICATE_KEY" ? "invalid YAML: duplicate key" : `invalid YAML: ${e.message.split("\n")[0]}`
      return { kind: "invalid", diagnostics: [diagnosticAt("error", src.at(e.pos[0]), `${message}; file skipped`)] }
    }
  }
  const nonEmpty = list.filter((d) => d.contents !== null)
  if (nonEmpty.length === 0) return { kind: "invalid", diagnostics: [diagnosticAt("error", src.at(0), "empty file; file skipped")] }
  if (nonEmpty.length > 1) {
    return {
      kind: "invalid",
      diagnostics: [
        diagnosticAt("error", src.of(nonEmpty[1].contents), "several YAML documents (rule collections or correlation rules) are not supported; file skipped")
      ]
    }
  }
  const root = nonEmpty[0].contents
  if (!isMap(root)) return { kind: "invalid", diagnostics: [diagnosticAt("error", src.of(root), "a Sigma rule must be a mapping; file skipped")] }
  const has = (k: string) => root.items.some((p) => keyOf(p) === k)
  if (!has("detection") && (has("fieldmappings") || has("backends"))) {
    return {
      kind: "config",
      diagnostics: [
        diagnosticAt("warning", src.of(root), "a Sigma configuration file among the rules is not a rule and is not applied; name it with the policy engine's 'config' key")
      ]
    }
  }
  try {
    const warnings: Array<Diagnostic> = []
    const rule = new RuleReader(src, warnings).rule(root)
    return { kind: "rule", rule, diagnostics: warnings }
  } catch (e) {
    if (e instanceof Invalid) return { kind: "invalid", diagnostics: [diagnosticAt("error", e.loc, `${e.message}; file skipped`)] }
    throw e
  }
}

class RuleReader {
  constructor(
    private readonly src: SourceText,
    private readonly warnings: Array<Diagnostic>
  ) {}

  private invalid(node: Node | null | undefined, message: string): never {
    throw new Invalid(this.src.of(node), message)
  }

  private field(root: YAMLMap, key: string): Pair | undefined {
    return root.items.find((p) => keyOf(p) === key) as Pair | undefined
  }

  private text(root: YAMLMap, key: string, required: boolean): string | undefined {
    const p = this.field(root, key)
    if (p === undefined) {
      if (required) this.invalid(root, `missing '${key}'`)
      return undefined
    }
    const v = p.value as Node | null
    if (!isScalar(v) || v.value === null || typeof v.value === "object") this.invalid(v ?? (p.key as Node), `'${key}' must be a string`)
    return String(v.value)
  }

  private strings(root: YAMLMap, key: string): ReadonlyArray<string> {
    const p = this.field(root, key)
    if (p === undefined) return []
    const v = p.value as Node | null
    if (v === null || (isScalar(v) && v.value === null)) return []
    if (!isSeq(v)) this.invalid(v, `'${key}' must be a list`)
    return v.items.map((it) => {
      if (!isScalar(it) || it.value === null || typeof it.value === "object") this.invalid(it as Node, `'${key}' items must be strings`)
      return String(it.value)
    })
  }

  rule(root: YAMLMap): SigmaRule {
    const pos = this.src.of(root)
    const title = this.text(root, "title", true)!
    const id = this.text(root, "id", false) ?? ""
    const logsource = this.logsource(root)
    const detectionPair = this.field(root, "detection")
    if (detectionPair === undefined) this.invalid(root, "missing 'detection'")
    const detection = detectionPair.value as Node | null
    if (!isMap(detection)) this.invalid(detection ?? (detectionPair.key as Node), "'detection' must be a mapping")
    const searches = new Map<string, Search>()
    let conditions: Array<SigmaConditionText> | undefined
    for (const p of detection.items) {
      const name = keyOf(p)
      const value = p.value as Node | null
      if (name === "condition") conditions = this.conditions(value, p)
      else if (name === "timeframe") this.invalid(p.key as Node, "'timeframe' (aggregation over time) is not supported")
      else searches.set(name, this.search(value, p))
    }
    if (conditions === undefined) this.invalid(detection, "missing 'detection.condition'")
    return {
      file: this.src.file,
      title,
      id,
      description: this.text(root, "description", false) ?? "",
      level: this.text(root, "level", false),
      tags: this.strings(root, "tags"),
      references: this.strings(root, "references"),
      status: this.text(root, "status", false),
      logsource,
      searches,
      conditions,
      logsourceOverride: this.override(root),
      pos
    }
  }

  private logsource(root: YAMLMap): SigmaLogsource {
    const p = this.field(root, "logsource")
    if (p === undefined) this.invalid(root, "missing 'logsource'")
    const v = p.value as Node | null
    if (!isMap(v)) this.invalid(v ?? (p.key as Node), "'logsource' must be a mapping")
    return {
      category: this.text(v, "category", false),
      product: this.text(v, "product", false),
      service: this.text(v, "service", false),
      pos: this.src.of(p.key as Node)
    }
  }

  /** `sysflow: { logsource: ignore | map }` (sfprocessor extension). */
  private override(root: YAMLMap): "ignore" | "map" | undefined {
    const p = this.field(root, "sysflow")
    if (p === undefined) return undefined
    const v = p.value as Node | null
    if (!isMap(v)) this.invalid(v ?? (p.key as Node), "'sysflow' must be a mapping")
    const mode = this.text(v, "logsource", false)
    if (mode === undefined) return undefined
    if (mode !== "ignore" && mode !== "map") this.invalid(this.field(v, "logsource")!.value as Node, "'sysflow.logsource' must be 'ignore' or 'map'")
    return mode
  }

  private conditions(value: Node | null, p: Pair): Array<SigmaConditionText> {
    const one = (n: Node | null): SigmaConditionText => {
      if (!isScalar(n) || typeof n.value !== "string") this.invalid(n ?? (p.key as Node), "'condition' must be a string or a list of strings")
      const at = this.src.of(n)
      // Quoted scalars start one column before their text.
      const quoted = n.type === "QUOTE_DOUBLE" || n.type === "QUOTE_SINGLE"
      return { text: n.value, pos: quoted ? { ...at, column: at.column + 1 } : at }
    }
    if (isSeq(value)) {
      if (value.items.length === 0) this.invalid(value, "'condition' is an empty list")
      return value.items.map((it) => one(it as Node))
    }
    return [one(value)]
  }

  private search(value: Node | null, p: Pair): Search {
    const pos = this.src.of(p.key as Node)
    if (isMap(value)) {
      // `'|all': [...]` under a search name: keywords that must all appear (specification, keyword search).
      if (value.items.length === 1 && keyOf(value.items[0]).startsWith("|")) {
        const mods = keyOf(value.items[0]).slice(1).split("|")
        const vs = this.values(value.items[0].value as Node | null, value.items[0])
        return { kind: "keywords", modifiers: mods, values: vs.values, valuePos: vs.pos, pos }
      }
      return { kind: "map", matchers: this.matchers(value), pos }
    }
    if (isSeq(value)) {
      if (value.items.length > 0 && value.items.every((it) => isMap(it))) {
        return { kind: "anyOf", maps: value.items.map((it) => ({ kind: "map", matchers: this.matchers(it as YAMLMap), pos: this.src.of(it as Node) })), pos }
      }
      if (value.items.some((it) => isMap(it) || isSeq(it))) this.invalid(value, `search '${keyOf(p)}' mixes maps and values`)
      const vs = this.values(value, p)
      return { kind: "keywords", modifiers: [], values: vs.values, valuePos: vs.pos, pos }
    }
    if (isScalar(value) && value.value !== null) {
      const vs = this.values(value, p)
      return { kind: "keywords", modifiers: [], values: vs.values, valuePos: vs.pos, pos }
    }
    return this.invalid(value ?? (p.key as Node), `search '${keyOf(p)}' must be a mapping, a list of mappings or a list of values`)
  }

  private matchers(map: YAMLMap): ReadonlyArray<FieldMatcher> {
    return map.items.map((p): FieldMatcher => {
      const [field, ...modifiers] = keyOf(p).split("|")
      const vs = this.values(p.value as Node | null, p)
      return { field, modifiers, values: vs.values, pos: this.src.of(p.key as Node), valuePos: vs.pos }
    })
  }

  private values(value: Node | null, p: Pair): { values: Array<SigmaScalar>; pos: Array<SourceLocation> } {
    const at = this.src.of(p.key as Node)
    const one = (n: Node | null): SigmaScalar => {
      if (n === null) return null
      if (!isScalar(n)) this.invalid(n, "a value must be a string, a number, a boolean or null")
      const v = scalarText(n.value)
      if (v === undefined) this.invalid(n, "a value must be a string, a number, a boolean or null")
      return v
    }
    if (isSeq(value)) {
      if (value.items.length === 0) {
        this.warnings.push(diagnosticAt("warning", at, `'${keyOf(p)}' has an empty list of values: it never matches`))
      }
      return { values: value.items.map((it) => one(it as Node)), pos: value.items.map((it) => this.src.of(it as Node)) }
    }
    return { values: [one(value)], pos: [value === null ? at : this.src.of(value)] }
  }
}
