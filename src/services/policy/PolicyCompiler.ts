/**
 * Compiling policy items into predicates (policy-language.md §5–§6).
 *
 * Passes, per file in load order (§5.1):
 * 1. pre-pass: store every list and macro definition (later replaces earlier), so forward references
 *    within a file work;
 * 2. main pass, in document order: a list or macro re-stores its definition; a rule or filter is built
 *    at once against the definitions as they stand (so across files only earlier files are visible, and
 *    redefinition is positional).
 *
 * Building a condition expands macro references recursively (unknown macro → constant false with a
 * warning, Q5; cycles → error naming the cycle, Q16) and list references in `in`/`pmatch` (§5.2).
 * Leaves become closures over a per-set `RecordMemo` (each attribute extracted at most once per record);
 * constant sub-terms (literal against literal, `contains ""`, …) fold at compile time; identical
 * sub-terms across rules are one node of a `PredicateGraph`, evaluated at most once per record.
 *
 * Each rule is also compiled once per record type, with every attribute that is the same on all records
 * of that type folded to its value (`sf.type`, and e.g. `sf.file.path` on PE, which carries no file:
 * data-model.md §3.2), and indexed only under the types its prefilter accepts and for which its condition
 * is not constant false: a record meets only rules that can match it. Within a type, tests the record's
 * operation flags decide (`evt.type`, `sf.opflags`) index the rules further (OperationIndex.ts).
 */
import { type AttributeDef, attributeTable, trimBoundingQuotes } from "../../domain/attributes.js"
import type { FlatRecord, RecordType } from "../../domain/flatRecord.js"
import type { Diagnostic, PolicyErrorReason, SourcePos } from "../../domain/policy/Diagnostic.js"
import type {
  Atom,
  BinaryOp,
  Transformer,
  Condition,
  Element,
  Expr,
  FilterItem,
  ListItem,
  MacroItem,
  PolicyFile,
  RuleItem,
  SourceLocation
} from "../../domain/policy/PolicyAst.js"
import type { Priority, RuleMatch } from "../../domain/policyEvent.js"
import { didYouMean, falcoFieldSource } from "./FalcoFieldNames.js"
import { getoptOf } from "./Getopt.js"
import { cidrMatcher, falcoOrAttribute, NETWORK_FIELDS, RECORDED_SYSCALLS, syscallFlags } from "./FalcoFields.js"
import { transform, valueTest } from "./FalcoOperators.js"
import { compileOutput } from "./OutputTemplate.js"
import { gjsonGet } from "./Gjson.js"
import { undefinedListWarning } from "./ListNameCheck.js"
import { isNumericAttribute, nonNumericPart, relationalOperandProblem } from "./NumericOperands.js"
import { opFlagsNameMasks, readsOnlyOpFlags, syscallMasks } from "./OperationIndex.js"
import { type GraphTerm, PredicateGraph, type Term } from "./PredicateGraph.js"
import { attributeScope, type EntityScope, joinScopes } from "./EntityScope.js"
import { compareStr, goLower, hasSegment, parseGoInt, type Pred, RecordMemo, type StrOp } from "./Predicates.js"

export const RECORD_TYPES: ReadonlyArray<RecordType> = ["PE", "FF", "FE", "NF", "KE"]

/** How deeply macro references and list references may nest before the compiler gives up. */
export const MAX_EXPANSION_DEPTH = 256

/**
 * How many values one `in`/`pmatch` element list may expand to. Lists naming lists multiply: six levels
 * of lists each naming the previous one ten times (a 600-byte file) expanded to a million values in 25 s
 * and 545 MB, seven exhausted memory (security review S6). Real sets expand to a few thousand.
 */
export const MAX_LIST_VALUES = 100_000

/**
 * How deeply a condition may nest once its macros are expanded (`not`, `and`/`or`, macro levels). Each
 * condition is capped at 100 levels by the parser, but 50 macros each nesting 98 `not`s around the next
 * overflowed the stack in this recursive compiler (a RangeError thrown out of `compilePolicies`, found
 * while fuzzing; test/fuzz/policy.test.ts keeps it), and a predicate that deep would overflow the stack
 * again when generated and evaluated.
 */
export const MAX_CONDITION_DEPTH = 1000

/** `oneof` is built from pairwise terms (exactly one of n holds): its lists stay small. */
export const MAX_ONEOF_VALUES = 256

/** A compiled rule: what `PolicyEvent.rules` carries, plus what the engine and `-test` need. */
export interface CompiledRule extends RuleMatch {
  readonly name: string
  readonly desc: string
  readonly priority: Priority
  /** Flat tag list (`tags: []` gives `[""]`, Q6). */
  readonly tags: ReadonlyArray<string>
  /** Action names, in order (run by the engine stage). */
  readonly actions: ReadonlyArray<string>
  /** Record types the rule applies to; undefined = all. `[""]` (from `prefilter: []`) matches none. */
  readonly prefilter: ReadonlyArray<string> | undefined
  /** As written, and false while the rule is inactive. */
  readonly enabled: boolean
  /** Why the rule can never apply to SysFlow data (Falco rules: a source, plugin or field SysFlow lacks). */
  readonly inactive?: string
  /** Skipped, as Falco skips it: `skip-if-unknown-filter: true` and a name that is no Falco field (`inactive` says which). */
  readonly skipped?: boolean
  /** Falco's output template, as written. */
  readonly output?: string
  /** The output template rendered for a matching record (`%field`, `%(field)`, `%%`, `<NA>`). */
  readonly renderOutput?: (record: FlatRecord) => string
  /** Position of the `rule` key. */
  readonly position: SourcePos
  /** 0-based position in rule order (load order). */
  readonly index: number
  /** The condition for any record (does not check `enabled` or `prefilter`). */
  readonly condition: Pred
  /** The condition specialised per record type; absent where the rule cannot match (index data). */
  readonly conditionByType: Readonly<Partial<Record<RecordType, Pred>>>
  /**
   * The condition per record type as a term of the compile's predicate graph (the operation index and
   * its straight-line code read it); absent in Sigma sets, whose `conditionByType` closures are called.
   */
  readonly termByType?: Readonly<Partial<Record<RecordType, GraphTerm>>>
}


/** A compiled `filter` / `drop` item: records for which it is true are dropped (§8.2). */
export interface CompiledFilter {
  readonly name: string
  readonly keyword: "filter" | "drop"
  readonly enabled: boolean
  readonly position: SourcePos
  readonly condition: Pred
  readonly conditionByType: Readonly<Partial<Record<RecordType, Pred>>>
  /** As `CompiledRule.termByType`. */
  readonly termByType?: Readonly<Partial<Record<RecordType, GraphTerm>>>
}

export interface CompileOptions {
  /**
   * Names of the available actions. When given, an unknown action name in a rule gives the warning
   * `Unknown action identifier '<a>' found in rule '<r>'` (§8.5).
   */
  readonly actions?: ReadonlySet<string>
}

export interface CompileOutput {
  readonly rules: ReadonlyArray<CompiledRule>
  readonly filters: ReadonlyArray<CompiledFilter>
  readonly macroCount: number
  readonly listCount: number
  /** Distinct attribute operands (per-record string memo slots). */
  readonly slotCount: number
  /** Distinct sub-terms, and how many of them are shared (memoised per record). */
  readonly nodeCount: number
  readonly sharedNodeCount: number
  readonly errors: ReadonlyArray<Diagnostic>
  readonly warnings: ReadonlyArray<Diagnostic>
  /** The per-record attribute memo the closures share. */
  readonly memo: RecordMemo
}

