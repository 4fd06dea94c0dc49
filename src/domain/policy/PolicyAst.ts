/**
 * The Falco-dialect policy language as data: the items of a policy file (policy-language.md §3.1) with
 * their source positions, and the condition AST (§4.2). Produced by `PolicyLoader` (YAML → items) and
 * `ConditionParser` (condition text → `Expr`); consumed by `PolicyCompiler`.
 */
import type { Priority } from "../policyEvent.js"
import type { SourcePos } from "./Diagnostic.js"

// ---------------------------------------------------------------------------------------------------
// Conditions

/**
 * String operators (MapStr on both sides, comma-split any-pair, §6.4) and relational ones (MapInt, §6.3);
 * Falco's `glob`, `iglob`, `regex`, `bcontains`, `bstartswith` (`==` is read as `=`).
 */
export type BinaryOp =
  | "="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "contains"
  | "icontains"
  | "startswith"
  | "endswith"
  | "glob"
  | "iglob"
  | "regex"
  | "bcontains"
  | "bstartswith"

/** `intersects` (Falco) is `in` on a multi-valued field: some element is in the list. */
export type ListOp = "in" | "pmatch" | "intersects"

/** Falco's comparison modifiers over a list: exactly one, at least one, every element satisfies the operator. */
export type ListModifier = "oneof" | "anyof" | "allof"

/** Falco's field transformers (libs filter grammar), applied innermost first. */
export type Transformer = "tolower" | "toupper" | "b64" | "basename" | "len"

/** An operand as written: a bare word, a quoted atom (quotes kept, §4.1), or `<` / `>`. */
export interface Atom {
  readonly text: string
  readonly quoted: boolean
  /** Offset of the atom's first character in the condition text. */
  readonly offset: number
  /** `tolower(toupper(f))` → the field `f` with `["toupper", "tolower"]` (innermost first). */
  readonly transformers?: ReadonlyArray<Transformer>
  /** `val(f)`: the field's value, never a literal (Falco's field-to-field comparison). */
  readonly val?: boolean
  /**
   * Falco's multi-value transformers: `join(sep, (a, b, …))` and `concat(a, b, …)`, whose parts are fields
   * (possibly transformed), quoted strings or numbers. `transformers` then apply to the result.
   */
  readonly compose?: {
    readonly name: "join" | "concat" | "getopt"
    readonly separator: string
    readonly parts: ReadonlyArray<Atom>
    /** `getopt(argv, "optstring")[c]`: argv is `parts` (a list) or the one part's value split at blanks. */
    readonly getopt?: { readonly optstring: string; readonly selector?: string; readonly argvList: boolean }
  }
}

/** An element of `in (…)` / `pmatch (…)`: an atom, or a bracket group (parsed, then ignored: Q7). */
export type Element =
  | { readonly kind: "atom"; readonly atom: Atom }
  | { readonly kind: "group"; readonly atoms: ReadonlyArray<Atom>; readonly offset: number }

export type Expr =
  | { readonly kind: "and"; readonly operands: ReadonlyArray<Expr> }
  | { readonly kind: "or"; readonly operands: ReadonlyArray<Expr> }
  | { readonly kind: "not"; readonly operand: Expr; readonly offset: number }
  /** A lone bare word: a macro reference. */
  | { readonly kind: "macro"; readonly name: string; readonly offset: number }
  | { readonly kind: "exists"; readonly subject: Atom }
  | { readonly kind: "compare"; readonly op: BinaryOp; readonly left: Atom; readonly right: Atom }
  | { readonly kind: "list"; readonly op: ListOp; readonly subject: Atom; readonly elements: ReadonlyArray<Element> }
  /** Falco's list modifiers (`proc.name == oneof (a, b)`): `op` holds for exactly one / some / every element. */
  | { readonly kind: "modified"; readonly op: BinaryOp; readonly modifier: ListModifier; readonly subject: Atom; readonly elements: ReadonlyArray<Element> }

/** A position inside a policy file, with the text of its line. */
export interface SourceLocation extends SourcePos {
  readonly snippet?: string
}

/** A condition's text and the way back from offsets in it to the file (not parsed yet: Falco appends). */
export interface ConditionText {
  readonly text: string
  /** Maps an offset in `text` (0 … text.length) to its position in the file. */
  readonly locate: (offset: number) => SourceLocation
}

/** A parsed condition. */
export interface Condition extends ConditionText {
  readonly expr: Expr
}

// ---------------------------------------------------------------------------------------------------
// Items

