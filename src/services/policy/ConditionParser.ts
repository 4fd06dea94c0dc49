/**
 * The condition grammar of the Falco dialect (policy-language.md §4.2), written as `arcsecond` combinators:
 * one parser per production below, under the same name (defined bottom-up in the file, each after the
 * productions it uses; `recursiveParser` closes the two loops back to `term` and `expr`).
 *
 * ```
 * condition     := expr END
 * expr          := orExpr
 * orExpr        := andExpr ('or' andExpr)*              -- left-associative, one n-ary node
 * andExpr       := term ('and' term)*                   -- binds tighter than 'or'
 * term          := negation | parenthesised | predicate
 * negation      := 'not' term                           -- one term: `not a and b` = `(not a) and b`
 * parenthesised := '(' expr ')'
 * predicate     := subject exists | subject comparison | subject listOperation
 *                | WORD                                 -- macroReference: a lone bare word
 * exists        := 'exists'                             -- no blank needed after it (libs)
 * comparison    := BINOP (modifiedList | value)
 * modifiedList  := MODIFIER (IDENTIFIER | valueList)    -- after a string BINOP and a blank
 * listOperation := ('in' | 'pmatch' | 'intersects') (transformed | IDENTIFIER | valueList)
 *                                                       -- IDENTIFIER (a list's name): Falco files only
 * valueList     := '(' [element (',' element)*] ')'      -- `in ()` is an empty list (Falco)
 * element       := bracketGroup | value
 * bracketGroup  := '[' (value (',' | before ']'))* ']'  -- `[]`, `[a]`, `[a,]`: parsed, ignored (Q7)
 * subject       := transformed | FIELD | QUOTED
 * value         := transformed | QUOTED | VALUE_WORD | '<' | '>'   -- `evt.dir=<`
 * transformed   := TRANSFORMER '(' (transformed | FIELD) ')' | 'val(' FIELD ')'
 * FIELD         := WORD ['[' (QUOTED | [^\]["'\s]+) ']']   -- `test.str['a b']`, `proc.env[HOME]`
 * MODIFIER      := 'oneof' | 'anyof' | 'allof'          -- when a list or a list's name follows
 * BINOP         := '=' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'icontains' | 'startswith'
 *                | 'endswith' | 'glob' | 'iglob' | 'regex' | 'bcontains' | 'bstartswith'
 * TRANSFORMER   := 'tolower' | 'toupper' | 'b64' | 'basename' | 'len'   -- followed by '(' at once
 * ```
 *
 * Falco additions (libs filter grammar): `==`, the word operators `glob iglob regex bcontains
 * bstartswith intersects` (recognised only where an operator is expected, so they stay ordinary words
 * elsewhere), empty lists, field transformers and `val()`, escapes in quoted atoms (`\"`, `\\`, `\'`,
 * `\n` `\t` `\r` `\b` `\f` `\/` `\xHH`, as libs' unescape_str: the atom keeps its quotes, its inside
 * is unescaped), values (right-hand sides, list elements) that are bare words with `* + ~ ! @ \`
 * as well (`*.py`, `C:\x`), and in Falco files (`parseCondition(text, { falco: true })`) libs' bare
 * strings as values: any run but blanks, quotes and `( ) = ,`, reserved words included (`a.b = not`).
 *
 * Lexical rules (§4.1): whitespace (space, tab, LF, CR, FF) separates tokens. Reserved words are
 * lowercase whole words (`and or not in pmatch exists contains icontains startswith endswith`; `AND` is
 * an ordinary word, Q19). A bare word starts with `[A-Za-z0-9_./-]` and continues with
 * `[A-Za-z0-9_./*:-]` or bracket groups `[…]` of those characters (`proc.aname[2]`,
 * `sf.ke.message[items.0.namespace]`); a leading `-` is an sfprocessor extension (Y5). Quoted atoms are
 * `"…"`, `'…'`, `''…''` and `\"…\"`, shortest match, on one line, no escapes; they keep their quotes.
 * Operators match longest first (`<=` before `<`; `=>` is `=` then `>`).
 *
 * How the parts fit:
 * - Tokens are sticky regexes over the condition as a JavaScript string, read at the parser's index
 *   (arcsecond's own `str`/`regex` index the input in UTF-8 bytes; positions here are UTF-16 offsets).
 *   Each token parser skips the whitespace before it. A token that is not there is a plain arcsecond
 *   failure ("no match"): `choice` tries its next alternative, `many` and `sepBy` stop.
 * - The grammar is LL(1): once a token has chosen an alternative, a failure further on is the condition's
 *   syntax error, never a reason to backtrack. `expect(p, what)` states that: `p`, or else the error
 *   "<what>, found <the next token>" at that token, thrown as a `SyntaxFailure` (a cut) and caught in
 *   `parseCondition`; returned as an arcsecond failure instead, `many`/`sepBy` would swallow it and the
 *   error would surface at the wrong token. The next token is read by `found`, which is where lexical errors (unterminated
 *   quotes, stray characters) are reported.
 * - Nesting (`(` and `not`) is counted in the parser state's data and capped at `MAX_NESTING` levels.
 */
