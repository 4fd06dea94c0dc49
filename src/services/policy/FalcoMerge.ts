/**
 * Falco's rule-file semantics across files, resolved before compiling (Falco rule-file format: rules,
 * macros and lists with `append` / `override`, redefinition, `exceptions`, `source`, plugins).
 *
 * Falco loads every file, then compiles: a list or macro has one final value wherever it is used, so an
 * `append` in a later file (the usual local-rules file) changes the rules of an earlier one. Here each
 * append / override / Falco redefinition is folded into every earlier definition of that name, so the
 * compiler's positional visibility (§5.1, kept for our own dialect) sees the final value.
 *
 * * `append: true` or `override: {key: append|replace}` on a rule, macro or list changes the current
 *   definition (an error when there is none, as in Falco). A rule item with only `enabled` is Falco's
 *   short form of `override: {enabled: replace}`.
 * * A rule, macro or list defined again in a Falco-dialect file replaces the earlier definition, with a
 *   warning (the rule keeps its place in rule order); list and macro definitions in our dialect's files
 *   keep their positional meaning (§5.1). In our dialect both rules stay (Q23).
 * * `exceptions` become `(<condition>) and not (<exception>) and not (…)` as Falco builds them.
 * * A rule whose `source` is not `syscall` never applies to SysFlow data: it stays listed, inactive, with
 *   a warning; so do plugins other than `container` named by `required_plugin_versions`.
 */
import { type Diagnostic, diagnosticAt } from "../../domain/policy/Diagnostic.js"
import type {
  Condition,
  ConditionText,
  ExceptionSpec,
  ExceptionValue,
  ListItem,
  MacroItem,
  PatchItem,
  PolicyFile,
  PolicyItem,
  RuleItem,
  SourceLocation
} from "../../domain/policy/PolicyAst.js"
import { parseCondition } from "./ConditionParser.js"

/** Plugins whose data SysFlow records carry: `container` (container.* fields). */
export const PROVIDED_PLUGINS: ReadonlySet<string> = new Set(["container"])

/** The event source SysFlow data answers. */
export const SYSFLOW_SOURCE = "syscall"

export interface MergeOutput {
  readonly files: ReadonlyArray<PolicyFile>
  readonly errors: ReadonlyArray<Diagnostic>
  readonly warnings: ReadonlyArray<Diagnostic>
}

const where = (p: SourceLocation): string => `${p.file}:${p.line}:${p.column}`


/** Pieces of condition text joined into one, each offset mapped back into its own piece. */
const joinText = (pieces: ReadonlyArray<ConditionText | string>, fallback: SourceLocation): ConditionText => {
  let text = ""
  const spans: Array<{ start: number; end: number; piece: ConditionText }> = []
  for (const p of pieces) {
    if (typeof p === "string") text += p
    else {
      spans.push({ start: text.length, end: text.length + p.text.length, piece: p })
      text += p.text
    }
  }
  return {
    text,
    locate: (offset) => {
      for (const s of spans) if (offset >= s.start && offset <= s.end) return s.piece.locate(offset - s.start)
      return fallback
    }
  }
}

/** A value as a condition atom: bare when the grammar reads it as one word, else double-quoted. */
const quoteValue = (v: string): string => (/^[A-Za-z0-9_./:*-]+$/.test(v) ? v : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)

const LIST_COMPS: ReadonlySet<string> = new Set(["in", "intersects", "pmatch"])

/** One exception as Falco writes it into the condition; undefined when it has no values. */
const exceptionText = (ex: ExceptionSpec, report: (m: string) => void): string | undefined => {
  if (ex.values.length === 0) return undefined
  const listOf = (v: ExceptionValue): string =>
    typeof v === "string" ? (v.startsWith("(") ? v : `(${quoteValue(v)})`) : `(${v.map((x) => (typeof x === "string" ? quoteValue(x) : listOf(x))).join(", ")})`
  if (typeof ex.fields === "string") {
    const comp = typeof ex.comps === "string" ? ex.comps : "in"
    const values = ex.values.map((v) => (typeof v === "string" ? quoteValue(v) : listOf(v))).join(", ")
    return `(${ex.fields} ${comp} (${values}))`
  }
  const fields = ex.fields ?? []
  if (fields.length === 0) {
    report(`exception '${ex.name}' has values but no fields`)
    return undefined
  }
  const comps = typeof ex.comps === "string" ? [ex.comps] : (ex.comps ?? fields.map(() => "="))
  if (comps.length !== fields.length) {
    report(`exception '${ex.name}': ${fields.length} fields but ${comps.length} comps`)
    return undefined
  }
  const tuples: Array<string> = []
  for (const tuple of ex.values) {
    if (typeof tuple === "string" || tuple.length !== fields.length) {
      report(`exception '${ex.name}': each value must be a sequence of ${fields.length} values (one per field)`)
      return undefined
    }
    const parts = fields.map((f, k) => {
      const v = tuple[k]
      const operand = typeof v !== "string" || LIST_COMPS.has(comps[k]) ? listOf(v) : quoteValue(v)
      return `${f} ${comps[k]} ${operand}`
    })
    tuples.push(`(${parts.join(" and ")})`)
  }
  return tuples.join(" or ")
}