interface ItemBase {
  /** Position of the item key (`rule`, `macro`, …). */
  readonly pos: SourceLocation
}

/**
 * Which language a file speaks: `falco` when it uses anything only current Falco rule files have
 * (`required_engine_version`, `required_plugin_versions`, `source`, `exceptions`, `override`, `append` on a
 * rule or list); `sysflow` otherwise (our and the reference's files).
 */
export type Dialect = "falco" | "sysflow"

/** A value of an exception's `values` (Falco): a scalar, or a sequence (a list of values). */
export type ExceptionValue = string | ReadonlyArray<ExceptionValue>

/** One entry of a rule's `exceptions` (Falco): compiled into `and not (…)` of the rule's condition. */
export interface ExceptionSpec {
  readonly name: string
  /** A sequence of fields, or one field (the single-field form, where each value is one comparison). */
  readonly fields: ReadonlyArray<string> | string | undefined
  readonly comps: ReadonlyArray<string> | string | undefined
  readonly values: ReadonlyArray<ExceptionValue>
  readonly pos: SourceLocation
}

export interface RuleItem extends ItemBase {
  readonly kind: "rule"
  readonly name: string
  readonly desc: string
  readonly condition: Condition
  readonly priority: Priority
  readonly tags: ReadonlyArray<string>
  readonly actions: ReadonlyArray<string>
  /** Absent = every record type; `[]` in YAML gives `[""]` (Q6), which matches none. */
  readonly prefilter: ReadonlyArray<string> | undefined
  readonly enabled: boolean
  /** Positions of the `actions` elements (for unknown-action warnings). */
  readonly actionPos: ReadonlyArray<SourceLocation>
  /** Falco's output template (`%field`), as written. */
  readonly output?: string
  /** Falco's event source; absent means `syscall`. */
  readonly source?: string
  readonly exceptions?: ReadonlyArray<ExceptionSpec>
  /** Falco's `skip-if-unknown-filter: true`. */
  readonly skipIfUnknownFilter?: boolean
  /** Why the rule can never apply to SysFlow data (set while merging Falco files); the rule stays listed. */
  readonly inactive?: string
  readonly dialect?: Dialect
}

export interface FilterItem extends ItemBase {
  readonly kind: "filter"
  /** `filter` and `drop` are synonyms. */
  readonly keyword: "filter" | "drop"
  readonly name: string
  readonly condition: Condition
  readonly enabled: boolean
}

export interface MacroItem extends ItemBase {
  readonly kind: "macro"
  readonly name: string
  readonly condition: Condition
}

/** A raw list element (expanded at use, §5.2). */
export interface ListElement {
  readonly text: string
  readonly pos: SourceLocation
}

export interface ListItem extends ItemBase {
  readonly kind: "list"
  readonly name: string
  readonly items: ReadonlyArray<ListElement>
}

export interface EngineVersionItem extends ItemBase {
  readonly kind: "required_engine_version"
  readonly value: string
}

export interface PluginVersionsItem extends ItemBase {
  readonly kind: "required_plugin_versions"
  readonly plugins: ReadonlyArray<{ readonly name: string; readonly version: string; readonly pos: SourceLocation }>
}

/** What `append: true` / `override:` do to one key: append to the earlier value, or replace it. */
export type PatchMode = "append" | "replace"

/**
 * A Falco `append: true` or `override:` item (or a rule item with only `enabled`): changes the earlier
 * definition of the same rule, macro or list, wherever it is (resolved by `FalcoMerge` before compiling).
 */
export interface PatchItem extends ItemBase {
  readonly kind: "patch"
  readonly target: "rule" | "macro" | "list"
  readonly name: string
  /** How the item was written: `append: true`, `override:`, or a rule with only `enabled`. */
  readonly via: "append" | "override" | "enabled"
  /** The keys the patch changes, and how. */
  readonly modes: ReadonlyMap<string, PatchMode>
  readonly condition?: ConditionText
  readonly items?: ReadonlyArray<ListElement>
  readonly exceptions?: ReadonlyArray<ExceptionSpec>
  readonly desc?: string
  readonly output?: string
  readonly priority?: Priority
  readonly tags?: ReadonlyArray<string>
  readonly enabled?: boolean
}

export type PolicyItem = RuleItem | FilterItem | MacroItem | ListItem | EngineVersionItem | PluginVersionsItem | PatchItem

/** One policy file after the YAML pass. */
export interface PolicyFile {
  readonly path: string
  readonly items: ReadonlyArray<PolicyItem>
  /** Absent: `sysflow`. */
  readonly dialect?: Dialect
}