// ---------------------------------------------------------------------------------------------------
// Operands (§6.1–§6.3). Every dynamic side has a key naming what it computes, for sharing leaves.

type StrSide = { readonly c: string } | { readonly slot: number }
// `scope`: what the value depends on (EntityScope.ts).
type IntSide = { readonly c: bigint } | { readonly get: (r: FlatRecord) => bigint; readonly key: string; readonly scope: EntityScope }
type ExistsSide = { readonly c: boolean } | { readonly get: (r: FlatRecord) => boolean; readonly key: string; readonly scope: EntityScope }

interface Operand {
  readonly text: string
  /** True for a known attribute (with or without a `[path]` suffix). */
  readonly known: boolean
  /** The attribute, for a known attribute without a `[path]` suffix. */
  readonly def?: AttributeDef
  readonly str: StrSide
  readonly int: IntSide
  readonly exists: ExistsSide
}

const strKey = (s: StrSide): string => ("c" in s ? `c${JSON.stringify(s.c)}` : `s${s.slot}`)
const intKey = (s: IntSide): string => ("c" in s ? `i${s.c}` : s.key)

/**
 * Entities a record type never carries (data-model.md §3.2): PE and NF have no file, FF no second file,
 * KE only a header. Reading them on a record of that type always gives `undefined`.
 */
const ABSENT: Readonly<Record<RecordType, ReadonlySet<PropertyKey>>> = {
  PE: new Set(["file", "newFile"]),
  FF: new Set(["newFile"]),
  FE: new Set([]),
  NF: new Set(["file", "newFile"]),
  KE: new Set(["process", "ptree", "container", "pod", "file", "newFile"])
}

const NOT_CONSTANT = Symbol("not constant")

/**
 * A record of type `t` that answers only what every record of that type answers alike (its type, and
 * `undefined` for the entities the type never carries); reading anything else throws `NOT_CONSTANT`.
 */
const probeRecord = (t: RecordType): FlatRecord =>
  new Proxy({} as FlatRecord, {
    get: (_, key) => {
      if (key === "type") return t
      if (ABSENT[t].has(key)) return undefined
      throw NOT_CONSTANT
    },
    has: () => {
      throw NOT_CONSTANT
    },
    ownKeys: () => {
      throw NOT_CONSTANT
    },
    getOwnPropertyDescriptor: () => {
      throw NOT_CONSTANT
    }
  })

const probes: Readonly<Record<RecordType, FlatRecord>> = {
  PE: probeRecord("PE"),
  FF: probeRecord("FF"),
  FE: probeRecord("FE"),
  NF: probeRecord("NF"),
  KE: probeRecord("KE")
}

const constants = new WeakMap<object, Map<RecordType, { readonly value: unknown } | null>>()

/**
 * The value an attribute function has on every record of type `t`, when it reads nothing but the
 * record's type and entities that type never carries (e.g. `sf.file.path` on PE is `""`, `sf.type` on
 * FF is `FF`, `sf.ret` on NF is 0). Attribute functions are pure, so following the same reads gives the
 * same result on every record of that type. Undefined when the function reads anything else.
 */
const constantOn = <A>(fn: (r: FlatRecord) => A, t: RecordType): { readonly value: A } | undefined => {
  let byType = constants.get(fn)
  if (byType === undefined) constants.set(fn, (byType = new Map()))
  let c = byType.get(t)
  if (c === undefined) {
    try {
      c = { value: fn(probes[t]) }
    } catch {
      c = null
    }
    byType.set(t, c)
  }
  return (c ?? undefined) as { readonly value: A } | undefined
}

/** First dot-separated segments of known attributes (`sf`, `evt`, `proc`, `fd`, `container`, `user`). */
const knownRoots: ReadonlySet<string> = new Set(Array.from(attributeTable.keys(), (k) => k.split(".")[0]))

const literal = (text: string): Operand => ({
  text,
  known: false,
  str: { c: trimBoundingQuotes(text) },
  int: { c: parseGoInt(text) },
  exists: { c: true }
})

interface Scope {
  /** The record type, when compiling for the per-type index. */
  readonly type: RecordType | undefined
  /** Per-type compiles repeat the generic compile's diagnostics: they are not reported again. */
  readonly muted: boolean
  /**
   * Falco dialect (a rule from a Falco file): a subject that is not a field SysFlow has makes the rule
   * inactive instead of being compared as text, and a right-hand bare word is a value (fields need val()).
   */
  readonly falco?: boolean
}

/** A field a Falco rule uses that SysFlow data does not have. */
interface UnknownField {
  readonly name: string
  readonly at: SourceLocation
}

type Definition<T> = { readonly item: T; readonly file: string }

interface MacroCacheEntry {
  version: number
  readonly byScope: Map<string, Term>
  /** Unknown fields met while expanding the macro, per scope (Falco dialect). */
  readonly unknownByScope: Map<string, ReadonlyArray<UnknownField>>
}

/** A rule or filter whose terms become closures once the whole set is compiled. */
interface Pending<T> {
  readonly item: T
  readonly generic: Term
  readonly byType: Partial<Record<RecordType, Term>>
  /** Skipped under `skip-if-unknown-filter` (a name that is no Falco field). */
  readonly skipped?: boolean
}

class Compiler {
  readonly memo = new RecordMemo()
  readonly graph = new PredicateGraph(this.memo)
  private readonly lists = new Map<string, Definition<ListItem>>()
  /** `expandedSize` memo. */
  private readonly listSizes = new Map<string, number>()
  private readonly macros = new Map<string, Definition<MacroItem>>()
  private version = 0
  private readonly macroCache = new Map<MacroItem, MacroCacheEntry>()
  /** Height of every term node built (a leaf is 1), so a cached macro's depth is known without a walk. */
  private readonly heights = new WeakMap<object, number>()
  private readonly functionIds = new Map<unknown, number>()
  private readonly existsGetters = new Map<string, (r: FlatRecord) => boolean>()

  /** What a string side depends on. */
  private strScope(side: StrSide): EntityScope {
    return "c" in side ? "constant" : this.memo.scopeOf(side.slot)
  }
  readonly errors: Array<Diagnostic> = []
  readonly warnings: Array<Diagnostic> = []
  private readonly seen = new Set<string>()
  private readonly rules: Array<Pending<RuleItem>> = []
  private readonly filters: Array<Pending<FilterItem>> = []
  /** First definition of each rule and filter name (duplicates are kept, Q23, with a warning). */
  private readonly ruleNames = new Map<string, SourceLocation>()
  private readonly filterNames = new Map<string, SourceLocation>()
  /** `undefinedListWarning` per word, valid while the definitions stay at `listWarningsVersion`. */
  private readonly listWarnings = new Map<string, string | undefined>()
  private listWarningsVersion = -1
  macroCount = 0
  listCount = 0
  /** Unknown fields of the Falco rule being compiled (generic scope). */
  private unknownFields: Array<UnknownField> = []

  /**
   * `allLists`, `allMacros`: the first definition of every list and every macro name in any file, so
   * that a name used before its file is loaded can be told apart from a name defined nowhere.
   */
  constructor(
    private readonly options: CompileOptions,
    private readonly allLists: ReadonlyMap<string, SourceLocation>,
    private readonly allMacros: ReadonlySet<string>
  ) {}

  // -- diagnostics --------------------------------------------------------------------------------

