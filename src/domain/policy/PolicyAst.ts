/**
 * The Falco-dialect policy language as data: the items of a policy file (policy-language.md §3.1) with
 * their source positions, and the condition AST (§4.2). Produced by `PolicyLoader` (YAML → items) and
 * `ConditionParser` (condition text → `Expr`); consumed by `PolicyCompiler`.
 */
import type { Priority } from "../policyEvent.js"
import type { SourcePos } from "./Diagnostic.js"

// ---------------------------------------------------------------------------------------------------
// Conditions

/** String operators (MapStr on both sides, comma-split any-pair, §6.4) and relational ones (MapInt, §6.3). */
export type BinaryOp = "=" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "icontains" | "startswith" | "endswith"

export type ListOp = "in" | "pmatch"

/** An operand as written: a bare word, a quoted atom (quotes kept, §4.1), or `<` / `>`. */
export interface Atom {
  readonly text: string
  readonly quoted: boolean
  /** Offset of the atom's first character in the condition text. */
  readonly offset: number
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

/** A position inside a policy file, with the text of its line. */
export interface SourceLocation extends SourcePos {
  readonly snippet?: string
}

/** A parsed condition and the way back from offsets in its text to the file. */
export interface Condition {
  readonly text: string
  readonly expr: Expr
  /** Maps an offset in `text` (0 … text.length) to its position in the file. */
  readonly locate: (offset: number) => SourceLocation
}

// ---------------------------------------------------------------------------------------------------
// Items

interface ItemBase {
  /** Position of the item key (`rule`, `macro`, …). */
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

export type PolicyItem = RuleItem | FilterItem | MacroItem | ListItem | EngineVersionItem

/** One policy file after the YAML pass. */
export interface PolicyFile {
  readonly path: string
  readonly items: ReadonlyArray<PolicyItem>
}
