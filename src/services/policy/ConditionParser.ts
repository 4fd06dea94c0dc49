/**
 * The condition grammar of the Falco dialect (policy-language.md §4), parsed with `arcsecond`.
 *
 * ```
 * expr    := or
 * or      := and ('or' and)*                      -- left-associative
 * and     := term ('and' term)*                   -- left-associative; binds tighter than 'or'
 * term    := 'not' term                           -- binds to one term: `not a and b` = `(not a) and b`
 *          | '(' expr ')'
 *          | WORD                                 -- a lone bare word: macro reference
 *          | subject 'exists'
 *          | subject BINOP value
 *          | subject ('in' | 'pmatch') '(' elem (',' elem)* ')'
 * subject := WORD | QUOTED
 * value   := WORD | QUOTED | '<' | '>'             -- `evt.dir=<`
 * elem    := value | '[' [value (',' value)*] [','] ']'   -- bracket groups: parsed, ignored (Q7)
 * BINOP   := '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'icontains' | 'startswith' | 'endswith'
 * ```
 *
 * Lexical rules (§4.1): whitespace (space, tab, LF, CR, FF) separates tokens. Reserved words are
 * lowercase whole words (`and or not in pmatch exists contains icontains startswith endswith`; `AND` is
 * an ordinary word, Q19). A bare word starts with `[A-Za-z0-9_./-]` and continues with
 * `[A-Za-z0-9_./*:-]` or bracket groups `[…]` of those characters (`proc.aname[2]`,
 * `sf.ke.message[items.0.namespace]`); a leading `-` is an sfprocessor extension (Y5). Quoted atoms are
 * `"…"`, `'…'`, `''…''` and `\"…\"`, shortest match, on one line, no escapes; they keep their quotes.
 * Operators match longest first (`<=` before `<`; `=>` is `=` then `>`).
 *
 * The tokenizer and the two token primitives (`peek`, `next`) are hand-written `arcsecond` parsers that
 * read the condition as a JavaScript string (so parser indexes are UTF-16 offsets, the unit positions
 * are reported in); the grammar is `arcsecond` combinators (`coroutine`, `recursiveParser`, `withData`).
 * Every rejection is a `fail` at the offending token with one of the exact messages listed in
 * `SyntaxMessages` below. Nesting (`(` and `not`) is capped at `MAX_NESTING` levels.
 */
import { Parser, coroutine, recursiveParser, updateError, updateParserState, updateResult, withData } from "arcsecond"
import { Either } from "effect"
import type { Atom, BinaryOp, Element, Expr, ListOp } from "../../domain/policy/PolicyAst.js"

/** How deeply parentheses and `not` may nest. */
export const MAX_NESTING = 100

/** Reserved words: lowercase only, whole words (§4.1). */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  "and",
  "or",
  "not",
  "in",
  "pmatch",
  "exists",
  "contains",
  "icontains",
  "startswith",
  "endswith"
])

/** A rejected condition: the message and the offset (in the condition text) of the offending token. */
export interface ConditionSyntaxError {
  readonly offset: number
  readonly message: string
}

// ---------------------------------------------------------------------------------------------------
// Tokens

type TokKind = "word" | "quoted" | "kw" | "op" | "(" | ")" | "," | "[" | "]" | "end"

interface Tok {
  readonly kind: TokKind
  readonly text: string
  readonly start: number
  readonly end: number
}