  private report(severity: "error" | "warning", loc: SourceLocation, message: string, reason?: PolicyErrorReason): void {
    const key = `${severity}\u0000${loc.file}\u0000${loc.line}\u0000${loc.column}\u0000${message}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    const base = { severity, file: loc.file, line: loc.line, column: loc.column, message, snippet: loc.snippet }
    if (severity === "error") this.errors.push({ ...base, reason })
    else this.warnings.push(base)
  }

  private warn(scope: Scope, loc: SourceLocation, message: string): void {
    if (!scope.muted) this.report("warning", loc, message)
  }

  private error(loc: SourceLocation, message: string, reason: PolicyErrorReason): void {
    this.report("error", loc, message, reason)
  }

  // -- passes -------------------------------------------------------------------------------------

  private store(item: ListItem | MacroItem, file: string): void {
    if (item.kind === "list") {
      if (this.lists.get(item.name)?.item !== item) {
        this.lists.set(item.name, { item, file })
        this.listSizes.clear()
        this.version++
      }
    } else if (this.macros.get(item.name)?.item !== item) {
      this.macros.set(item.name, { item, file })
      this.version++
    }
  }

  compileFile(file: PolicyFile): void {
    for (const item of file.items) {
      if (item.kind === "list" || item.kind === "macro") this.store(item, file.path)
      if (item.kind === "list") this.listCount++
      if (item.kind === "macro") this.macroCount++
    }
    for (const item of file.items) {
      switch (item.kind) {
        case "list":
        case "macro":
          this.store(item, file.path)
          break
        case "rule":
          this.checkDuplicate("rule", this.ruleNames, item)
          this.rules.push(this.build(item, item.prefilter))
          this.checkActions(item)
          break
        case "filter":
          this.checkDuplicate(item.keyword, this.filterNames, item)
          this.filters.push(this.build(item, undefined))
          break
        case "required_engine_version":
        case "required_plugin_versions":
        case "patch": // folded into their targets by FalcoMerge
          break
      }
    }
  }

  /** The generic term (diagnostics reported) and the per-type terms of the index. */
  private build<T extends RuleItem | FilterItem>(item: T, prefilter: ReadonlyArray<string> | undefined): Pending<T> {
    // An inactive rule (a source SysFlow does not have) is listed, never compiled: its fields are not ours.
    if (item.kind === "rule" && item.inactive !== undefined) return { item, generic: false, byType: {} }
    const falco = item.kind === "rule" && item.dialect === "falco"
    this.unknownFields = []
    const generic = this.condition(item.condition, { type: undefined, muted: false, falco })
    if (item.kind === "rule" && this.unknownFields.length > 0) {
      // A name that is no Falco field at all is a mistake (Falco refuses it), unless the rule says to skip.
      const typos = this.unknownFields.filter((u) => falcoFieldSource(u.name) === undefined)
      if (typos.length > 0) {
        if (item.skipIfUnknownFilter === true) {
          const names = Array.from(new Set(typos.map((u) => `'${u.name}'`)))
          const why = `${names.join(", ")} ${names.length === 1 ? "is not a Falco field" : "are not Falco fields"} (skip-if-unknown-filter)`
          this.report("warning", typos[0].at, `rule '${item.name}' is skipped: ${why}`)
          return { item: { ...item, inactive: why }, generic: false, byType: {}, skipped: true }
        }
        for (const u of typos) this.report("error", u.at, `rule '${item.name}' uses '${u.name}', which is not a Falco field${didYouMean(u.name)}`, "Semantic")
        return { item, generic: false, byType: {} }
      }
      const names = Array.from(new Set(this.unknownFields.map((u) => u.name)))
      const inactive = `it uses ${names.map((n) => `'${n}'`).join(", ")}, which SysFlow data does not have`
      const first = this.unknownFields[0].at
      this.report("warning", first, `rule '${item.name}' is inactive: ${inactive}`)
      return { item: { ...item, inactive }, generic: false, byType: {} }
    }
    if (item.kind === "rule" && falco && generic === false) {
      const inactive = "its condition is never true on SysFlow data"
      this.report("warning", item.pos, `rule '${item.name}' is inactive: ${inactive}`)
      return { item: { ...item, inactive }, generic: false, byType: {} }
    }
    const byType: Partial<Record<RecordType, Term>> = {}
    if (item.enabled) {
      for (const t of RECORD_TYPES) {
        if (prefilter !== undefined && !prefilter.includes(t)) continue
        const term = this.condition(item.condition, { type: t, muted: true, falco })
        if (term !== false) {
          byType[t] = term
          this.graph.root(term, t)
        }
      }
    }
    return { item, generic, byType }
  }

  /** Both definitions stay and both fire (Q23, kept until Falco's redefinition semantics arrive): warn. */
  private checkDuplicate(kind: string, seen: Map<string, SourceLocation>, item: RuleItem | FilterItem): void {
    const first = seen.get(item.name)
    if (first === undefined) {
      seen.set(item.name, item.pos)
      return
    }
    this.report(
      "warning",
      item.pos,
      `duplicate ${kind} name '${item.name}', first defined at ${first.file}:${first.line}:${first.column}; both are kept and both apply`
    )
  }

  private checkActions(item: RuleItem): void {
    const known = this.options.actions
    if (known === undefined) return
    item.actions.forEach((a, i) => {
      if (!known.has(a)) this.report("warning", item.actionPos[i] ?? item.pos, `Unknown action identifier '${a}' found in rule '${item.name}'`)
    })
  }

  /** Turns every pending term into closures (after all files). */
  finish(): { rules: Array<CompiledRule>; filters: Array<CompiledFilter> } {
    this.graph.finish()
    const preds = (byType: Partial<Record<RecordType, Term>>) => {
      const out: Partial<Record<RecordType, Pred>> = {}
      for (const t of RECORD_TYPES) {
        const term = byType[t]
        if (term !== undefined) out[t] = this.graph.pred(term)
      }
      return out
    }
    const graphTerms = (byType: Partial<Record<RecordType, Term>>) => {
      const out: Partial<Record<RecordType, GraphTerm>> = {}
      for (const t of RECORD_TYPES) {
        const term = byType[t]
        if (term !== undefined) out[t] = { graph: this.graph, term }
      }
      return out
    }
    const position = (p: SourceLocation): SourcePos => ({ file: p.file, line: p.line, column: p.column })
    const output = (item: RuleItem) => {
      if (item.output === undefined) return {}
      const t = compileOutput(item.output, item.dialect === "falco" ? falcoOrAttribute : undefined)
      if (t.unknownFields.length > 0 && item.dialect === "falco") {
        // As in conditions: a name that is no Falco field is a mistake, a Falco field SysFlow lacks is <NA>.
        const typos = t.unknownFields.filter((n) => falcoFieldSource(n) === undefined)
        for (const n of typos) this.report("error", item.pos, `the output of rule '${item.name}' names '%${n}', which is not a Falco field${didYouMean(n)}`, "Semantic")
        const lacking = t.unknownFields.filter((n) => falcoFieldSource(n) !== undefined)
        if (lacking.length > 0 && item.inactive === undefined) {
          const names = lacking.map((n) => `'%${n}'`).join(", ")
          this.report("warning", item.pos, `the output of rule '${item.name}' names ${names}, which SysFlow data does not have: rendered as <NA>`)
        }
      }
      return { output: item.output, renderOutput: t.render }
    }
    const rules = this.rules.map(
      ({ item, generic, byType, skipped }, index): CompiledRule => ({
        name: item.name,
        desc: item.desc,
        priority: item.priority,
        tags: item.tags,
        actions: item.actions,
        prefilter: item.prefilter,
        enabled: item.enabled && item.inactive === undefined,
        ...(item.inactive === undefined ? {} : { inactive: item.inactive }),
        ...(skipped === true ? { skipped } : {}),
        ...output(item),
        position: position(item.pos),
        index,
        condition: this.graph.pred(generic),
        conditionByType: preds(byType),
        termByType: graphTerms(byType)
      })
    )
    const filters = this.filters.map(
      ({ item, generic, byType }): CompiledFilter => ({
        name: item.name,
        keyword: item.keyword,
        enabled: item.enabled,
        position: position(item.pos),
        condition: this.graph.pred(generic),
        conditionByType: preds(byType),
        termByType: graphTerms(byType)
      })
    )
    return { rules, filters }
  }

  // -- conditions ---------------------------------------------------------------------------------

  private condition(c: Condition, scope: Scope): Term {
    return this.expr(c.expr, c, scope, [], 0)
  }

  /** A term's height, recorded when it is built from children whose heights are already known. */
  private height(t: Term): number {
    if (typeof t === "boolean") return 0
    let h = this.heights.get(t)
    if (h === undefined) {
      let below = 0
      if (t.kind === "not") below = this.heights.get(t.child) ?? 0
      else if (t.kind !== "leaf") for (const ch of t.children) below = Math.max(below, this.heights.get(ch) ?? 0)
      h = below + 1
      this.heights.set(t, h)
    }
    return h
  }

  /** `depth`: how many expressions enclose `e`, macro expansions included (bounded by MAX_CONDITION_DEPTH). */
  private expr(e: Expr, c: Condition, scope: Scope, stack: Array<string>, depth: number): Term {
    switch (e.kind) {
      case "and":
        return this.graph.and(e.operands.map((o) => this.track(this.expr(o, c, scope, stack, depth + 1))))
      case "or":
        return this.graph.or(e.operands.map((o) => this.track(this.expr(o, c, scope, stack, depth + 1))))
      case "not":
        return this.graph.not(this.track(this.expr(e.operand, c, scope, stack, depth + 1)))
      case "macro":
        return this.macro(e.name, c.locate(e.offset), scope, stack, depth)
      case "exists": {
        const x = this.operand(e.subject, c, scope, true).exists
        if ("c" in x) return x.c
        const get = x.get
        return this.graph.leaf(`exists|${x.key}`, () => get, undefined, undefined, x.scope)
      }
      case "compare": {
        const l = this.operand(e.left, c, scope, true)
        const r = this.operand(e.right, c, scope, false)
        if (!scope.muted && scope.falco === true && !this.typeCheck(e.op, l, r.known ? [] : [r.str], c.locate(e.right.offset))) return false
        if (!scope.muted) this.checkNumeric(e.op, l, c.locate(e.left.offset), r, c.locate(e.right.offset))
        switch (e.op) {
          case "glob":
          case "iglob":
          case "regex":
          case "bcontains":
          case "bstartswith":
            return this.pattern(e.op, l, r, c.locate(e.right.offset))
          default:
            if ((e.op === "=" || e.op === "!=") && "c" in r.str && this.unrecorded(scope, l, [r.str.c], c.locate(e.right.offset))) return e.op === "!="
            if ((e.op === "=" || e.op === "!=") && "c" in r.str && this.isSyscallField(scope, l)) {
              const t = this.syscalls([r.str.c], scope)
              return e.op === "=" ? t : this.graph.not(t)
            }
            if ((e.op === "=" || e.op === "!=") && scope.falco === true && NETWORK_FIELDS.has(l.text) && "c" in r.str) {
              const t = this.network(l.text, [r.str.c], c.locate(e.right.offset))
              return e.op === "=" ? t : this.graph.not(t)
            }
            return this.compare(e.op, l, r)
        }
      }
      case "list": {
        const subject = this.operand(e.subject, c, scope, true)
        const op = e.op === "pmatch" ? "pmatch" : "in" // intersects: some element is in the list, as `in` on a multi-valued field
        // A field on the right (`in val(f)`, `in b64(f)`): its values are the list.
        const only = e.elements.length === 1 && e.elements[0].kind === "atom" ? e.elements[0].atom : undefined
        if (only !== undefined && (only.val === true || only.transformers !== undefined || only.compose !== undefined)) {
          return this.strCompare(op === "pmatch" ? "contains" : "=", subject.str, this.operand(only, c, scope, false).str)
        }
        const numeric = op === "in" && subject.def !== undefined && isNumericAttribute(subject.def) ? subject.text : undefined
        const values = this.values(e.op, e.elements, c, scope, numeric)
        if (!scope.muted && scope.falco === true && !this.typeCheck(e.op, subject, values.map((v) => ({ c: v })), c.locate(e.subject.offset))) return false
        if (op === "in" && this.unrecorded(scope, subject, values, c.locate(e.subject.offset))) return false
        if (op === "in" && this.isSyscallField(scope, subject)) return this.syscalls(values, scope)
        if (op === "in" && scope.falco === true && NETWORK_FIELDS.has(subject.text)) return this.network(subject.text, values, c.locate(e.subject.offset))
        return this.list(op, subject, values)
      }
      case "modified":
        return this.modified(e, c, scope, stack, depth)
    }
  }

  /**
   * Falco's `op oneof|anyof|allof (…)`: the comparison with each element (lists expanded), holding for
   * exactly one, some, or every element; false on an empty list (libs).
   */
  private modified(e: Extract<Expr, { kind: "modified" }>, c: Condition, scope: Scope, stack: Array<string>, depth: number): Term {
    const rights = e.elements.flatMap((el) =>
      this.values(e.modifier, [el], c, scope, undefined).map((v): Atom => ({ text: `"${v}"`, quoted: true, offset: el.kind === "atom" ? el.atom.offset : el.offset }))
    )
    if (rights.length === 0) return false
    if (e.modifier === "oneof" && rights.length > MAX_ONEOF_VALUES) {
      this.error(c.locate(e.subject.offset), `'oneof' compares with at most ${MAX_ONEOF_VALUES} values, found ${rights.length}`, "Semantic")
      return false
    }
    const terms = rights.map((right) => this.track(this.expr({ kind: "compare", op: e.op, left: e.subject, right }, c, scope, stack, depth + 1)))
    if (e.modifier === "anyof") return this.graph.or(terms)
    if (e.modifier === "allof") return this.graph.and(terms)
    return this.graph.or(terms.map((t, i) => this.graph.and([t, this.graph.not(this.graph.or(terms.filter((_, j) => j !== i)))])))
  }

  /** Falco's plain `evt.type` (no transformer): its tests are flag tests (`syscalls`). */
  private isSyscallField(scope: Scope, subject: Operand): boolean {
    return scope.falco === true && subject.text === "evt.type" && subject.def !== undefined
  }

  /**
   * `evt.type` is one of `values`: a test of the record's operation flags, per record type (no string is
   * built or split per record); false for a record type none of the syscalls belongs to.
   */
  private syscalls(values: ReadonlyArray<string>, scope: Scope): Term {
    const masks = syscallFlags(values.flatMap((v) => v.split(",")))
    if (scope.type !== undefined) {
      const mask = masks[scope.type] ?? 0
      const flags = syscallMasks({ PE: mask, FF: mask, FE: mask, NF: mask })
      return mask === 0 ? false : this.graph.leaf(`opflags|${mask}`, () => (r) => r.type !== "KE" && (r.event.opFlags & mask) !== 0, flags)
    }
    const flags = syscallMasks(masks)
    return this.graph.leaf(`opflags|${JSON.stringify(masks)}`, () => (r) => r.type !== "KE" && ((masks[r.type] ?? 0) & r.event.opFlags) !== 0, flags)
  }

  /**
   * Falco's `evt.type` against syscalls none of which SysFlow records (ptrace aside: init_module,
   * memfd_create, dup, bpf, …): the comparison can never be true; said once, where it is written.
   */
  private unrecorded(scope: Scope, subject: Operand, values: ReadonlyArray<string>, at: SourceLocation): boolean {
    if (scope.falco !== true || subject.text !== "evt.type" || values.length === 0) return false
    const names = values.flatMap((v) => v.split(","))
    if (names.some((n) => RECORDED_SYSCALLS.has(n))) return false
    this.warn(scope, at, `SysFlow records none of the syscalls ${names.map((n) => `'${n}'`).join(", ")}: this evt.type test is never true`)
    return true
  }

  /**
   * Falco's type check of a comparison (Falco files only): a string operator on a numeric field, a
   * relational operator on a field that is not numeric, or a value that is not a number for a numeric
   * field is a compile error at `at`. `evt.arg.*` fields are untyped in Falco and are not checked.
   */
  private typeCheck(op: string, field: Operand, values: ReadonlyArray<StrSide>, at: SourceLocation): boolean {
    const def = field.def
    if (def === undefined || def.name.startsWith("evt.arg.") || NETWORK_FIELDS.has(def.name)) return true
    const numeric = def.kind === "int"
    const relational = op === "<" || op === "<=" || op === ">" || op === ">="
    let problem: string | undefined
    if (numeric && !relational && op !== "=" && op !== "!=" && op !== "in" && op !== "intersects") {
      problem = `'${op}' compares strings and ${def.name} is numeric`
    } else if (!numeric && relational) {
      problem = `'${op}' compares numbers and ${def.name} is not numeric`
    } else if (numeric && !relational) {
      const bad = values.flatMap((v) => ("c" in v ? v.c.split(",") : [])).find((v) => v !== "" && !/^[+-]?(?:[0-9]+|0[xX][0-9a-fA-F]+)$/.test(v))
      if (bad !== undefined) problem = `'${bad}' is not a number and ${def.name} is numeric`
    }
    if (problem === undefined) return true
    this.error(at, problem, "Semantic")
    return false
  }

  /** Falco's `fd.net`-style fields: some IP of the record is in one of the networks (CIDR). */
  private network(field: string, networks: ReadonlyArray<string>, at: SourceLocation): Term {
    const test = cidrMatcher(networks.flatMap((n) => n.split(",")).filter((n) => n !== ""))
    if (typeof test !== "function") {
      this.error(at, `'${test.bad}' is not an IPv4 network (a.b.c.d/n): ${field} compares networks`, "Semantic")
      return false
    }
    const ips = NETWORK_FIELDS.get(field)!
    return this.graph.leaf(`net|${field}|${JSON.stringify(networks)}`, () => (r) => ips(r).some(test))
  }

  /** Records the height of a term just built (its children were tracked before it). */
  private track(t: Term): Term {
    this.height(t)
    return t
  }

  private macro(name: string, at: SourceLocation, scope: Scope, stack: Array<string>, depth: number): Term {
    const def = this.macros.get(name)
    if (def === undefined) {
      this.warn(scope, at, `unknown macro '${name}' (evaluates to false)`)
      return false
    }
    const i = stack.indexOf(name)
    if (i >= 0) {
      this.error(at, `macro cycle: ${[...stack.slice(i), name].join(" -> ")}`, "Cycle")
      return false
    }
    if (stack.length >= MAX_EXPANSION_DEPTH) {
      this.error(at, `macro references nested too deeply (more than ${MAX_EXPANSION_DEPTH} levels)`, "Semantic")
      return false
    }
    const scopeKey = `${scope.type ?? "*"}${scope.muted ? "m" : ""}${scope.falco === true ? "f" : ""}`
    let entry = this.macroCache.get(def.item)
    if (entry !== undefined && entry.version !== this.version) {
      entry.version = this.version
      entry.byScope.clear()
      entry.unknownByScope.clear()
    }
    // Both the expansion (recursion here) and the term it gives (recursion when evaluated) stay within
    // MAX_CONDITION_DEPTH, whether or not the macro was expanded before.
    const cached = entry?.byScope.get(scopeKey)
    if (cached !== undefined) {
      if (!scope.muted) this.unknownFields.push(...(entry?.unknownByScope.get(scopeKey) ?? []))
      return depth + this.height(cached) > MAX_CONDITION_DEPTH ? this.tooDeep(at) : cached
    }
    if (depth > MAX_CONDITION_DEPTH) return this.tooDeep(at)
    stack.push(name)
    const unknownBefore = this.unknownFields.length
    const result = this.track(this.expr(def.item.condition.expr, def.item.condition, scope, stack, depth + 1)) // positions inside the macro
    stack.pop()
    if (entry === undefined) {
      entry = { version: this.version, byScope: new Map(), unknownByScope: new Map() }
      this.macroCache.set(def.item, entry)
    }
    entry.byScope.set(scopeKey, result)
    entry.unknownByScope.set(scopeKey, this.unknownFields.slice(unknownBefore))
    return depth + this.height(result) > MAX_CONDITION_DEPTH ? this.tooDeep(at) : result
  }

  private tooDeep(at: SourceLocation): Term {
    this.error(at, `condition nested too deeply once macros are expanded (more than ${MAX_CONDITION_DEPTH} levels)`, "Semantic")
    return false
  }

  // -- operands -----------------------------------------------------------------------------------

  private fnKey(f: unknown): number {
    let id = this.functionIds.get(f)
    if (id === undefined) this.functionIds.set(f, (id = this.functionIds.size))
    return id
  }

  /**
   * Resolves an operand (§6.1): a known attribute (its MapStr through the memo), a known attribute with
   * a `[path]` suffix (gjson on its string value, §6.2), or a literal. Warns about unknown identifiers
   * as §5.4 says (subjects; right-hand words that look like attributes).
   */
  private operand(atom: Atom, c: Condition, scope: Scope, subject: boolean): Operand {
    if (atom.compose !== undefined) {
      const joined = this.composed(atom.compose, c, scope)
      return atom.transformers === undefined ? joined : this.transformed(joined, atom.transformers)
    }
    const text = atom.text
    // Falco: a right-hand bare word is a value; a field there needs val().
    const asValue = atom.quoted || (scope.falco === true && !subject && atom.val !== true && atom.transformers === undefined)
    const op = asValue ? literal(text) : this.attributeOperand(text, scope)
    if (!op.known && scope.falco === true && subject && !atom.quoted) {
      if (!scope.muted) this.unknownFields.push({ name: text, at: c.locate(atom.offset) })
      return op
    }
    if (!op.known && !(scope.falco === true && !subject)) {
      const looksLikeAttribute = !atom.quoted && text.includes(".") && knownRoots.has(text.split(".")[0])
      if (atom.transformers !== undefined || atom.val === true) {
        const what = atom.val === true ? "val()" : `${atom.transformers![atom.transformers!.length - 1]}()`
        this.error(c.locate(atom.offset), `'${text}' is not a known attribute: ${what} needs a field`, "Semantic")
      } else if (subject || looksLikeAttribute) {
        this.warn(scope, c.locate(atom.offset), `'${text}' is not a known attribute; compared as a literal`)
      }
    }
    return op.known && atom.transformers !== undefined ? this.transformed(op, atom.transformers) : op
  }

  /** `join(sep, (…))` / `concat(…)`: the parts' strings (fields, transformed fields, literals) joined. */
  private composed(compose: NonNullable<Atom["compose"]>, c: Condition, scope: Scope): Operand {
    // Numbers and quoted strings are literals; anything else names a field (unknown: as any subject).
    const parts = compose.parts.map((p) => (p.quoted || /^[+-]?[0-9]/.test(p.text) ? literal(p.text) : this.operand(p, c, scope, true)))
    const text = `${compose.name}(…)`
    const sep = compose.separator
    // getopt: the argv parts (or the one part's value split at blanks) read as getopt(3) does; a list is comma-joined.
    const g = compose.getopt
    const run = g === undefined ? undefined : getoptOf(g.optstring, g.selector)
    const combine = (values: ReadonlyArray<string>): string => {
      if (run === undefined || g === undefined) return values.join(sep)
      const r = run(g.argvList ? values : values[0].split(/\s+/).filter((a) => a !== ""))
      return r === undefined ? "" : typeof r === "string" ? r : r.join(",")
    }
    if (parts.every((p) => "c" in p.str)) {
      const v = combine(parts.map((p) => (p.str as { c: string }).c))
      return { text, known: true, str: { c: v }, int: { c: 0n }, exists: { c: v !== "" } }
    }
    const memo = this.memo
    const getters = parts.map((p) => {
      const side = p.str
      if ("c" in side) return () => side.c
      return (r: FlatRecord) => memo.str(side.slot, r)
    })
    const key = `${compose.name}|${JSON.stringify(sep)}|${JSON.stringify(g ?? null)}|${parts.map((p) => strKey(p.str)).join("|")}`
    const reads = parts.reduce<EntityScope>((sc, p) => joinScopes(sc, this.strScope(p.str)), "constant")
    const slot = this.memo.slot(key, (r) => combine(getters.map((gt) => gt(r))), reads)
    return { text, known: true, str: { slot }, int: { c: 0n }, exists: { get: (r) => memo.str(slot, r) !== "", key: `xs${slot}`, scope: reads } }
  }

  /** A field through Falco's transformers (innermost first): a new memo slot over the field's string. */
  private transformed(base: Operand, ts: ReadonlyArray<Transformer>): Operand {
    let multi = base.def !== undefined && (base.def.kind === "strings" || base.def.kind === "ints")
    let f = (v: string) => v
    for (const t of ts) {
      const g = transform(t, multi)
      const prev = f
      f = (v) => g(prev(v))
      multi = false
    }
    const text = `${ts.join("(")}(${base.text}${")".repeat(ts.length)}`
    const isLen = ts[ts.length - 1] === "len"
    if ("c" in base.str) {
      const v = f(base.str.c)
      return { text, known: true, str: { c: v }, int: { c: isLen ? BigInt(v) : 0n }, exists: { c: v !== "" } }
    }
    const memo = this.memo
    const baseSlot = base.str.slot
    const scope = memo.scopeOf(baseSlot)
    const slot = this.memo.slot(`transform|${ts.join(",")}|${baseSlot}`, (r) => f(memo.str(baseSlot, r)), scope)
    const int: IntSide = isLen ? { get: (r) => BigInt(memo.str(slot, r)), key: `len${slot}`, scope } : { c: 0n }
    const existsGet = (r: FlatRecord) => memo.str(slot, r) !== ""
    return { text, known: true, str: { slot }, int, exists: { get: existsGet, key: `xs${slot}`, scope } }
  }

  /** Falco's `glob`, `iglob`, `regex`, `bcontains`, `bstartswith` against a literal (any comma segment). */
  private pattern(op: "glob" | "iglob" | "regex" | "bcontains" | "bstartswith", l: Operand, r: Operand, at: SourceLocation): Term {
    if (!("c" in r.str) || r.known) {
      this.error(at, `'${op}' needs a literal on its right, found the field '${r.text}'`, "Semantic")
      return false
    }
    const test = valueTest(op, r.str.c)
    if (typeof test !== "function") {
      this.error(at, test.problem, "Semantic")
      return false
    }
    const any = (v: string) => test(v) || (v.indexOf(",") >= 0 && v.split(",").some(test))
    if ("c" in l.str) return any(l.str.c)
    const memo = this.memo
    const slot = l.str.slot
    return this.graph.leaf(`${op}|${strKey(l.str)}|${JSON.stringify(r.str.c)}`, () => byValue(memo, slot, any), undefined, undefined, memo.scopeOf(slot))
  }

  private attributeOperand(text: string, scope: Scope): Operand {
    const def = scope.falco === true ? falcoOrAttribute(text) : attributeTable.get(text)
    if (def !== undefined) {
      const t = scope.type
      const reads = attributeScope(def)
      const slot = this.memo.slot(def.str, def.str, reads) // aliases share their target's slot
      // With the record type known, values that are the same on every record of that type fold.
      const strC = t === undefined ? undefined : constantOn(def.str, t)
      const str: StrSide = strC !== undefined ? { c: strC.value } : { slot }
      let int: IntSide = { c: parseGoInt(text) }
      if (def.int !== undefined) {
        const intC = t === undefined ? undefined : constantOn(def.int, t)
        int = intC !== undefined ? { c: intC.value } : { get: def.int, key: `g${this.fnKey(def.int)}`, scope: reads }
      }
      let exists = this.existsSide(def, slot)
      if (t !== undefined) {
        if (def.kind === "int" || def.kind === "bool") {
          const getC = constantOn(def.get as (r: FlatRecord) => unknown, t)
          if (getC !== undefined) exists = { c: def.kind === "int" ? getC.value !== 0n : getC.value === true }
        } else if (strC !== undefined) exists = { c: strC.value !== "" }
      }
      return { text, known: true, def, str, int, exists }
    }
    const bracket = text.indexOf("[")
    if (bracket > 0) {
      const base = attributeTable.get(text.slice(0, bracket))
      if (base !== undefined) {
        const path = text.slice(bracket + 1, -1)
        const stringValued = base.kind === "string" || base.kind === "strings" || base.kind === "ints"
        const lookup = (v: string) => (stringValued && path !== "" && v !== "" ? gjsonGet(v, path) : v)
        const baseC = scope.type === undefined ? undefined : constantOn(base.str, scope.type)
        if (baseC !== undefined) {
          return { text, known: true, str: { c: lookup(baseC.value) }, int: { c: parseGoInt(text) }, exists: { c: true } }
        }
        const reads = attributeScope(base)
        const baseSlot = this.memo.slot(base.str, base.str, reads)
        const memo = this.memo
        const getter =
          stringValued && path !== ""
            ? (r: FlatRecord) => {
                const v = memo.str(baseSlot, r)
                return v === "" ? v : gjsonGet(v, path)
              }
            : (r: FlatRecord) => memo.str(baseSlot, r)
        // MapInt and exists see the operand text (a literal): `x[path] > 1` compares 0, `x[path] exists` is true.
        const slot = this.memo.slot(`[path]${base.name}[${path}]`, getter, reads)
        return { text, known: true, str: { slot }, int: { c: parseGoInt(text) }, exists: { c: true } }
      }
    }
    return literal(text)
  }

  /** `exists` on an attribute: a non-empty string, a non-zero integer, `true` (§6.4). */
  private existsSide(def: AttributeDef, slot: number): ExistsSide {
    const key = def.kind === "int" || def.kind === "bool" ? `x${def.kind}${this.fnKey(def.get)}` : `xs${slot}`
    let get = this.existsGetters.get(key)
    if (get === undefined) {
      if (def.kind === "int") {
        const g = def.get as (r: FlatRecord) => bigint
        get = (r) => g(r) !== 0n
      } else if (def.kind === "bool") {
        const g = def.get as (r: FlatRecord) => boolean
        get = (r) => g(r) === true
      } else {
        const memo = this.memo
        get = (r) => memo.str(slot, r) !== ""
      }
      this.existsGetters.set(key, get)
    }
    return { get, key, scope: this.memo.scopeOf(slot) }
  }

  // -- numeric operands (NumericOperands.ts) -------------------------------------------------------

  private checkNumeric(op: BinaryOp, l: Operand, lAt: SourceLocation, r: Operand, rAt: SourceLocation): void {
    const sides: ReadonlyArray<readonly [Operand, Operand, SourceLocation]> = [
      [l, r, rAt],
      [r, l, lAt]
    ]
    for (const [attr, other, at] of sides) {
      if (!attr.known || other.known) continue
      const shown = `'${l.text} ${op} ${r.text}'`
      if (op === "<" || op === "<=" || op === ">" || op === ">=") {
        const problem = attr.def?.int === undefined ? undefined : relationalOperandProblem(other.text)
        if (problem !== undefined) {
          this.error(at, `'${other.text}' ${problem}: ${shown} needs a 64-bit integer (the reference compared ${attr.text} with 0)`, "Semantic")
        }
      } else if ((op === "=" || op === "!=") && attr.def !== undefined && isNumericAttribute(attr.def)) {
        const part = nonNumericPart(trimBoundingQuotes(other.text))
        if (part !== undefined) {
          const outcome = op === "=" ? "never true" : "always true"
          this.report("warning", at, `'${part}' is not a decimal integer and ${attr.text} is numeric: ${shown} is ${outcome}`)
        }
      }
    }
    // MapInt of an attribute without a 64-bit value is 0 (Q8, kept).
    if (op === "<" || op === "<=" || op === ">" || op === ">=") {
      for (const [side, at] of [
        [l, lAt],
        [r, rAt]
      ] as const) {
        if (side.known && side.def?.int === undefined) {
          this.report("warning", at, `'${side.text}' has no 64-bit integer value: '${op}' compares it as 0`)
        }
      }
    }
  }

  // -- comparisons (§6.4) -------------------------------------------------------------------------

  private compare(op: Exclude<BinaryOp, "glob" | "iglob" | "regex" | "bcontains" | "bstartswith">, l: Operand, r: Operand): Term {
    switch (op) {
      case "<":
      case "<=":
      case ">":
      case ">=": {
        if ("c" in l.int && "c" in r.int) return relationalConst(op, l.int.c, r.int.c)
        const li = l.int
        const ri = r.int
        const scope = joinScopes("c" in li ? "constant" : li.scope, "c" in ri ? "constant" : ri.scope)
        return this.graph.leaf(`${op}|${intKey(li)}|${intKey(ri)}`, () => relational(op, li, ri), undefined, undefined, scope)
      }
      case "!=":
        return this.graph.not(this.strCompare("=", l.str, r.str))
      default:
        return this.strCompare(op, l.str, r.str)
    }
  }

  private strCompare(op: StrOp, l: StrSide, r: StrSide): Term {
    if ("c" in l && "c" in r) return compareStr(l.c, r.c, op)
    if (op === "=" && "c" in l) return this.strCompare(op, r, l) // symmetric: attribute on the left
    if ("c" in r && op !== "=" && r.c.split(",").includes("")) return true // every string contains, starts and ends with ""
    // Against constants: `sf.opflags = …` / `in (…)` are decided by the operation flags (the operation
    // index); other equalities are looked up by value in the straight-line code.
    const equals = op === "=" && "slot" in l && "c" in r ? { slot: l.slot, values: Array.from(new Set(r.c.split(","))) } : undefined
    const flags = equals !== undefined && readsOnlyOpFlags(this.memo.getter(equals.slot)) ? opFlagsNameMasks(equals.values) : undefined
    const scope = joinScopes(this.strScope(l), this.strScope(r))
    return this.graph.leaf(`${op}|${strKey(l)}|${strKey(r)}`, () => strPredicate(this.memo, op, l, r), flags, flags === undefined ? equals : undefined, scope)
  }

  // -- in / pmatch (§5.2, §6.4) -------------------------------------------------------------------

  /**
   * The flat value list of an `in`/`pmatch` element list (lists expanded; bracket groups ignored, Q7).
   * `numeric`: the subject, when it is a numeric attribute (its values must be decimal integers).
   */
  private values(op: string, elements: ReadonlyArray<Element>, c: Condition, scope: Scope, numeric: string | undefined): Array<string> {
    const out: Array<string> = []
    const check = scope.muted ? undefined : { op, numeric }
    for (const el of elements) {
      if (el.kind === "group") {
        this.warn(scope, c.locate(el.offset), `bracket group in '${op}' list is ignored`)
        continue
      }
      this.expandElement(el.atom.text, c.locate(el.atom.offset), [], out, check)
    }
    return out
  }

  /** Warnings for a value that names no list (`check`: only where diagnostics are reported). */
  private checkValue(text: string, value: string, at: SourceLocation, check: { op: string; numeric: string | undefined }): void {
    if (this.listWarningsVersion !== this.version) {
      this.listWarnings.clear()
      this.listWarningsVersion = this.version
    }
    let undefinedList = this.listWarnings.get(text)
    if (undefinedList === undefined && !this.listWarnings.has(text)) {
      undefinedList = undefinedListWarning(text, {
        visible: this.lists,
        isMacro: (name) => this.allMacros.has(name),
        later: (name) => this.allLists.get(name)
      })
      this.listWarnings.set(text, undefinedList)
    }
    if (undefinedList !== undefined) this.report("warning", at, undefinedList)
    // "" comes from `items: []` (Q6): an empty list, which matches no number, as intended.
    const part = check.numeric === undefined || value === "" ? undefined : nonNumericPart(value)
    if (part !== undefined) {
      this.report("warning", at, `'${part}' is not a decimal integer and ${check.numeric} is numeric: this '${check.op}' value never matches`)
    }
  }

  private expandElement(
    text: string,
    at: SourceLocation,
    stack: Array<string>,
    out: Array<string>,
    check: { op: string; numeric: string | undefined } | undefined
  ): void {
    const list = this.lists.get(text)
    if (list === undefined) {
      const value = trimBoundingQuotes(text)
      if (check !== undefined) this.checkValue(text, value, at, check)
      out.push(value)
      return
    }
    // Counted before anything is built (a count per list, memoised), so an oversized list costs nothing.
    if (stack.length === 0) {
      const n = out.length + this.expandedSize(text, [])
      if (n > MAX_LIST_VALUES) {
        this.error(at, `list '${text}' expands to ${n > 1e15 ? "more than 10^15" : n} values (at most ${MAX_LIST_VALUES})`, "Semantic")
        return
      }
    }
    const i = stack.indexOf(text)
    if (i >= 0) {
      this.error(at, `list cycle: ${[...stack.slice(i), text].join(" -> ")}`, "Cycle")
      return
    }
    if (stack.length >= MAX_EXPANSION_DEPTH) {
      this.error(at, `list references nested too deeply (more than ${MAX_EXPANSION_DEPTH} levels)`, "Semantic")
      return
    }
    stack.push(text)
    for (const item of list.item.items) this.expandElement(item.text, item.pos, stack, out, check)
    stack.pop()
  }

  /** Values a list reference expands to (cycles and over-deep nesting count 0: expanding reports them). */
  private expandedSize(text: string, stack: Array<string>): number {
    const list = this.lists.get(text)
    if (list === undefined) return 1
    const known = this.listSizes.get(text)
    if (known !== undefined) return known
    if (stack.includes(text) || stack.length >= MAX_EXPANSION_DEPTH) return 0
    stack.push(text)
    let n = 0
    for (const item of list.item.items) n += this.expandedSize(item.text, stack)
    stack.pop()
    this.listSizes.set(text, n)
    return n
  }

  private list(op: "in" | "pmatch", subject: Operand, values: ReadonlyArray<string>): Term {
    const segs = Array.from(new Set(values.flatMap((v) => v.split(",")))).sort()
    if (segs.length === 0) return false // only bracket groups: nothing to compare with
    if (op === "in") return this.strCompare("=", subject.str, { c: segs.join(",") })
    if (segs.includes("")) return true // "" is contained in everything
    const s = subject.str
    if ("c" in s) return segs.some((v) => s.c.includes(v))
    const memo = this.memo
    const slot = s.slot
    return this.graph.leaf(`pmatch|${strKey(s)}|${JSON.stringify(segs)}`, () => {
      if (segs.length === 1) {
        const v = segs[0]
        return byValue(memo, slot, (u) => u.includes(v))
      }
      if (segs.length < 4) {
        const n = segs.length
        return byValue(memo, slot, (u) => {
          for (let i = 0; i < n; i++) if (u.includes(segs[i])) return true
          return false
        })
      }
      return byValue(memo, slot, multiContains(segs))
    }, undefined, undefined, memo.scopeOf(slot))
  }
}

// ---------------------------------------------------------------------------------------------------
// Leaf closures

/** A string comparison with at least one attribute side (constants are folded by the caller). */
const strPredicate = (memo: RecordMemo, op: StrOp, l: StrSide, r: StrSide): Pred => {
  if ("c" in l && "slot" in r) {
    const lc = l.c
    const s = r.slot
    return (x) => compareStr(lc, memo.str(s, x), op)
  }
  const s = (l as { slot: number }).slot
  if ("slot" in r) {
    const b = r.slot
    if (op === "=") {
      return (x) => {
        const u = memo.str(s, x)
        const v = memo.str(b, x)
        return u === v || ((u.indexOf(",") >= 0 || v.indexOf(",") >= 0) && compareStr(u, v, "="))
      }
    }
    return (x) => compareStr(memo.str(s, x), memo.str(b, x), op)
  }
  // attribute against a literal: the literal is split once, here
  const segs = r.c.split(",")
  switch (op) {
    case "=":
      if (segs.length === 1) {
        const v = segs[0]
        const vc = `${v},`
        const cv = `,${v}`
        const cvc = `,${v},`
        return (x) => hasSegment(memo.str(s, x), v, vc, cv, cvc)
      } else {
        const set = new Set(segs)
        return (x) => {
          const u = memo.str(s, x)
          if (set.has(u)) return true
          if (u.indexOf(",") < 0) return false
          const parts = memo.segments(s, x)
          for (let i = 0; i < parts.length; i++) if (set.has(parts[i])) return true
          return false
        }
      }
    case "contains":
      return byValue(memo, s, anyOf(segs, (v) => (u) => u.includes(v)))
    case "icontains": {
      const lowered = anyOf(
        segs.map((v) => goLower(v)),
        (v) => (l) => l.includes(v)
      )
      return byValue(memo, s, (u) => lowered(goLower(u)))
    }
    case "startswith":
      return byValue(
        memo,
        s,
        anyOf(segs, (v) => {
          const cv = `,${v}`
          return (u) => u.startsWith(v) || u.includes(cv)
        })
      )
    case "endswith":
      return byValue(
        memo,
        s,
        anyOf(segs, (v) => {
          const vc = `${v},`
          return (u) => u.endsWith(v) || u.includes(vc)
        })
      )
  }
}

/**
 * A test of one attribute's value that remembers its last answer. Records of one process (or container)
 * carry the very same string, and they come in runs, so a scan (`contains`, `pmatch`, `startswith` with
 * its comma-segment search, a regex) runs once per run instead of once per record.
 */
const byValue = (memo: RecordMemo, slot: number, test: (u: string) => boolean): Pred => {
  let last: string | undefined
  let answer = false
  return (x) => {
    const u = memo.str(slot, x)
    if (u !== last) {
      answer = test(u)
      last = u
    }
    return answer
  }
}

/**
 * "Does `u` contain any of `patterns`" (non-empty patterns) in one pass over `u`: patterns are bucketed
 * by their first UTF-16 code unit, so each position of `u` tries only the patterns that can start there.
 */
export const multiContains = (patterns: ReadonlyArray<string>): ((u: string) => boolean) => {
  const ascii: Array<Array<string> | undefined> = new Array<Array<string> | undefined>(128).fill(undefined)
  const other = new Map<number, Array<string>>()
  let minLen = Infinity
  for (const p of patterns) {
    minLen = Math.min(minLen, p.length)
    const c = p.charCodeAt(0)
    let b = c < 128 ? ascii[c] : other.get(c)
    if (b === undefined) {
      b = []
      if (c < 128) ascii[c] = b
      else other.set(c, b)
    }
    b.push(p)
  }
  const hasOther = other.size > 0
  return (u) => {
    const last = u.length - minLen
    for (let i = 0; i <= last; i++) {
      const c = u.charCodeAt(i)
      const b = c < 128 ? ascii[c] : hasOther ? other.get(c) : undefined
      if (b === undefined) continue
      for (let j = 0; j < b.length; j++) if (u.startsWith(b[j], i)) return true
    }
    return false
  }
}

/** Whether any of the tests `one(v)` (one per segment of a literal) holds for a value. */
const anyOf = (segs: ReadonlyArray<string>, one: (v: string) => (u: string) => boolean): ((u: string) => boolean) => {
  if (segs.length === 1) return one(segs[0])
  const tests = segs.map(one)
  return (u) => tests.some((t) => t(u))
}

type RelOp = "<" | "<=" | ">" | ">="

const relationalConst = (op: RelOp, a: bigint, b: bigint): boolean =>
  op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b

/** MapInt(l) op MapInt(r), signed 64-bit (§6.3); at least one side is dynamic. */
const relational = (op: RelOp, l: IntSide, r: IntSide): Pred => {
  if ("get" in l && "c" in r) {
    const g = l.get
    const b = r.c
    switch (op) {
      case "<":
        return (x) => g(x) < b
      case "<=":
        return (x) => g(x) <= b
      case ">":
        return (x) => g(x) > b
      case ">=":
        return (x) => g(x) >= b
    }
  }
  if ("c" in l && "get" in r) {
    const a = l.c
    const g = r.get
    switch (op) {
      case "<":
        return (x) => a < g(x)
      case "<=":
        return (x) => a <= g(x)
      case ">":
        return (x) => a > g(x)
      case ">=":
        return (x) => a >= g(x)
    }
  }
  const f = (l as { get: (r: FlatRecord) => bigint }).get
  const g = (r as { get: (r: FlatRecord) => bigint }).get
  switch (op) {
    case "<":
      return (x) => f(x) < g(x)
    case "<=":
      return (x) => f(x) <= g(x)
    case ">":
      return (x) => f(x) > g(x)
    case ">=":
      return (x) => f(x) >= g(x)
  }
}

/** Compiles parsed policy files, in load order, into rules and filters (§5). */
export const compilePolicyFiles = (files: ReadonlyArray<PolicyFile>, options: CompileOptions = {}): CompileOutput => {
  const allLists = new Map<string, SourceLocation>()
  const allMacros = new Set<string>()
  for (const f of files) {
    for (const item of f.items) {
      if (item.kind === "list" && !allLists.has(item.name)) allLists.set(item.name, item.pos)
      if (item.kind === "macro") allMacros.add(item.name)
    }
  }
  const c = new Compiler(options, allLists, allMacros)
  for (const f of files) c.compileFile(f)
  const { rules, filters } = c.finish()
  return {
    rules,
    filters,
    macroCount: c.macroCount,
    listCount: c.listCount,
    slotCount: c.memo.slotCount,
    nodeCount: c.graph.size,
    sharedNodeCount: c.graph.memoized,
    errors: c.errors,
    warnings: c.warnings,
    memo: c.memo
  }
}
