/**
 * The Sigma condition grammar (Sigma rules specification v2, "Condition"), parsed with `arcsecond`.
 *
 * ```
 * condition := or END
 * or        := and ('or' and)*
 * and       := not ('and' not)*
 * not       := 'not' not | primary
 * primary   := '(' or ')' | QUANT 'of' ('them' | PATTERN) | IDENT
 * QUANT     := '1' | 'any' | 'all'
 * IDENT     := [A-Za-z0-9_.-]+          PATTERN := IDENT with '*' wildcards
 * ```
 *
 * Precedence, least binding first: `or`, `and`, `not`, `x of`, parentheses. Keywords are whole words,
 * matched case-insensitively. `them` means every search identifier not starting with `_`. Aggregations
 * (`| count() > 5`, `near`) are Sigma v1 features replaced by correlation rules: they are rejected with a
 * message, never silently dropped (the reference dropped them).
 */
import {
  char,
  choice,
  endOfInput,
  many,
  optionalWhitespace,
  Parser,
  recursiveParser,
  regex,
  sequenceOf,
  updateResult
} from "arcsecond"
import { Either } from "effect"

export type CondExpr =
  | { readonly kind: "and" | "or"; readonly operands: ReadonlyArray<CondExpr> }
  | { readonly kind: "not"; readonly operand: CondExpr }
  | { readonly kind: "ref"; readonly name: string; readonly offset: number }
  | { readonly kind: "of"; readonly quantifier: "1" | "all"; readonly pattern: string | "them"; readonly offset: number }

export interface CondSyntaxError {
  /** Offset (UTF-16 units) in the condition text. */
  readonly offset: number
  readonly message: string
}

/** How deeply parentheses may nest, and how many `not` a condition may have (the parser and the compiler recurse). */
export const MAX_CONDITION_NESTING = 64
export const MAX_NEGATIONS = 256

/** arcsecond indexes a string input in UTF-8 bytes; diagnostics count UTF-16 units. */
const utf16Offset = (text: string, byteOffset: number): number =>
  Buffer.from(text, "utf8").subarray(0, byteOffset).toString("utf8").length

/** The current index (arcsecond gives no position parser). */
const position: Parser<number> = new Parser((state) => (state.isError ? state : updateResult(state, state.index)))

const NAME_CHARS = "A-Za-z0-9_.\\-"
const word = (w: string): Parser<string> =>
  sequenceOf([optionalWhitespace, regex(new RegExp(`^${w}(?![${NAME_CHARS}*?])`, "i"))]).map(([, t]) => t)

const KEYWORDS = new Set(["and", "or", "not", "of", "them"])

const name: Parser<{ name: string; offset: number }> = sequenceOf([
  optionalWhitespace,
  position,
  regex(new RegExp(`^[${NAME_CHARS}*]+`))
]).chain((r) => {
  const [, offset, text] = r as [string, number, string]
  return KEYWORDS.has(text.toLowerCase())
    ? new Parser<{ name: string; offset: number }>((s) => ({ ...s, isError: true, error: `unexpected '${text}'`, index: offset }))
    : Parser.of({ name: text, offset })
})

const expr: Parser<CondExpr> = recursiveParser(() => orExpr)

const quantified: Parser<CondExpr> = sequenceOf([
  optionalWhitespace,
  position,
  regex(new RegExp(`^(1|any|all)(?![${NAME_CHARS}*])`, "i")),
  word("of"),
  choice([word("them").map((): { name: string; offset: number } => ({ name: "them", offset: -1 })), name])
]).map((r): CondExpr => {
  const [, offset, q, , target] = r as [string, number, string, string, { name: string; offset: number }]
  return { kind: "of", quantifier: q.toLowerCase() === "all" ? "all" : "1", pattern: target.offset < 0 ? "them" : target.name, offset }
})

const parenthesised: Parser<CondExpr> = sequenceOf([optionalWhitespace, char("("), expr, optionalWhitespace, char(")")]).map(
  (r) => r[2] as CondExpr
)

const primary: Parser<CondExpr> = choice([
  parenthesised,
  quantified,
  name.map((n): CondExpr => ({ kind: "ref", name: n.name, offset: n.offset }))
])

