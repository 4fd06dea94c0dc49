/**
 * The policy library surface (policy-language.md §2, §8.2): compile policy sources into a
 * `CompiledPolicySet`, load one from a path, and evaluate records against it.
 *
 * ```ts
 * const set = yield* loadPolicies("resources/policies/runtimeintegrity")
 * const { dropped, matches } = evaluate(set, record)
 * ```
 *
 * Evaluation (§8.2): enabled filters first — if any is true the record is dropped; then every enabled
 * rule whose prefilter accepts the record type, in rule order, no first-match stop. Rules and filters
 * are pre-indexed by record type, so a record only meets the ones that can match it. Pure and
 * synchronous: no Effect on the hot path.
 */
import { Effect, Either } from "effect"
import type { FlatRecord, RecordType } from "../../domain/flatRecord.js"
import { type Diagnostic, type PolicyError, policyError } from "../../domain/policy/Diagnostic.js"
import type { PolicyFile } from "../../domain/policy/PolicyAst.js"
import {
  type CompiledFilter,
  type CompiledRule,
  type CompileOptions,
  compilePolicyFiles,
  RECORD_TYPES
} from "./PolicyCompiler.js"
import { mergeFalcoItems } from "./FalcoMerge.js"
import { type PolicySource, readPolicyFile, readPolicySources } from "./PolicyLoader.js"
import type { Pred, RecordMemo } from "./Predicates.js"

export type { CompiledFilter, CompiledRule, CompileOptions } from "./PolicyCompiler.js"
export type { PolicySource } from "./PolicyLoader.js"
export { listPolicyFiles } from "./PolicyLoader.js"

/**
 * Guard dispatch for one record type: each guard (`attr = const` / `attr in (consts)` required by a
 * rule) is decided for all rules at once by looking the record's value up in a table, and a rule's
 * condition runs only when all its guards hold.
 */
interface Dispatch {
  /** Memo slots to look up, and per slot: value → ids of the guards it satisfies. */
  readonly slots: ReadonlyArray<number>
  readonly tables: ReadonlyArray<ReadonlyMap<string, Int32Array>>
  /** Guard id → positions (in `rules`) of the rules that require it (once per occurrence). */
  readonly guardRules: ReadonlyArray<Int32Array>
  /** Rule position → number of guards it requires (0: always evaluated). */
  readonly need: Int32Array
  // per-record scratch, stamped with `gen`
  readonly guardStamp: Float64Array
  readonly haveStamp: Float64Array
  readonly have: Int32Array
  gen: number
}

/** What one record type meets: its enabled filters, then its enabled rules in rule order. */
export interface TypeIndex {
  readonly filters: ReadonlyArray<Pred>
  readonly rules: ReadonlyArray<CompiledRule>
  /** `conditions[i]` is `rules[i]`'s condition specialised for this type. */
  readonly conditions: ReadonlyArray<Pred>
  readonly dispatch: Dispatch | undefined
}

export interface CompiledPolicySet {
  /** The files compiled, in load order. */
  readonly files: ReadonlyArray<string>
  /** Every rule in rule order, disabled ones included. */
  readonly rules: ReadonlyArray<CompiledRule>
  /** Every filter (`filter:` / `drop:`) in order, disabled ones included. */
  readonly filters: ReadonlyArray<CompiledFilter>
  /** Compile warnings, in discovery order (log at Warn; `-test` prints them all). */
  readonly warnings: ReadonlyArray<Diagnostic>
  readonly ruleCount: number
  /** Enabled rules. */
  readonly enabledRuleCount: number
  /** Rules with a `prefilter`. */
  readonly prefilterCount: number
  readonly filterCount: number
  /** `macro` and `list` items loaded (definitions, redefinitions included). */
  readonly macroCount: number
  readonly listCount: number
  /** Per record type: what a record of that type is evaluated against. */
  readonly index: Readonly<Record<RecordType, TypeIndex>>
  /** The per-record attribute memo shared by the compiled conditions (internal). */
  readonly memo: RecordMemo
}

export interface Evaluation {
  /** True when an enabled filter matched: the record is not emitted and no action runs. */
  readonly dropped: boolean
  /** Matched rules in rule order (duplicates kept, Q23); empty when dropped or nothing matched. */
  readonly matches: ReadonlyArray<CompiledRule>
}