import { Parser, between, choice, getData, lookAhead, many, mapData, possibly, recursiveParser, sepBy, sequenceOf, updateError, updateParserState, withData } from "arcsecond"
import { Either } from "effect"
import type { Atom, BinaryOp, Element, Expr, ListModifier, ListOp, Transformer } from "../../domain/policy/PolicyAst.js"

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

/** A bare word (§4.1): sticky, read at the parser's index. */
const WORD = /[A-Za-z0-9_./-](?:[A-Za-z0-9_./*:-]|\[[A-Za-z0-9_./*:-]+\])*/y
const BARE_WORD = new RegExp(`^(?:${WORD.source})$`)

/** True if `s` is a bare word (§4.1) that is not a reserved word: a valid macro or list name. */
export const isValidName = (s: string): boolean => BARE_WORD.test(s) && !RESERVED_WORDS.has(s)

// ---------------------------------------------------------------------------------------------------
// Parser state, failures

/** The parser state's data: the condition (tokens read it as a string) and the current nesting depth. */
interface ParseData {
  readonly text: string
  readonly depth: number
  /** A Falco file's condition: values are read as libs reads them (see `value`). */
  readonly falco: boolean
}

type P<T> = Parser<T, string, ParseData>

/** A token that is not at the parser's index: the alternative does not apply. */
const NO_MATCH = "no match"

/** A syntax error: ends the parse (see the header). */
class SyntaxFailure {
  constructor(readonly error: ConditionSyntaxError) {}
}

const failAt = (offset: number, message: string): never => {
  throw new SyntaxFailure({ offset, message })
}

// ---------------------------------------------------------------------------------------------------
// Tokens

interface Tok {
  readonly text: string
  readonly start: number
  readonly end: number
}

/** As libs lexes a quoted string: it ends at the first quote not preceded by a backslash (so `'a\\' '` is one string). */
const QUOTED = /\\"[^\n]*?\\"|''[^'\s,()][^'\n]*?''|"(?:[^"\\\n]|\\+[^\\\n])*"|'(?:[^'\\\n]|\\+[^\\\n])*'/y
const OPERATOR = /<=|>=|!=|==|<|>|=/y
/**
 * A value word in a Falco file (right-hand side, list element): libs' bare string, any run of characters
 * but blanks, quotes, `( ) = ,` (`*.py`, `C:\x`, `0a!@#$%^&*[]{}|`), reserved words included (`a.b = not`).
 */