const mergeExceptions = (base: ReadonlyArray<ExceptionSpec>, more: ReadonlyArray<ExceptionSpec>): Array<ExceptionSpec> => {
  const out = base.slice()
  for (const ex of more) {
    const i = out.findIndex((e) => e.name === ex.name)
    if (i < 0) out.push(ex)
    else out[i] = { ...out[i], values: [...out[i].values, ...ex.values] }
  }
  return out
}

type Slot = { readonly file: number; readonly index: number }

class Merger {
  readonly errors: Array<Diagnostic> = []
  readonly warnings: Array<Diagnostic> = []
  /** Items per file, replaced in place; `undefined` where an item was folded into another. */
  readonly items: Array<Array<PolicyItem | undefined>>
  /** Every definition of a list or macro (`list:name`), in load order. */
  private readonly definitions = new Map<string, Array<Slot>>()
  /** The slot a rule name lives in (the first definition, where redefinitions and patches land). */
  private readonly rules = new Map<string, Slot>()
  /** Rules whose condition must be rebuilt (appended condition, exceptions). */
  private readonly conditions = new Map<RuleItem, ConditionText>()

  constructor(private readonly files: ReadonlyArray<PolicyFile>) {
    this.items = files.map((f) => f.items.slice())
  }

  private get(s: Slot): PolicyItem | undefined {
    return this.items[s.file][s.index]
  }

  private set(s: Slot, item: PolicyItem | undefined): void {
    this.items[s.file][s.index] = item
  }

  run(): void {
    this.files.forEach((file, fi) => {
      const falco = file.dialect === "falco"
      file.items.forEach((item, ii) => {
        const slot = { file: fi, index: ii }
        switch (item.kind) {
          case "list":
          case "macro":
            this.define(item, slot, falco)
            break
          case "rule":
            this.rule({ ...item, dialect: file.dialect ?? "sysflow" }, slot, falco)
            break
          case "patch":
            this.set(slot, undefined)
            this.patch(item)
            break
          case "required_plugin_versions":
            for (const p of item.plugins) {
              if (!PROVIDED_PLUGINS.has(p.name)) {
                this.warnings.push(
                  diagnosticAt("warning", p.pos, `plugin '${p.name}' is not available with SysFlow data: rules that need its event source or its fields stay inactive`)
                )
              }
            }
            break
          default:
            break
        }
      })
    })
    this.finishRules()
  }

  private define(item: ListItem | MacroItem, slot: Slot, falco: boolean): void {
    const key = `${item.kind}:${item.name}`
    const defs = this.definitions.get(key) ?? []
    if (defs.length > 0 && falco) {
      const first = this.get(defs[0])!
      // Definitions in our dialect's files keep their positional meaning for the rules that see them.
      const falcoDefs = defs.filter((d) => this.files[d.file].dialect === "falco")
      const scope = falcoDefs.length === defs.length ? "everywhere" : "in Falco files (our dialect's files keep theirs)"
      this.warnings.push(
        diagnosticAt("warning", item.pos, `${item.kind} '${item.name}' is defined again (first at ${where(first.pos)}): as in Falco, this definition replaces it ${scope}`)
      )
      for (const d of falcoDefs) this.set(d, { ...item, pos: this.get(d)!.pos })
    }
    defs.push(slot)
    this.definitions.set(key, defs)
  }

  private rule(item: RuleItem, slot: Slot, falco: boolean): void {
    const at = this.rules.get(item.name)
    if (at === undefined || !falco) {
      this.set(slot, item)
      if (at === undefined) this.rules.set(item.name, slot)
      return
    }
    const first = this.get(at) as RuleItem
    this.warnings.push(
      diagnosticAt("warning", item.pos, `rule '${item.name}' is defined again (first at ${where(first.pos)}): as in Falco, this definition replaces it (keeping its place in rule order)`)
    )
    this.set(at, item)
    this.set(slot, undefined)
  }