const noMatches: ReadonlyArray<CompiledRule> = Object.freeze([])
const DROPPED: Evaluation = Object.freeze({ dropped: true, matches: noMatches })
const NO_MATCH: Evaluation = Object.freeze({ dropped: false, matches: noMatches })

const buildDispatch = (t: RecordType, rules: ReadonlyArray<CompiledRule>): Dispatch | undefined => {
  const guardIds = new Map<string, number>()
  const guardRules: Array<Array<number>> = []
  const slotTables = new Map<number, Map<string, Array<number>>>()
  const need = new Int32Array(rules.length)
  rules.forEach((rule, pos) => {
    for (const g of rule.guardsByType[t] ?? []) {
      const key = `${g.slot}\u0000${g.values.join("\u0000")}`
      let id = guardIds.get(key)
      if (id === undefined) {
        id = guardRules.length
        guardIds.set(key, id)
        guardRules.push([])
        let table = slotTables.get(g.slot)
        if (table === undefined) slotTables.set(g.slot, (table = new Map()))
        for (const v of g.values) {
          const ids = table.get(v)
          if (ids === undefined) table.set(v, [id])
          else ids.push(id)
        }
      }
      guardRules[id].push(pos)
      need[pos]++
    }
  })
  if (guardRules.length === 0) return undefined
  const slots = Array.from(slotTables.keys())
  return {
    slots,
    tables: slots.map((s) => new Map(Array.from(slotTables.get(s)!, ([v, ids]) => [v, Int32Array.from(ids)]))),
    guardRules: guardRules.map((ps) => Int32Array.from(ps)),
    need,
    guardStamp: new Float64Array(guardRules.length),
    haveStamp: new Float64Array(rules.length),
    have: new Int32Array(rules.length),
    gen: 0
  }
}

const buildIndex = (
  rules: ReadonlyArray<CompiledRule>,
  filters: ReadonlyArray<CompiledFilter>
): Readonly<Record<RecordType, TypeIndex>> => {
  const index = {} as Record<RecordType, TypeIndex>
  for (const t of RECORD_TYPES) {
    const fs: Array<Pred> = []
    for (const f of filters) {
      const p = f.conditionByType[t]
      if (p !== undefined) fs.push(p)
    }
    const rs: Array<CompiledRule> = []
    const cs: Array<Pred> = []
    for (const r of rules) {
      const p = r.conditionByType[t]
      if (p !== undefined) {
        rs.push(r)
        cs.push(p)
      }
    }
    index[t] = { filters: fs, rules: rs, conditions: cs, dispatch: buildDispatch(t, rs) }
  }
  return index
}

/** A rule set from compiled rules and filters (also used for Sigma rule sets, sigma/SigmaPolicySet.ts). */
export const makeSet = (
  files: ReadonlyArray<string>,
  rules: ReadonlyArray<CompiledRule>,
  filters: ReadonlyArray<CompiledFilter>,
  warnings: ReadonlyArray<Diagnostic>,
  macroCount: number,
  listCount: number,
  memo: RecordMemo
): CompiledPolicySet => ({
  files,
  rules,
  filters,
  warnings,
  ruleCount: rules.length,
  enabledRuleCount: rules.filter((r) => r.enabled).length,
  prefilterCount: rules.filter((r) => r.prefilter !== undefined).length,
  filterCount: filters.length,
  macroCount,
  listCount,
  index: buildIndex(rules, filters),
  memo
})

/**
 * Compiles policy sources (in load order) into a rule set. Pure. Any error in any file fails the whole
 * set (§2); the error carries every error diagnostic and the warnings found so far.
 */
