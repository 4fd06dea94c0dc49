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
 * are pre-indexed by record type and, within a type, by operation flags (OperationIndex.ts), so a record
 * only meets the ones that can match it. Pure and synchronous: no Effect on the hot path.
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
import { FALSE, type Node, type Truth } from "./PredicateGraph.js"
import type { RecordMemo } from "./Predicates.js"
import { compileLearningType, DROPPED, type IndexedCondition, type TypeFunction } from "./StraightLine.js"

export type { CompiledFilter, CompiledRule, CompileOptions } from "./PolicyCompiler.js"
export type { PolicySource } from "./PolicyLoader.js"
export { listPolicyFiles } from "./PolicyLoader.js"

/** What records of one type and one combination of the operation flags the index looks at meet. */
interface Bucket {
  /** The enabled rules the records are evaluated against, in rule order. */
  readonly rules: ReadonlyArray<CompiledRule>
  /** Per condition of the type (filters, then rules): 1 when the records meet it. */
  readonly active: Uint8Array
}

/** What one record type meets: its enabled filters, then its enabled rules in rule order. */
export interface TypeIndex {
  readonly filters: ReadonlyArray<IndexedCondition>
  readonly rules: ReadonlyArray<CompiledRule>
  /** `conditions[i]` is `rules[i]`'s condition specialised for this type. */
  readonly conditions: ReadonlyArray<IndexedCondition>
  /** The operation flag bits any of them looks at: records are bucketed by `opFlags & opBits`. */
  readonly opBits: number
  /** Buckets built so far (on first use), by `opFlags & opBits`. */
  readonly buckets: Map<number, Bucket>
  /** Every condition of the type, for flag combinations past MAX_BUCKETS. */
  readonly all: Bucket
  /** The type's straight-line code, compiled on first use and again in the order learnt from its first records. */
  run: TypeFunction<CompiledRule> | undefined
}

/**
 * Bound on the buckets built per record type. Real traces show a few dozen flag combinations; records
 * with other combinations past the bound meet every condition of their type (the same results, without
 * building a bucket per record for input made of every combination).
 */
const MAX_BUCKETS = 1024

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
const DROPPED_EVALUATION: Evaluation = Object.freeze({ dropped: true, matches: noMatches })
const NO_MATCH: Evaluation = Object.freeze({ dropped: false, matches: noMatches })

const conditionOf = (c: CompiledRule | CompiledFilter, t: RecordType): IndexedCondition => c.termByType?.[t] ?? c.conditionByType[t]!

const opBitsOf = (c: IndexedCondition, t: RecordType): number => (typeof c === "function" ? 0 : c.graph.opFlagBits(c.term, t))

const buildIndex = (
  rules: ReadonlyArray<CompiledRule>,
  filters: ReadonlyArray<CompiledFilter>
): Readonly<Record<RecordType, TypeIndex>> => {
  const index = {} as Record<RecordType, TypeIndex>
  for (const t of RECORD_TYPES) {
    const fs = filters.filter((f) => f.conditionByType[t] !== undefined).map((f) => conditionOf(f, t))
    const rs = rules.filter((r) => r.conditionByType[t] !== undefined)
    const cs = rs.map((r) => conditionOf(r, t))
    const opBits = [...fs, ...cs].reduce((bits, c) => bits | opBitsOf(c, t), 0)
    const all = { rules: rs, active: new Uint8Array(fs.length + cs.length).fill(1) }
    index[t] = { filters: fs, rules: rs, conditions: cs, opBits, buckets: new Map(), all, run: undefined }
  }
  return index
}

/** Whether a condition may hold on records of type `t` whose flags are `key` (not certainly false). */
const mayHold = (c: IndexedCondition, t: RecordType, key: number, seen: Map<Node, Truth>): boolean =>
  typeof c === "function" || typeof c.term === "boolean" || c.graph.truthOn(c.term, t, key, seen) !== FALSE

/** The bucket of records of type `t` whose flags are `key` (`opFlags & opBits`). */
const buildBucket = (t: RecordType, ix: TypeIndex, key: number): Bucket => {
  if (ix.buckets.size >= MAX_BUCKETS) return ix.all
  const seen = new Map<Node, Truth>()
  const conditions = [...ix.filters, ...ix.conditions]
  const active = Uint8Array.from(conditions, (c) => (mayHold(c, t, key, seen) ? 1 : 0))
  const bucket = { rules: ix.rules.filter((_, i) => active[ix.filters.length + i] === 1), active }
  ix.buckets.set(key, bucket)
  return bucket
}

const bucketOf = (ix: TypeIndex, record: FlatRecord): Bucket => {
  const key = record.type === "KE" ? 0 : record.event.opFlags & ix.opBits
  return ix.buckets.get(key) ?? buildBucket(record.type, ix, key)
}

/** Evaluates `record` through its type's code and its bucket (`withFilters`: filters first). */
const run = (set: CompiledPolicySet, record: FlatRecord, withFilters: boolean): Array<CompiledRule> | undefined | typeof DROPPED => {
  const ix = set.index[record.type]
  const code = (ix.run ??= compileLearningType(ix.filters, ix.conditions.map((c, i) => [c, ix.rules[i]] as const), (learnt) => (ix.run = learnt)))
  return code(record, withFilters, bucketOf(ix, record).active)
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
export const isDropped = (set: CompiledPolicySet, record: FlatRecord): boolean => run(set, record, true) === DROPPED

/** The enabled rules whose prefilter and condition accept the record, in rule order (§8.2 step 3). */
export const matchRules = (set: CompiledPolicySet, record: FlatRecord): ReadonlyArray<CompiledRule> =>
  (run(set, record, false) as Array<CompiledRule> | undefined) ?? noMatches

/**
 * The enabled rules a record is evaluated against once indexed by its type and operation flags, in rule
 * order: every rule that can match it is among them.
 */
export const rulesFor = (set: CompiledPolicySet, record: FlatRecord): ReadonlyArray<CompiledRule> =>
  bucketOf(set.index[record.type], record).rules

/** Filters, then rules (§8.2). Allocates only when a rule matches. */
export const evaluate = (set: CompiledPolicySet, record: FlatRecord): Evaluation => {
  const m = run(set, record, true)
  return m === DROPPED ? DROPPED_EVALUATION : m === undefined ? NO_MATCH : { dropped: false, matches: m }
}

export type PolicyMode = "alert" | "enrich"

/** §8.2 step 4: alert emits records that matched a rule; enrich emits every record not dropped. */
export const shouldEmit = (e: Evaluation, mode: PolicyMode): boolean =>
  !e.dropped && (mode === "enrich" || e.matches.length > 0)