const FALCO_VALUE_WORD = /(?!\\")[^()"'\s=,]+/y
/** A value word in our dialect (and in bracket groups, Q7): a bare word that may also hold `* + ~ ! @ \`, and `<` `>` after its first character (`a->b`). */
const VALUE_WORD = /(?!\\")[A-Za-z0-9_./*+~!@\\:-](?:[A-Za-z0-9_./*:+~!@\\<>-]|\[[A-Za-z0-9_./*:-]+\])*/y
/** A field: a bare word, then possibly an argument in brackets, quoted or free-form as libs reads it (`test.str['a b']`, `proc.env[HOME]`). */
const FIELD = new RegExp(`${WORD.source}(?:\\[(?:"(?:[^"\\\\]|\\\\.)*"|'(?:[^'\\\\]|\\\\.)*'|[^\\]\\["'\\s]+)\\])?`, "y")
/** Falco's list modifiers after a string operator and a blank, when a list or a list name follows (libs: not `and`/`or`/`not`). */
const LIST_MODIFIER = /(?<=\s)(?:oneof|anyof|allof)(?=\s+(?:\(|(?!(?:and|or|not)(?![A-Za-z0-9]))[A-Za-z]))/y
/** libs' NumValue: a hexadecimal or decimal number. */
const NUMBER = /0[xX][0-9a-fA-F]+|[+-]?[0-9]+\.?[0-9]*(?:[eE][+-][0-9]+)?/y
/** An identifier (libs): a list's name after `in` or a modifier, without parentheses. */
const IDENTIFIER = /[A-Za-z][A-Za-z0-9_]*/y
/** A field transformer or `val`, immediately followed by `(` (as libs lexes `tolower(`). */
const TRANSFORMER = /(?:tolower|toupper|b64|basename|len|val|join|concat|getopt)\(/y
const PUNCTUATION = /[()[\],]/y
const END = /$/y

const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c

const skipWhitespace = (text: string, at: number): number => {
  while (at < text.length && isWhitespace(text.charCodeAt(at))) at++
  return at
}

/** The token `re` (sticky) matches after whitespace, if `accept` takes its text. */
const token = (re: RegExp, accept?: (text: string) => boolean): P<Tok> =>
  new Parser((state) => {
    if (state.isError) return state
    const text = state.data.text
    const start = skipWhitespace(text, state.index)
    re.lastIndex = start
    const m = re.exec(text)
    if (m === null || (accept !== undefined && !accept(m[0]))) return updateError(state, NO_MATCH)
    const end = start + m[0].length
    return updateParserState(state, { text: m[0], start, end }, end)
  })

const word = (accept?: (text: string) => boolean): P<Tok> => token(WORD, accept)
const keyword = (k: string): P<Tok> => word((w) => w === k)
const quoted: P<Tok> = token(QUOTED)
const punctuation = (p: string): P<Tok> => token(PUNCTUATION, (t) => t === p)
/** `<` or `>` as a value: not the first half of `<=` / `>=`. */
const angle: P<Tok> = token(/[<>](?!=)/y)
const operator: P<Tok> = token(OPERATOR)
const endOfCondition: P<Tok> = token(END)

const charName = (text: string, at: number): string => {
  const cp = text.codePointAt(at)!
  return cp < 0x20 || cp === 0x7f ? `U+${cp.toString(16).toUpperCase().padStart(4, "0")}` : String.fromCodePoint(cp)
}

/** At a character no token starts with: the lexical error. */
const lexicalError: P<never> = new Parser((state) => {
  const text = state.data.text
  const at = skipWhitespace(text, state.index)
  const c = text[at]
  return failAt(at, c === '"' || c === "'" || text.startsWith('\\"', at) ? "unterminated quoted string" : `unexpected character '${charName(text, at)}'`)
})

/** Whatever token comes next (for "found …"), or the lexical error there. */
const found: P<Tok> = choice([endOfCondition, token(PUNCTUATION), operator, quoted, word(), lexicalError])

const describe = (t: Tok): string => (t.start === t.end ? "end of condition" : `'${t.text}'`)

/** `p`, or the syntax error "<what>, found <next token>". */
const expect = <T>(p: P<T>, what: string): P<T> =>
  choice([p, found.map((t): never => failAt(t.start, `${what}, found ${describe(t)}`))])

/** `p`, then the parser `next` picks from its result (`chain`, with its argument typed as present). */
const andThen = <A, B>(p: P<A>, next: (a: A) => P<B>): P<B> => p.chain((a) => next(a as A))

const tooDeep = `condition nested too deeply (more than ${MAX_NESTING} levels)`
const deeper: P<null> = mapData((data: ParseData): ParseData => ({ ...data, depth: data.depth + 1 }))
const shallower: P<null> = mapData((data: ParseData): ParseData => ({ ...data, depth: data.depth - 1 }))

/** `falco` in a Falco file's condition, else `sysflow`. */
const byDialect = <T>(falco: P<T>, sysflow: P<T>): P<T> => (getData as P<ParseData>).chain((d) => (d?.falco === true ? falco : sysflow))

/** The opening token of a nesting level (`(` or `not`): one level deeper, at most `MAX_NESTING`. */
const opening = (open: P<Tok>): P<Tok> =>
  sequenceOf([open, getData as P<ParseData>, deeper]).map(([t, data]) => (data.depth >= MAX_NESTING ? failAt(t.start, tooDeep) : t))

/** The closing token of a nesting level (`)`, or the end of the term after `not`). */
const closing = <T>(close: P<T>): P<T> => sequenceOf([close, shallower]).map(([t]) => t)

// ---------------------------------------------------------------------------------------------------
// Grammar (productions in the order of the header)

const atomOf = (t: Tok, isQuoted: boolean): Atom => ({ text: t.text, quoted: isQuoted, offset: t.start })

/** Unescapes a quoted atom's inside as libs' `unescape_str` does; the quotes stay (MapStr trims them). */
const unescapeQuoted = (t: Tok): string => {
  const text = t.text
  const q = text[0]
  if (q === "\\" || !text.includes("\\")) return text
  let out = q
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i]
    if (c !== "\\") {
      out += c
      continue
    }
    const e = text[++i]
    const simple: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", " ": "\\", "\\": "\\", "/": "/" }
    if (e in simple) out += simple[e]
    else if (e === '"' || e === "'") {
      if (e !== q) failAt(t.start + i - 1, `invalid \\${e} escape in a ${q}-quoted string`)
      out += e
    } else if (e === "x" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3)) && i + 2 < text.length - 1) {
      out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else failAt(t.start + i - 1, `unsupported string escape sequence: \\${e === "x" ? text.slice(i, i + 3) : e}`)
  }
  return out + q
}

const quotedAtom = (t: Tok): Atom => ({ text: unescapeQuoted(t), quoted: true, offset: t.start })

// transformed := TRANSFORMER '(' (transformed | WORD) ')' | 'val(' WORD ')'
// As in libs: `val()` only on a right-hand side, never inside a transformer nor as a subject.
const transformerToken: P<Tok> = token(TRANSFORMER)
const fieldAtom: P<Atom> = token(FIELD, (w) => !RESERVED_WORDS.has(w)).map((w) => atomOf(w, false))
const transformedOf = (allowVal: boolean): P<Atom> =>
  andThen(transformerToken, (t) => {
    const name = t.text.slice(0, -1)
    if (name === "val" && !allowVal) return failAt(t.start, "val() is allowed only on the right of an operator")
    const closing = expect(punctuation(")"), `expected ')' closing '${name}('`)
    if (name === "join" || name === "concat") return composed(t, name, closing)
    if (name === "getopt") return getoptCall(t, closing)
    const inner: P<Atom> =
      name === "val"
        ? expect(fieldAtom, "expected a field within 'val('")
        : expect(choice([recursiveParser(() => transformedOf(false)), fieldAtom]), `expected a field within '${name}('`)
    return sequenceOf([inner, closing]).map(([a]): Atom =>
      name === "val"
        ? { text: a.text, quoted: false, offset: t.start, val: true }
        : { ...a, offset: t.start, transformers: [...(a.transformers ?? []), name as Transformer] }
    )
  })

/** A part of `join`/`concat`: a (transformed) field, a quoted string or a number (libs: no other bare word). */
const composePart: P<Atom> = expect(
  choice([
    recursiveParser(() => transformedOf(false)),
    quoted.map(quotedAtom),
    word((w) => w.includes(".") || /^[+-]?[0-9]/.test(w)).map((w) => atomOf(w, false))
  ]),
  "expected a field, a quoted string or a number"
)
const partList: P<Array<Atom>> = sepBy<Tok, Atom, string, ParseData>(punctuation(","))(composePart)
/** join's list may be empty (libs). */
const joinList: P<Array<Atom>> = choice([lookAhead(punctuation(")")).map((): Array<Atom> => []), partList])

/** A transformer's argument in brackets right after its ')' (libs: quoted or bare), its text unquoted. */
const TRANSFORMER_ARG = /\[(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\]["'\s]+)\]/y
const transformerArg: P<string | null> = possibly(
  token(TRANSFORMER_ARG).map((a) => {
    const inner = a.text.slice(1, -1)
    const text = inner.startsWith('"') || inner.startsWith("'") ? unescapeQuoted({ ...a, text: inner, start: a.start + 1 }).slice(1, -1) : inner
    return text.length === 1 ? text : failAt(a.start, `getopt()'s argument must be one option character, found '${text}'`)
  })
)

// getopt(argv, "optstring")[c]: argv is a (transformed) field, split at blanks, or a list of parts (libs).
const getoptCall = (t: Tok, closing: P<Tok>): P<Atom> =>
  sequenceOf([
    expect(
      choice([
        sequenceOf([punctuation("("), joinList, expect(punctuation(")"), "expected ',' or ')' in getopt's list")]).map(([, parts]) => ({ parts, argvList: true })),
        choice([recursiveParser(() => transformedOf(false)), fieldAtom]).map((part) => ({ parts: [part], argvList: false }))
      ]),
      "expected a field or a list of arguments after 'getopt('"
    ),
    expect(punctuation(","), "expected ',' and the option string after getopt's arguments"),
    expect(quoted, "expected a quoted option string"),
    closing,
    transformerArg
  ]).map(([argv, , optstring, , selector]): Atom => ({
    text: "getopt",
    quoted: false,
    offset: t.start,
    compose: {
      name: "getopt",
      separator: ",",
      parts: argv.parts,
      getopt: { optstring: unescapeQuoted(optstring).slice(1, -1), argvList: argv.argvList, ...(selector === null ? {} : { selector }) }
    }
  }))

/** `join(sep, (a, b, …))` / `concat(a, b, …)`, after the name and its '(' (the token `t`). */
const composed = (t: Tok, name: "join" | "concat", closing: P<Tok>): P<Atom> => {
  const atom = (separator: string, parts: ReadonlyArray<Atom>): Atom => ({ text: name, quoted: false, offset: t.start, compose: { name, separator, parts } })
  if (name === "concat") return sequenceOf([partList, closing]).map(([parts]) => atom("", parts))
  return sequenceOf([
    expect(quoted, "expected a quoted separator after 'join('"),
    expect(punctuation(","), "expected ',' after join's separator"),
    expect(punctuation("("), "expected '(' opening join's list"),
    joinList,
    expect(punctuation(")"), "expected ',' or ')' in join's list"),
    closing
  ]).map(([sep, , , parts]) => {
    const text = unescapeQuoted(sep)
    return atom(text.slice(1, -1), parts)
  })
}

// subject := transformed | WORD | QUOTED ;  value := transformed | plainValue ;  plainValue := QUOTED | VALUE_WORD | '<' | '>'
const subject: P<Atom> = choice([transformedOf(false), fieldAtom, quoted.map(quotedAtom)])
const valueWord: P<Tok> = token(VALUE_WORD, (w) => !RESERVED_WORDS.has(w))
/** A value inside a bracket group. */
const groupValue: P<Atom> = choice([quoted.map(quotedAtom), valueWord.map((t) => atomOf(t, false)), angle.map((t) => atomOf(t, false))])
/** A value inside a list: no transformers there (libs). A Falco file's bare values are libs' bare strings. */
const plainValue: P<Atom> = byDialect(choice([quoted.map(quotedAtom), token(FALCO_VALUE_WORD).map((t) => atomOf(t, false))]), groupValue)
const value: P<Atom> = choice([transformedOf(true), plainValue])

// BINOP, list operators
const BINARY_OPERATORS: ReadonlyArray<BinaryOp> = [
  "=",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "contains",
  "icontains",
  "startswith",
  "endswith",
  "glob",
  "iglob",
  "regex",
  "bcontains",
  "bstartswith"
]
const WORD_OPERATORS: ReadonlySet<string> = new Set(["contains", "icontains", "startswith", "endswith", "glob", "iglob", "regex", "bcontains", "bstartswith"])
const binaryOperator: P<Tok> = choice([operator, word((w) => WORD_OPERATORS.has(w))])
const listOperator: P<Tok> = choice([keyword("in"), keyword("pmatch"), keyword("intersects")])

// bracketGroup := '[' (value (',' | before ']'))* ']'
const bracketGroup: P<Element> = sequenceOf([
  punctuation("["),
  many(sequenceOf([groupValue, expect(choice([punctuation(","), lookAhead(punctuation("]"))]), "expected ',' or ']' in bracket group")])),
  expect(punctuation("]"), "expected a value or ']' in bracket group")
]).map(([open, items]) => ({ kind: "group", atoms: items.map(([atom]) => atom), offset: open.start }))

// element := bracketGroup | value
const element = (op: ListOp | ListModifier): P<Element> =>
  expect(
    choice([bracketGroup, plainValue.map((atom): Element => ({ kind: "atom", atom }))]),
    `expected a value in '${op}' list`
  )

// valueList := '(' [element (',' element)*] ')'
const valueList = (op: ListOp | ListModifier): P<Array<Element>> =>
  between<Tok, Array<Element>, Tok>(expect(punctuation("("), `expected '(' after '${op}'`))(
    expect(punctuation(")"), `expected ',' or ')' in '${op}' list`)
  )(choice([lookAhead(punctuation(")")).map((): Array<Element> => []), sepBy<Tok, Element, string, ParseData>(punctuation(","))(element(op))]))

/** What follows a predicate's subject, as the function that builds the predicate from it. */
type Completion = (subject: Atom) => Expr

// 'exists' needs no blank after it (libs: `a.b existsand m`)
const exists: P<Completion> = token(/exists/y).map(() => (subject) => ({ kind: "exists", subject }))

/** A list's name where libs takes one without parentheses (after `in`, a modifier): one element. */
const listName: P<Array<Element>> = token(IDENTIFIER).map((t): Array<Element> => [{ kind: "atom", atom: atomOf(t, false) }])

// modifiedList := MODIFIER (valueList | IDENTIFIER)     -- after a string operator: `== oneof (a, b)`
const modifiedList = (op: BinaryOp): P<Completion> =>
  andThen(token(LIST_MODIFIER), (m) => {
    const modifier = m.text as ListModifier
    return choice([listName, valueList(modifier)]).map(
      (elements): Completion => (subject) => ({ kind: "modified", op, modifier, subject, elements })
    )
  })

/** The operators a list modifier may follow (libs' string operators). */
const MODIFIABLE: ReadonlySet<BinaryOp> = new Set(BINARY_OPERATORS.filter((op) => !["<", "<=", ">", ">="].includes(op)))

// comparison := BINOP (modifiedList | value)
// In a Falco file a relational operator takes a number or a transformed field (libs' NumValue).
const numberValue: P<Atom> = choice([transformedOf(true), token(NUMBER).map((t) => atomOf(t, false))])
const valueAfter = new Map(
  BINARY_OPERATORS.map((op) => {
    const right = MODIFIABLE.has(op) ? value : byDialect(expect(numberValue, `expected a number after '${op}'`), value)
    const plain = expect(right, `expected a value after '${op}'`).map((right): Completion => (left) => ({ kind: "compare", op, left, right }))
    return [op, MODIFIABLE.has(op) ? choice([modifiedList(op), plain]) : plain]
  })
)
const comparison: P<Completion> = andThen(binaryOperator, (t) => valueAfter.get((t.text === "==" ? "=" : t.text) as BinaryOp)!)

// listOperation := ('in' | 'pmatch' | 'intersects') (valueList | transformed | IDENTIFIER)
// A transformed field or val() on the right is the one element (the compiler compares with its values).
const listRight = (op: ListOp): P<Array<Element>> =>
  choice([transformedOf(true).map((atom): Array<Element> => [{ kind: "atom", atom }]), byDialect(listName, valueList(op)), valueList(op)])
const valueLists = { in: listRight("in"), pmatch: listRight("pmatch"), intersects: listRight("intersects") }
const listOperation: P<Completion> = andThen(listOperator, (t) => {
  const op = t.text as ListOp
  return valueLists[op].map((elements): Completion => (subject) => ({ kind: "list", op, subject, elements }))
})

/** No operator after the subject: a bare word is a macro reference, a quoted atom an error. */
const macroReference: P<Completion> = lookAhead(found).map((next) => (subject) =>
  subject.quoted
    ? failAt(next.start, `expected an operator after '${subject.text}', found ${describe(next)}`)
    : { kind: "macro", name: subject.text, offset: subject.offset }
)

// predicate := subject ('exists' | BINOP value | ('in' | 'pmatch') valueList | ε)
// In a Falco file a bare word without a '.' is no field (libs' FieldName): only a macro's name.
const predicate: P<Expr> = sequenceOf([getData as P<ParseData>, subject, choice([exists, comparison, listOperation, macroReference])]).map(([d, s, complete]) => {
  const e = complete(s)
  if (d.falco && e.kind !== "macro" && !s.quoted && s.transformers === undefined && s.compose === undefined && !s.text.includes(".")) {
    return failAt(s.offset, `'${s.text}' is not a field (a field's name has a '.'); a macro's name stands alone`)
  }
  return e
})

// negation := 'not' term          (`term` is below: the grammar is recursive)
const negation: P<Expr> = closing(sequenceOf([opening(keyword("not")), recursiveParser(() => term)])).map(([not, operand]) => ({
  kind: "not",
  operand,
  offset: not.start
}))

// parenthesised := '(' expr ')'
const parenthesised: P<Expr> = between<Tok, Expr, Tok>(opening(punctuation("(")))(closing(expect(punctuation(")"), "expected 'and', 'or' or ')'")))(
  recursiveParser(() => expr)
)

// term := negation | parenthesised | predicate
const term: P<Expr> = expect(choice([negation, parenthesised, predicate]), "expected a condition")

/** `operand (kw operand)*` as one n-ary node (a single operand stays itself). */
const chainOf = (kw: "and" | "or", operand: P<Expr>): P<Expr> =>
  sepBy<Tok, Expr, string, ParseData>(keyword(kw))(operand).map((operands) => (operands.length === 1 ? operands[0] : { kind: kw, operands }))

// and := term ('and' term)* ;  or := and ('or' and)* ;  expr := or
const andExpr: P<Expr> = chainOf("and", term)
const orExpr: P<Expr> = chainOf("or", andExpr)
const expr: P<Expr> = orExpr

// condition := expr END
const condition: P<Expr> = sequenceOf([expr, expect(endOfCondition, "expected 'and', 'or' or end of condition")]).map(([e]) => e)

/**
 * Parses a condition. Offsets in the AST and in errors are UTF-16 offsets into `text`. `falco`: a Falco
 * file's condition (bare values as libs reads them, `in list_name` without parentheses).
 */
export const parseCondition = (text: string, options: { readonly falco?: boolean } = {}): Either.Either<Expr, ConditionSyntaxError> => {
  try {
    const result = withData<Expr, string, ParseData>(condition)({ text, depth: 0, falco: options.falco === true }).run(text)
    // Every failure past the first token is thrown; a plain failure here would be a grammar bug.
    if (result.isError) throw new Error(`condition parser failed without a syntax error: ${result.error}`)
    return Either.right(result.result)
  } catch (e) {
    if (e instanceof SyntaxFailure) return Either.left(e.error)
    if (e instanceof RangeError) {
      return Either.left({ offset: 0, message: tooDeep })
    }
    throw e
  }
}