export const compilePolicies = (
  sources: ReadonlyArray<PolicySource>,
  options: CompileOptions = {}
): Either.Either<CompiledPolicySet, PolicyError> => {
  const files: Array<PolicyFile> = []
  const errors: Array<Diagnostic> = []
  const warnings: Array<Diagnostic> = []
  for (const s of sources) {
    const r = readPolicyFile(s.path, s.text)
    files.push(r.file)
    errors.push(...r.errors)
    warnings.push(...r.warnings)
  }
  if (errors.length > 0) return Either.left(policyError(errors, warnings))
  const merged = mergeFalcoItems(files)
  warnings.push(...merged.warnings)
  if (merged.errors.length > 0) return Either.left(policyError(merged.errors, warnings))
  const out = compilePolicyFiles(merged.files, options)
  warnings.push(...out.warnings)
  if (out.errors.length > 0) return Either.left(policyError(out.errors, warnings))
  return Either.right(
    makeSet(
      sources.map((s) => s.path),
      out.rules,
      out.filters,
      warnings,
      out.macroCount,
      out.listCount,
      out.memo
    )
  )
}

/** Reads every policy file under `path` (a file or a directory, §2) and compiles them. */
export const loadPolicies = (path: string, options: CompileOptions = {}): Effect.Effect<CompiledPolicySet, PolicyError> =>
  Effect.flatMap(readPolicySources(path), (sources) => compilePolicies(sources, options))

/**
 * The same set restricted to the rules `keep` accepts (for `bench.rulesetsize` / `bench.ruleindex`);
 * filters are kept.
 */
export const selectRules = (set: CompiledPolicySet, keep: (rule: CompiledRule, index: number) => boolean): CompiledPolicySet => {
  const rules = set.rules.filter(keep)
  return makeSet(set.files, rules, set.filters, set.warnings, set.macroCount, set.listCount, set.memo)
}

/** True if an enabled filter matches the record (§8.2 step 1). */
export const isDropped = (set: CompiledPolicySet, record: FlatRecord): boolean => {
  const fs = set.index[record.type].filters
  for (let i = 0; i < fs.length; i++) if (fs[i](record)) return true
  return false
}

const markGuards = (d: Dispatch, ids: Int32Array | undefined, gen: number): void => {
  if (ids === undefined) return
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    if (d.guardStamp[id] === gen) continue
    d.guardStamp[id] = gen
    const ps = d.guardRules[id]
    for (let j = 0; j < ps.length; j++) {
      const p = ps[j]
      if (d.haveStamp[p] !== gen) {
        d.haveStamp[p] = gen
        d.have[p] = 1
      } else d.have[p]++
    }
  }
}

/** The enabled rules whose prefilter and condition accept the record, in rule order (§8.2 step 3). */
export const matchRules = (set: CompiledPolicySet, record: FlatRecord): ReadonlyArray<CompiledRule> => {
  const ix = set.index[record.type]
  const cs = ix.conditions
  const d = ix.dispatch
  let out: Array<CompiledRule> | undefined
  if (d === undefined) {
    for (let i = 0; i < cs.length; i++) if (cs[i](record)) (out ??= []).push(ix.rules[i])
    return out ?? noMatches
  }
  const memo = set.memo
  const gen = ++d.gen
  for (let k = 0; k < d.slots.length; k++) {
    const slot = d.slots[k]
    const table = d.tables[k]
    const v = memo.str(slot, record)
    if (v.indexOf(",") < 0) markGuards(d, table.get(v), gen)
    else {
      const segs = memo.segments(slot, record)
      for (let j = 0; j < segs.length; j++) markGuards(d, table.get(segs[j]), gen)
    }
  }
  const need = d.need
  for (let i = 0; i < cs.length; i++) {
    const n = need[i]
    if (n !== 0 && (d.haveStamp[i] !== gen || d.have[i] !== n)) continue
    if (cs[i](record)) (out ??= []).push(ix.rules[i])
  }
  return out ?? noMatches
}

/** Filters, then rules (§8.2). Allocates only when a rule matches. */
export const evaluate = (set: CompiledPolicySet, record: FlatRecord): Evaluation => {
  if (isDropped(set, record)) return DROPPED
  const matches = matchRules(set, record)
  return matches.length === 0 ? NO_MATCH : { dropped: false, matches }
}

export type PolicyMode = "alert" | "enrich"

/** §8.2 step 4: alert emits records that matched a rule; enrich emits every record not dropped. */
export const shouldEmit = (e: Evaluation, mode: PolicyMode): boolean =>
  !e.dropped && (mode === "enrich" || e.matches.length > 0)
