/**
 * Compiling Sigma rules into the engine's compiled rules (`CompiledRule`), so that the rule set, the
 * evaluation, the outputs and the policy engine stage are the Falco dialect's.
 *
 * One compiled rule per `detection.condition` entry (as the reference): name = the rule id, desc = its
 * description, tags = its tags, priority from its level. The condition becomes a term of a
 * `PredicateGraph` (identical field tests of different rules are one node, evaluated at most once per
 * record), specialised per record type of the rule's logsource (SigmaLogsources) with the logsource's
 * operation test in front.
 *
 * A rule that cannot compile (unknown or unsupported field or modifier, bad condition, bad regular
 * expression or CIDR) is not loaded: its diagnostics are errors naming the rule and file:line:col. A rule
 * whose logsource SysFlow does not record is not loaded either, with a warning. The other rules load.
 */
import { Either } from "effect"
import type { FlatRecord, RecordType } from "../../../domain/flatRecord.js"
import { type Diagnostic, diagnosticAt, type SourcePos } from "../../../domain/policy/Diagnostic.js"
import type { SourceLocation } from "../../../domain/policy/PolicyAst.js"
import type { Priority, SigmaRuleInfo } from "../../../domain/policyEvent.js"
import type { CompiledRule } from "../PolicyCompiler.js"
import { PredicateGraph, type Term } from "../PredicateGraph.js"
import { alwaysFalse, goLower, type Pred, RecordMemo } from "../Predicates.js"
import { type CondExpr, parseCondition } from "./SigmaCondition.js"
import { EMPTY_SIGMA_CONFIG, type SigmaConfig } from "./SigmaConfig.js"
import { BUILTIN_FIELD_MAPPING, type FieldAccess, fieldAccess, KEYWORD_TARGETS, UNSUPPORTED_FIELDS } from "./SigmaFields.js"
import { ALL_RECORDS, type LogsourceScope, logsourceScope } from "./SigmaLogsources.js"
import type { FieldMatcher, Search, SigmaRule } from "./SigmaRule.js"
import { compileFieldValues, type ValueTest } from "./SigmaValues.js"

/** Sigma metadata carried by a compiled Sigma rule (the alerts carry the `SigmaRuleInfo` part). */
export interface SigmaMeta extends SigmaRuleInfo {
  readonly status: string | undefined
  /** What the logsource restricts the rule to (`process events with EXEC`, `every record`). */
  readonly scope: string
}

export interface SigmaCompiledRule extends CompiledRule {
  readonly sigma: SigmaMeta
}

export interface SigmaCompileOutput {
  readonly rules: ReadonlyArray<SigmaCompiledRule>
  /** Errors (rules not loaded) and warnings, in rule order. */
  readonly diagnostics: ReadonlyArray<Diagnostic>
  /** Rules not loaded because of an error, and because their logsource is not applicable. */
  readonly failed: number
  readonly notApplicable: number
  readonly memo: RecordMemo
}

const LEVELS: Readonly<Record<string, Priority>> = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 }

/** A compile error of one rule (the rule is not loaded). */
class RuleError extends Error {
  constructor(
    readonly loc: SourceLocation,
    message: string
  ) {
    super(message)
  }
}