const notExpr: Parser<CondExpr> = recursiveParser(() =>
  choice([sequenceOf([word("not"), notExpr]).map((r): CondExpr => ({ kind: "not", operand: r[1] as CondExpr })), primary])
)

const chain = (kind: "and" | "or", operand: Parser<CondExpr>): Parser<CondExpr> =>
  sequenceOf([operand, many(sequenceOf([word(kind), operand]).map((r) => r[1] as CondExpr))]).map((r) => {
    const [first, rest] = r as [CondExpr, Array<CondExpr>]
    return rest.length === 0 ? first : { kind, operands: [first, ...rest] }
  })

const andExpr = chain("and", notExpr)
const orExpr: Parser<CondExpr> = chain("or", andExpr)

const condition = sequenceOf([orExpr, optionalWhitespace, endOfInput]).map((r) => r[0] as CondExpr)

/**
 * The first place the condition goes beyond the caps (checked before parsing: the parser and the
 * compiler recurse once per parenthesis and per `not`).
 */
const tooDeep = (text: string): CondSyntaxError | undefined => {
  let depth = 0
  let nots = 0
  const tokens = /\(|\)|(?<![\w.*-])not(?![\w.*-])/gi
  for (let m = tokens.exec(text); m !== null; m = tokens.exec(text)) {
    if (m[0] === "(") depth++
    else if (m[0] === ")") depth--
    else nots++
    if (depth > MAX_CONDITION_NESTING) {
      return { offset: m.index, message: `condition nested too deeply (more than ${MAX_CONDITION_NESTING} levels of parentheses)` }
    }
    if (nots > MAX_NEGATIONS) return { offset: m.index, message: `condition has more than ${MAX_NEGATIONS} 'not'` }
  }
  return undefined
}

/** Unbalanced parentheses and a dangling operator, reported where they are (clearer than the parser's). */
const balance = (text: string): CondSyntaxError | undefined => {
  const open: Array<number> = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") open.push(i)
    else if (text[i] === ")" && open.pop() === undefined) return { offset: i, message: "unexpected ')'" }
  }
  if (open.length > 0) return { offset: open[open.length - 1], message: "'(' is never closed" }
  const dangling = /\b(and|or|not|of)\s*$/i.exec(text)
  if (dangling !== null) return { offset: dangling.index, message: `condition ends with '${dangling[1]}'` }
  return undefined
}

/** Parses a condition; the error names the offending offset. */
export const parseCondition = (text: string): Either.Either<CondExpr, CondSyntaxError> => {
  const bar = text.indexOf("|")
  if (bar >= 0) {
    return Either.left({ offset: bar, message: "aggregation expressions ('| count() ...') are not supported: use Sigma correlation rules" })
  }
  const near = /\bnear\b/i.exec(text)
  if (near !== null) return Either.left({ offset: near.index, message: "'near' (temporal aggregation) is not supported" })
  const count = /(?<![\w.*-])(\d+)\s+of\b/i.exec(text)
  if (count !== null && count[1] !== "1") {
    return Either.left({ offset: count.index, message: `'${count[1]} of': Sigma quantifiers are '1 of' and 'all of'` })
  }
  const deep = tooDeep(text)
  if (deep !== undefined) return Either.left(deep)
  const shape = balance(text)
  if (shape !== undefined) return Either.left(shape)
  const r = condition.run(text)
  if (!r.isError) return Either.right(r.result)
  const offset = utf16Offset(text, r.index)
  const rest = text.slice(offset).trimStart()
  const at = text.length - rest.length
  // The parser backtracks to before an operator whose operand is missing: name what follows it.
  const op = /^(and|or|not)(\s+)(\S+)/i.exec(rest)
  if (op !== null && !(op[1].toLowerCase() === "not" && op[3].startsWith("("))) {
    return Either.left({
      offset: at + op[1].length + op[2].length,
      message: `'${op[1]}' must be followed by a search identifier, '(' or 'not', not '${op[3]}'`
    })
  }
  return Either.left({ offset: at, message: rest === "" ? "unexpected end of condition" : `unexpected '${rest.split(/\s+/)[0]}'` })
}