  private patch(p: PatchItem): void {
    const how = p.via
    if (p.target === "rule") {
      const at = this.rules.get(p.name)
      if (at === undefined) {
        this.errors.push(diagnosticAt("error", p.pos, `rule '${p.name}' has '${how}' but no rule by that name is defined before it`))
        return
      }
      this.set(at, this.patchRule(this.get(at) as RuleItem, p))
      return
    }
    const defs = this.definitions.get(`${p.target}:${p.name}`)
    if (defs === undefined || defs.length === 0) {
      this.errors.push(diagnosticAt("error", p.pos, `${p.target} '${p.name}' has '${how}' but no ${p.target} by that name is defined before it`))
      return
    }
    const current = this.get(defs[defs.length - 1]) as ListItem | MacroItem
    let merged: ListItem | MacroItem | undefined
    if (current.kind === "list") {
      const items = p.modes.get("items") === "replace" ? (p.items ?? []) : [...current.items, ...(p.items ?? [])]
      merged = { ...current, items }
    } else {
      const text = p.modes.get("condition") === "replace" ? p.condition! : joinText([current.condition, " ", p.condition!], p.pos)
      const condition = this.parse(text)
      if (condition !== undefined) merged = { ...current, condition }
    }
    if (merged !== undefined) for (const d of defs) this.set(d, { ...merged, pos: this.get(d)!.pos })
  }

  private patchRule(rule: RuleItem, p: PatchItem): RuleItem {
    const mode = (k: string) => p.modes.get(k)
    let condition = this.conditions.get(rule)
    const cond = mode("condition")
    if (cond !== undefined && p.condition !== undefined) {
      condition = cond === "replace" ? p.condition : joinText([condition ?? rule.condition, " ", p.condition], p.pos)
    }
    const text = (k: "desc" | "output", v: string | undefined): string | undefined =>
      v === undefined ? rule[k] : mode(k) === "append" ? `${rule[k] ?? ""} ${v}`.trim() : v
    const exc = mode("exceptions")
    const out: RuleItem = {
      ...rule,
      exceptions: exc === undefined ? rule.exceptions : exc === "replace" ? (p.exceptions ?? []) : mergeExceptions(rule.exceptions ?? [], p.exceptions ?? []),
      desc: mode("desc") === undefined ? rule.desc : (text("desc", p.desc) ?? rule.desc),
      output: mode("output") === undefined ? rule.output : text("output", p.output),
      tags: mode("tags") === undefined || p.tags === undefined ? rule.tags : mode("tags") === "append" ? [...rule.tags, ...p.tags] : p.tags,
      priority: mode("priority") === undefined || p.priority === undefined ? rule.priority : p.priority,
      enabled: mode("enabled") === undefined || p.enabled === undefined ? rule.enabled : p.enabled
    }
    if (condition !== undefined) this.conditions.set(out, condition)
    return out
  }

  private parse(text: ConditionText): Condition | undefined {
    const parsed = parseCondition(text.text, { falco: true }) // appends and exceptions: Falco's
    if (parsed._tag === "Left") {
      this.errors.push({ ...diagnosticAt("error", text.locate(parsed.left.offset), parsed.left.message), reason: "Syntax" })
      return undefined
    }
    return { ...text, expr: parsed.right }
  }

  /** Exceptions into conditions, appended conditions parsed, inactive sources marked. */
  private finishRules(): void {
    for (const slot of this.rules.values()) {
      let rule = this.get(slot) as RuleItem
      const appended = this.conditions.get(rule)
      const exceptions = (rule.exceptions ?? []).flatMap((ex) => {
        const t = exceptionText(ex, (m) => this.errors.push(diagnosticAt("error", ex.pos, m)))
        return t === undefined ? [] : [{ ex, t }]
      })
      if (appended !== undefined || exceptions.length > 0) {
        const base = appended ?? rule.condition
        const pieces: Array<ConditionText | string> = exceptions.length === 0 ? [base] : ["(", base, ")"]
        for (const { ex, t } of exceptions) pieces.push(" and not (", { text: t, locate: () => ex.pos }, ")")
        const condition = this.parse(joinText(pieces, rule.pos))
        if (condition !== undefined) rule = { ...rule, condition }
      }
      if (rule.source !== undefined && rule.source !== SYSFLOW_SOURCE) {
        const why = `its source is '${rule.source}'; only '${SYSFLOW_SOURCE}' rules apply to SysFlow data`
        this.warnings.push(diagnosticAt("warning", rule.pos, `rule '${rule.name}' is inactive: ${why}`))
        rule = { ...rule, inactive: why }
      }
      this.set(slot, rule)
    }
  }
}

/** Resolves Falco's append, override, redefinition, exceptions and sources across files (load order). */
export const mergeFalcoItems = (files: ReadonlyArray<PolicyFile>): MergeOutput => {
  const m = new Merger(files)
  m.run()
  return {
    files: files.map((f, i) => ({ ...f, items: m.items[i].filter((x): x is PolicyItem => x !== undefined) })),
    errors: m.errors,
    warnings: m.warnings
  }
}