const WORD = /[A-Za-z0-9_./-](?:[A-Za-z0-9_./*:-]|\[[A-Za-z0-9_./*:-]+\])*/y
const BARE_WORD = /^[A-Za-z0-9_./-](?:[A-Za-z0-9_./*:-]|\[[A-Za-z0-9_./*:-]+\])*$/
const BACKSLASH_QUOTED = /\\"[^\n]*?\\"/y
const DOUBLED_QUOTED = /''[^'\s,()][^'\n]*?''/y
const DOUBLE_QUOTED = /"[^"\n]*"/y
const SINGLE_QUOTED = /'[^'\n]*'/y

/** True if `s` is a bare word (§4.1) that is not a reserved word: a valid macro or list name. */
export const isValidName = (s: string): boolean => BARE_WORD.test(s) && !RESERVED_WORDS.has(s)

const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c

const sticky = (re: RegExp, text: string, at: number): string | undefined => {
  re.lastIndex = at
  const m = re.exec(text)
  return m === null ? undefined : m[0]
}

const charName = (text: string, at: number): string => {
  const cp = text.codePointAt(at)!
  return cp < 0x20 || cp === 0x7f ? `U+${cp.toString(16).toUpperCase().padStart(4, "0")}` : String.fromCodePoint(cp)
}

/** The token at or after `at` (whitespace skipped), or a lexical error. */
const lex = (text: string, at: number): Tok | ConditionSyntaxError => {
  let i = at
  const n = text.length
  while (i < n && isWs(text.charCodeAt(i))) i++
  if (i >= n) return { kind: "end", text: "", start: n, end: n }
  const c = text.charCodeAt(i)
  const tok = (kind: TokKind, t: string): Tok => ({ kind, text: t, start: i, end: i + t.length })
  switch (c) {
    case 0x28 /* ( */:
      return tok("(", "(")
    case 0x29 /* ) */:
      return tok(")", ")")
    case 0x2c /* , */:
      return tok(",", ",")
    case 0x5b /* [ */:
      return tok("[", "[")
    case 0x5d /* ] */:
      return tok("]", "]")
    case 0x3c /* < */:
    case 0x3e /* > */:
      return tok("op", text.charCodeAt(i + 1) === 0x3d ? text.slice(i, i + 2) : text[i])
    case 0x3d /* = */:
      return tok("op", "=")
    case 0x21 /* ! */:
      return text.charCodeAt(i + 1) === 0x3d ? tok("op", "!=") : { offset: i, message: "unexpected character '!'" }
    case 0x5c /* \ */: {
      if (text.charCodeAt(i + 1) !== 0x22) return { offset: i, message: "unexpected character '\\'" }
      const q = sticky(BACKSLASH_QUOTED, text, i)
      return q === undefined ? { offset: i, message: "unterminated quoted string" } : tok("quoted", q)
    }
    case 0x22 /* " */: {
      const q = sticky(DOUBLE_QUOTED, text, i)
      return q === undefined ? { offset: i, message: "unterminated quoted string" } : tok("quoted", q)
    }
    case 0x27 /* ' */: {
      const q = sticky(DOUBLED_QUOTED, text, i) ?? sticky(SINGLE_QUOTED, text, i)
      return q === undefined ? { offset: i, message: "unterminated quoted string" } : tok("quoted", q)
    }
  }
  const w = sticky(WORD, text, i)
  if (w === undefined) return { offset: i, message: `unexpected character '${charName(text, i)}'` }
  return tok(RESERVED_WORDS.has(w) ? "kw" : "word", w)
}

const describe = (t: Tok): string => (t.kind === "end" ? "end of condition" : `'${t.text}'`)

// ---------------------------------------------------------------------------------------------------
// arcsecond primitives over the condition string (carried in the parser state's data)

interface ParseData {
  readonly text: string
  depth: number
  /** One-token cache: `peek` followed by `next` lexes once. */
  cacheAt: number
  cacheTok: Tok | ConditionSyntaxError | undefined
}

type P<T> = Parser<T, string, ParseData>

const lexCached = (d: ParseData, at: number): Tok | ConditionSyntaxError => {
  if (d.cacheAt !== at || d.cacheTok === undefined) {
    d.cacheAt = at
    d.cacheTok = lex(d.text, at)
  }
  return d.cacheTok
}

const isError = (t: Tok | ConditionSyntaxError): t is ConditionSyntaxError => "message" in t

/** The next token, not consumed. */
const peek: P<Tok> = new Parser((state) => {
  if (state.isError) return state
  const t = lexCached(state.data, state.index)
  return isError(t) ? updateError(updateParserState(state, null, t.offset), t.message) : updateResult(state, t)
})

/** The next token, consumed. */
const next: P<Tok> = new Parser((state) => {
  if (state.isError) return state
  const t = lexCached(state.data, state.index)
  return isError(t) ? updateError(updateParserState(state, null, t.offset), t.message) : updateParserState(state, t, t.end)
})

/** Fails with `message` at `offset`. */
const failAt = (offset: number, message: string): P<never> =>
  new Parser((state) => (state.isError ? state : updateError(updateParserState(state, null, offset), message))) as P<never>

/** Enters one nesting level (`(` or `not` at `offset`); fails beyond `MAX_NESTING`. */
const enter = (offset: number): P<null> =>
  new Parser((state) => {
    if (state.isError) return state
    if (state.data.depth >= MAX_NESTING) {
      return updateError(updateParserState(state, null, offset), `condition nested too deeply (more than ${MAX_NESTING} levels)`)
    }
    state.data.depth++
    return updateResult(state, null)
  })

const leave: P<null> = new Parser((state) => {
  if (state.isError) return state
  state.data.depth--
  return updateResult(state, null)
})

// ---------------------------------------------------------------------------------------------------
// Grammar

const BINOPS: ReadonlySet<string> = new Set(["=", "!=", "<", "<=", ">", ">=", "contains", "icontains", "startswith", "endswith"])

const isBinop = (t: Tok): boolean => (t.kind === "op" || t.kind === "kw") && BINOPS.has(t.text)
const isSubject = (t: Tok): boolean => t.kind === "word" || t.kind === "quoted"
const isValue = (t: Tok): boolean => isSubject(t) || (t.kind === "op" && (t.text === "<" || t.text === ">"))
const atomOf = (t: Tok): Atom => ({ text: t.text, quoted: t.kind === "quoted", offset: t.start })

type Run = <K>(parser: P<K>) => K
// arcsecond's `coroutine` is typed for string errors and untyped data; ours carry ParseData.
const co = <T>(fn: (run: Run) => T): P<T> => coroutine(fn as never) as unknown as P<T>

const expr: P<Expr> = recursiveParser(() => orExpr)

/** A bracket group inside `in (…)`: `[` already peeked. */
const group: P<Element> = co((run) => {
  const open = run(next)
  const atoms: Array<Atom> = []
  for (;;) {
    const t = run(peek)
    if (t.kind === "]") {
      run(next)
      return { kind: "group", atoms, offset: open.start }
    }
    if (!isValue(t)) return run(failAt(t.start, `expected a value or ']' in bracket group, found ${describe(t)}`))
    atoms.push(atomOf(run(next)))
    const sep = run(peek)
    if (sep.kind === ",") run(next)
    else if (sep.kind !== "]") return run(failAt(sep.start, `expected ',' or ']' in bracket group, found ${describe(sep)}`))
  }
})

/** `'(' elem (',' elem)* ')'` after `in` / `pmatch`. */
const elements = (op: ListOp): P<ReadonlyArray<Element>> =>
  co((run) => {
    const open = run(peek)
    if (open.kind !== "(") return run(failAt(open.start, `expected '(' after '${op}', found ${describe(open)}`))
    run(next)
    const elems: Array<Element> = []
    for (;;) {
      const t = run(peek)
      if (t.kind === "[") elems.push(run(group))
      else if (isValue(t)) elems.push({ kind: "atom", atom: atomOf(run(next)) })
      else return run(failAt(t.start, `expected a value in '${op}' list, found ${describe(t)}`))
      const sep = run(peek)
      if (sep.kind === ")") {
        run(next)
        return elems
      }
      if (sep.kind !== ",") return run(failAt(sep.start, `expected ',' or ')' in '${op}' list, found ${describe(sep)}`))
      run(next)
    }
  })

const term: P<Expr> = recursiveParser(() =>
  co((run): Expr => {
    const t = run(peek)
    if (t.kind === "kw" && t.text === "not") {
      run(next)
      run(enter(t.start))
      const operand = run(term)
      run(leave)
      return { kind: "not", operand, offset: t.start }
    }
    if (t.kind === "(") {
      run(next)
      run(enter(t.start))
      const inner = run(expr)
      const close = run(peek)
      if (close.kind !== ")") return run(failAt(close.start, `expected 'and', 'or' or ')', found ${describe(close)}`))
      run(next)
      run(leave)
      return inner
    }
    if (!isSubject(t)) return run(failAt(t.start, `expected a condition, found ${describe(t)}`))
    run(next)
    const subject = atomOf(t)
    const op = run(peek)
    if (op.kind === "kw" && op.text === "exists") {
      run(next)
      return { kind: "exists", subject }
    }
    if (isBinop(op)) {
      run(next)
      const v = run(peek)
      if (!isValue(v)) return run(failAt(v.start, `expected a value after '${op.text}', found ${describe(v)}`))
      run(next)
      return { kind: "compare", op: op.text as BinaryOp, left: subject, right: atomOf(v) }
    }
    if (op.kind === "kw" && (op.text === "in" || op.text === "pmatch")) {
      run(next)
      const listOp = op.text as ListOp
      return { kind: "list", op: listOp, subject, elements: run(elements(listOp)) }
    }
    if (t.kind === "quoted") return run(failAt(op.start, `expected an operator after ${describe(t)}, found ${describe(op)}`))
    return { kind: "macro", name: t.text, offset: t.start }
  })
)

const andExpr: P<Expr> = co((run) => {
  const first = run(term)
  let operands: Array<Expr> | undefined
  for (;;) {
    const t = run(peek)
    if (t.kind !== "kw" || t.text !== "and") break
    run(next)
    ;(operands ??= [first]).push(run(term))
  }
  return operands === undefined ? first : { kind: "and", operands }
})

const orExpr: P<Expr> = co((run) => {
  const first = run(andExpr)
  let operands: Array<Expr> | undefined
  for (;;) {
    const t = run(peek)
    if (t.kind !== "kw" || t.text !== "or") break
    run(next)
    ;(operands ??= [first]).push(run(andExpr))
  }
  return operands === undefined ? first : { kind: "or", operands }
})

const condition: P<Expr> = co((run) => {
  const e = run(expr)
  const t = run(peek)
  if (t.kind !== "end") return run(failAt(t.start, `expected 'and', 'or' or end of condition, found ${describe(t)}`))
  return e
})

const withText = withData(condition)

/**
 * Parses a condition. Offsets in the AST and in errors are UTF-16 offsets into `text`.
 */
export const parseCondition = (text: string): Either.Either<Expr, ConditionSyntaxError> => {
  const data: ParseData = { text, depth: 0, cacheAt: -1, cacheTok: undefined }
  let result: ReturnType<P<Expr>["run"]>
  try {
    result = withText(data).run(text) as ReturnType<P<Expr>["run"]>
  } catch (e) {
    if (e instanceof RangeError) {
      return Either.left({ offset: 0, message: `condition nested too deeply (more than ${MAX_NESTING} levels)` })
    }
    throw e
  }
  if (result.isError) return Either.left({ offset: result.index, message: String(result.error) })
  return Either.right((result as { readonly result: Expr }).result)
}