const globToRegExp = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`)

export class SigmaCompiler {
  readonly memo = new RecordMemo()
  private readonly graph = new PredicateGraph(this.memo)
  private readonly diagnostics: Array<Diagnostic> = []
  private readonly pending: Array<{ rule: SigmaRule; byType: Partial<Record<RecordType, Term>>; scope: LogsourceScope }> = []
  private failed = 0
  private notApplicable = 0

  constructor(private readonly config: SigmaConfig = EMPTY_SIGMA_CONFIG) {}

  /** Adds a rule (all its conditions), or reports why it is not loaded. */
  add(rule: SigmaRule): void {
    const label = `rule '${rule.title}'${rule.id === "" ? "" : ` (${rule.id})`}`
    const mode = rule.logsourceOverride ?? this.config.logsource
    let scope: LogsourceScope = ALL_RECORDS
    if (mode === "map") {
      const s = logsourceScope(rule.logsource)
      if ("notApplicable" in s) {
        this.notApplicable++
        this.report("warning", rule.logsource.pos, `${label} not loaded: ${s.notApplicable}`)
        return
      }
      scope = s.scope
    }
    if (rule.level !== undefined && LEVELS[rule.level] === undefined) {
      this.report("warning", rule.pos, `${label}: unknown level '${rule.level}' (informational, low, medium, high, critical), priority 0`)
    }
    try {
      const searches = new Map<string, Term>()
      for (const [name, search] of rule.searches) searches.set(name, this.search(search))
      const conditions = rule.conditions.map((c) => {
        const parsed = parseCondition(c.text)
        if (Either.isLeft(parsed)) {
          throw new RuleError({ ...c.pos, column: c.pos.column + parsed.left.offset }, `condition: ${parsed.left.message}`)
        }
        return this.condition(parsed.right, searches, c.pos)
      })
      for (const cond of conditions) {
        const byType: Partial<Record<RecordType, Term>> = {}
        for (const t of scope.types) {
          const restrict = scope.tests[t]
          const term = this.graph.and([restrict === undefined ? true : this.graph.leaf(`scope|${restrict.key}`, () => restrict.test), cond])
          if (term !== false) byType[t] = term
        }
        this.pending.push({ rule, byType, scope })
      }
    } catch (e) {
      if (!(e instanceof RuleError)) throw e
      this.failed++
      this.report("error", e.loc, `${label} not loaded: ${e.message}`)
    }
  }

  /** The compiled rules of every rule added (call once, after the last `add`). */
  finish(): SigmaCompileOutput {
    for (const p of this.pending) for (const [t, term] of Object.entries(p.byType)) this.graph.root(term, t)
    this.graph.finish()
    const rules = this.pending.map(({ rule, byType, scope }, index): SigmaCompiledRule => {
      const conditionByType: Partial<Record<RecordType, Pred>> = {}
      for (const [t, term] of Object.entries(byType) as Array<[RecordType, Term]>) conditionByType[t] = this.graph.pred(term)
      const position: SourcePos = { file: rule.pos.file, line: rule.pos.line, column: rule.pos.column }
      return {
        name: rule.id === "" ? rule.title : rule.id,
        desc: rule.description,
        priority: LEVELS[rule.level ?? ""] ?? 0,
        tags: rule.tags,
        actions: [],
        prefilter: undefined,
        enabled: true,
        position,
        index,
        condition: (r: FlatRecord) => (conditionByType[r.type] ?? alwaysFalse)(r),
        conditionByType,
        sigma: { id: rule.id, title: rule.title, level: rule.level, status: rule.status, references: rule.references, scope: scope.description }
      }
    })
    return { rules, diagnostics: this.diagnostics, failed: this.failed, notApplicable: this.notApplicable, memo: this.memo }
  }

  private report(severity: "error" | "warning", loc: SourceLocation, message: string): void {
    this.diagnostics.push(diagnosticAt(severity, loc, message))
  }

  // -- conditions -----------------------------------------------------------------------------------

  private condition(e: CondExpr, searches: ReadonlyMap<string, Term>, at: SourceLocation): Term {
    const locate = (offset: number): SourceLocation => ({ ...at, column: at.column + offset })
    switch (e.kind) {
      case "and":
        return this.graph.and(e.operands.map((o) => this.condition(o, searches, at)))
      case "or":
        return this.graph.or(e.operands.map((o) => this.condition(o, searches, at)))
      case "not":
        return this.graph.not(this.condition(e.operand, searches, at))
      case "ref": {
        const t = searches.get(e.name)
        if (t === undefined) throw new RuleError(locate(e.offset), `condition names '${e.name}', which is not a search identifier of the rule`)
        return t
      }
      case "of": {
        const names = Array.from(searches.keys())
        const re = e.pattern === "them" ? undefined : globToRegExp(e.pattern)
        const picked = names.filter((n) => (re === undefined ? !n.startsWith("_") : re.test(n)))
        if (picked.length === 0) {
          throw new RuleError(locate(e.offset), `'${e.quantifier} of ${e.pattern}' matches no search identifier of the rule`)
        }
        const terms = picked.map((n) => searches.get(n)!)
        return e.quantifier === "all" ? this.graph.and(terms) : this.graph.or(terms)
      }
    }
  }

  // -- searches -------------------------------------------------------------------------------------

  private search(s: Search): Term {
    switch (s.kind) {
      case "map":
        return this.graph.and(s.matchers.map((m) => this.matcher(m)))
      case "anyOf":
        return this.graph.or(s.maps.map((m) => this.search(m)))
      case "keywords": {
        const spec = compileFieldValues(s.modifiers, s.values, { placeholders: this.config.placeholders, implicitContains: true })
        if (Either.isLeft(spec)) throw new RuleError(s.valuePos[spec.left.valueIndex ?? 0] ?? s.pos, `keywords: ${spec.left.message}`)
        if (spec.right.kind !== "values") throw new RuleError(s.pos, "keywords cannot be null or use 'exists'")
        const accesses = KEYWORD_TARGETS.map((t) => fieldAccess(t)!)
        const value = (alts: ReadonlyArray<ValueTest>): Term =>
          this.graph.or(alts.flatMap((v) => accesses.map((a) => this.valueLeaf(a, v, s.pos))))
        const vs = spec.right.values.map(value)
        return spec.right.all ? this.graph.and(vs) : this.graph.or(vs)
      }
    }
  }

  /** The access for a Sigma field: the config's mapping, else the built-in one. */
  private access(field: string, at: SourceLocation): FieldAccess {
    const mapped = this.config.fieldMappings.get(field)
    const target = mapped?.target ?? BUILTIN_FIELD_MAPPING.get(field)
    if (target === undefined) {
      const why = UNSUPPORTED_FIELDS.get(field)
      throw new RuleError(
        at,
        why !== undefined
          ? `field '${field}' has no SysFlow equivalent (${why})`
          : `field '${field}' is not in the Sigma Linux taxonomy SysFlow maps; map it in the Sigma config ('fieldmappings')`
      )
    }
    const a = fieldAccess(target)
    if (a === undefined) {
      const where = mapped !== undefined ? ` (${this.config.file}:${mapped.line}:${mapped.column})` : ""
      throw new RuleError(at, `field '${field}' is mapped to '${target}'${where}, which is not a SysFlow attribute`)
    }
    return a
  }

  private matcher(m: FieldMatcher): Term {
    if (m.field === "") throw new RuleError(m.pos, "a field matcher needs a field name")
    const access = this.access(m.field, m.pos)
    const spec = compileFieldValues(m.modifiers, m.values, { placeholders: this.config.placeholders })
    if (Either.isLeft(spec)) {
      const e = spec.left
      const at = e.valueIndex !== undefined ? m.valuePos[e.valueIndex] ?? m.pos : m.pos
      throw new RuleError(at, `${m.field}${m.modifiers.map((x) => `|${x}`).join("")}: ${e.message}`)
    }
    const s = spec.right
    const target = access.target
    switch (s.kind) {
      case "null":
        return this.graph.leaf(`null|${target}`, () => nullTest(access))
      case "exists": {
        const t = this.graph.leaf(`null|${target}`, () => nullTest(access))
        return s.exists ? this.graph.not(t) : t
      }
      case "values": {
        const vs = s.values.map((alts) => this.graph.or(alts.map((v) => this.valueLeaf(access, v, m.pos))))
        const t = s.all ? this.graph.and(vs) : this.graph.or(vs)
        return s.negate ? this.graph.not(t) : t
      }
    }
  }

  private valueLeaf(a: FieldAccess, v: ValueTest, at: SourceLocation): Term {
    switch (v.kind) {
      case "string": {
        const { test, cased } = v
        if (a.elements !== undefined) {
          const elements = a.elements
          return this.graph.leaf(`${a.target}|${v.key}`, () => (r) => {
            const es = elements(r)
            for (let i = 0; i < es.length; i++) if (test(cased ? es[i] : goLower(es[i]))) return true
            return false
          })
        }
        const memo = this.memo
        const slot = memo.slot(a.target, a.str)
        return this.graph.leaf(`${a.target}|${v.key}`, () => (cased ? (r) => test(memo.str(slot, r)) : (r) => test(memo.lower(slot, r))))
      }
      case "number": {
        const { test } = v
        if (a.elements !== undefined) {
          const elements = a.elements
          return this.graph.leaf(`${a.target}|${v.key}`, () => (r) => elements(r).some((e) => test(Number(e))))
        }
        const num = a.num
        return this.graph.leaf(`${a.target}|${v.key}`, () => (r) => test(num(r)))
      }
      case "fieldref": {
        const other = this.access(v.field, at)
        const fold = v.cased ? (s: string) => s : goLower
        const op = v.op
        const left = a.str
        const right = other.str
        return this.graph.leaf(`${a.target}|ref${op}${v.cased ? "C" : "i"}|${other.target}`, () => (r) => {
          const l = fold(left(r))
          const x = fold(right(r))
          return op === "eq" ? l === x : op === "contains" ? l.includes(x) : op === "startswith" ? l.startsWith(x) : l.endsWith(x)
        })
      }
    }
  }
}

const nullTest = (a: FieldAccess): Pred => {
  const elements = a.elements
  const str = a.str
  return elements !== undefined ? (r) => elements(r).length === 0 : (r) => str(r) === ""
}

/** Compiles rules with a config (see `SigmaCompiler`). */
export const compileSigmaRules = (rules: ReadonlyArray<SigmaRule>, config: SigmaConfig = EMPTY_SIGMA_CONFIG): SigmaCompileOutput => {
  const c = new SigmaCompiler(config)
  for (const r of rules) c.add(r)
  return c.finish()
}
