/**
 * The condition grammar (policy-language.md §4): tokens, precedence, every operator form, and every
 * syntax error with its exact message and offset. Accepted inputs are re-parsed with whitespace
 * variations and must give the same tree.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import type { Atom, Element, Expr } from "../../src/domain/policy/PolicyAst.js"
import { isValidName, MAX_NESTING, parseCondition } from "../../src/services/policy/ConditionParser.js"

/** An s-expression of the tree, without offsets: `(and (= a b) (not m))`. */
const atom = (a: Atom): string => a.text
const elem = (e: Element): string => (e.kind === "atom" ? atom(e.atom) : `[${e.atoms.map(atom).join(" ")}]`)
const show = (e: Expr): string => {
  switch (e.kind) {
    case "and":
    case "or":
      return `(${e.kind} ${e.operands.map(show).join(" ")})`
    case "not":
      return `(not ${show(e.operand)})`
    case "macro":
      return e.name
    case "exists":
      return `(exists ${atom(e.subject)})`
    case "compare":
      return `(${e.op} ${atom(e.left)} ${atom(e.right)})`
    case "list":
      return `(${e.op} ${atom(e.subject)} ${e.elements.map(elem).join(" ")})`
    case "modified":
      return `(${e.op} ${e.modifier} ${atom(e.subject)} ${e.elements.map(elem).join(" ")})`
  }
}

const tree = (text: string): string => {
  const r = parseCondition(text)
  if (Either.isLeft(r)) throw new Error(`${text}: ${r.left.message} at ${r.left.offset}`)
  return show(r.right)
}

const error = (text: string): { offset: number; message: string } => {
  const r = parseCondition(text)
  if (Either.isRight(r)) throw new Error(`expected a syntax error for ${text}`)
  return r.left
}

/** Whitespace variations: every token gap gets spaces, tabs, newlines; padding around the whole. */
const variations = (text: string): ReadonlyArray<string> => [
  `  ${text}  `,
  `\n${text}\n`,
  text.replace(/ /g, "  "),
  text.replace(/ /g, "\t"),
  text.replace(/ /g, "\n    "),
  text.replace(/ /g, " \r\n\t "),
  text.replace(/ /g, "\f")
]

describe("precedence and associativity (§4.2)", () => {
  it.each([
    ["a = b", "(= a b)"],
    ["a and b or c", "(or (and a b) c)"],
    ["a or b and c", "(or a (and b c))"],
    ["not a and b", "(and (not a) b)"],
    ["not (a and b)", "(not (and a b))"],
    ["not not a", "(not (not a))"],
    ["a or b or c", "(or a b c)"],
    ["a and b and c", "(and a b c)"],
    ["(a or b) and c", "(and (or a b) c)"],
    ["a and (b or c) and d", "(and a (or b c) d)"],
    ["((((((in_macro))))))", "in_macro"],
    ["not a = b or c exists", "(or (not (= a b)) (exists c))"],
    ["x = 1 and not y in (a, b) or z pmatch (c)", "(or (and (= x 1) (not (in y a b))) (pmatch z c))"]
  ])("%s → %s", (text, want) => {
    expect(tree(text)).toBe(want)
    for (const v of variations(text)) expect(tree(v)).toBe(want)
  })
})

describe("terms", () => {
  it.each([
    ["sf.proc.exe = /usr/bin/python", "(= sf.proc.exe /usr/bin/python)"],
    ["sf.proc.pid != 1", "(!= sf.proc.pid 1)"],
    ["sf.ts < 5", "(< sf.ts 5)"],
    ["sf.ts <= 5", "(<= sf.ts 5)"],
    ["sf.ts > 5", "(> sf.ts 5)"],
    ["sf.ts >= 5", "(>= sf.ts 5)"],
    ["sf.proc.exe contains bin", "(contains sf.proc.exe bin)"],
    ["sf.proc.exe icontains BIN", "(icontains sf.proc.exe BIN)"],
    ["sf.proc.exe startswith /usr", "(startswith sf.proc.exe /usr)"],
    ["sf.proc.exe endswith python", "(endswith sf.proc.exe python)"],
    ["sf.pproc.name exists", "(exists sf.pproc.name)"],
    ["sf.proc.name in (bash, sh)", "(in sf.proc.name bash sh)"],
    ["sf.proc.name pmatch (bash)", "(pmatch sf.proc.name bash)"],
    ["sf.proc.exe = sf.pproc.exe", "(= sf.proc.exe sf.pproc.exe)"],
    ["my_macro", "my_macro"],
    ["'quoted' = x", "(= 'quoted' x)"]
  ])("%s → %s", (text, want) => {
    expect(tree(text)).toBe(want)
    for (const v of variations(text)) expect(tree(v)).toBe(want)
  })

  it("takes operators longest first, and `<` / `>` as right-hand atoms (Falco `evt.dir=<`)", () => {
    expect(tree("evt.dir=<")).toBe("(= evt.dir <)")
    expect(tree("evt.dir=>")).toBe("(= evt.dir >)")
    expect(tree("evt.dir = <")).toBe("(= evt.dir <)")
    expect(tree("a<=b")).toBe("(<= a b)")
    expect(tree("a>=b")).toBe("(>= a b)")
    expect(tree("a!=b")).toBe("(!= a b)")
    expect(tree("a<b")).toBe("(< a b)")
    expect(tree("x in (<, >)")).toBe("(in x < >)")
  })

  it("needs no space around operators and parentheses", () => {
    expect(tree("(a=b)and(c!=d)or(e)")).toBe("(or (and (= a b) (!= c d)) e)")
    expect(tree("x in(a,b)")).toBe("(in x a b)")
  })

  it("keeps bracket groups inside in(…) as ignored elements (Q7)", () => {
    expect(tree("x in (a, [b, c])")).toBe("(in x a [b c])")
    expect(tree("x in ([])")).toBe("(in x [])")
    expect(tree("x in ([b,])")).toBe("(in x [b])")
    expect(tree("x pmatch ([ 'b' , c ], d)")).toBe("(pmatch x ['b' c] d)")
  })
})

describe("lexical rules (§4.1)", () => {
  it.each([
    ["sf.proc.exe", true],
    ["/usr/bin/python", true],
    ["10.0.0.1", true],
    ["mitre:T1059.004", true],
    ["proc.aname[2]", true],
    ["sf.ke.message[items.0.namespace]", true],
    ["/usr/bin/*", true],
    ["-c", true],
    ["-1", true],
    ["sf-process.args", true],
    ["AND", true],
    ["and", false],
    ["not", false],
    ["exists", false],
    ["*.py", false],
    ["a b", false],
    ["a|b", false],
    ["a!", false],
    ["x[ y ]", false],
    ["", false]
  ])("%j is a valid macro/list name: %s", (word, valid) => expect(isValidName(word)).toBe(valid))

  it("reads bare words with bracket groups as one word", () => {
    expect(tree("proc.aname[2] in (x)")).toBe("(in proc.aname[2] x)")
    expect(tree("sf.ke.message[items.0.namespace] = 'robot-shop'")).toBe("(= sf.ke.message[items.0.namespace] 'robot-shop')")
    expect(tree("sf.pod.services[0.name] = a")).toBe("(= sf.pod.services[0.name] a)")
  })

  it("keeps the quotes of quoted atoms, all four forms, shortest match", () => {
    expect(tree(`x = "a b"`)).toBe(`(= x "a b")`)
    expect(tree(`x = 'a b'`)).toBe(`(= x 'a b')`)
    expect(tree(`x = '"(systemd)"'`)).toBe(`(= x '"(systemd)"')`)
    expect(tree(`x = ''yum''`)).toBe(`(= x ''yum'')`)
    expect(tree(`x = \\"a b\\"`)).toBe(`(= x \\"a b\\")`)
    expect(tree(`x = "a" and y = "b"`)).toBe(`(and (= x "a") (= y "b"))`)
    expect(tree(`x = '' and y = ''`)).toBe(`(and (= x '') (= y ''))`)
    expect(tree(`x in ('','')`)).toBe(`(in x '' '')`)
    expect(tree(`x = "["`)).toBe(`(= x "[")`)
    expect(tree(`x = "a#b"`)).toBe(`(= x "a#b")`)
  })

  it("treats uppercase AND/OR/NOT as ordinary words (Q19)", () => {
    expect(tree("AND")).toBe("AND")
    expect(error("a = b AND c = d")).toEqual({ offset: 6, message: "expected 'and', 'or' or end of condition, found 'AND'" })
    expect(error("NOT a")).toEqual({ offset: 4, message: "expected 'and', 'or' or end of condition, found 'a'" })
  })

  it("accepts a leading '-' in bare words (Y5)", () => {
    expect(tree("sf.ret = -1 and sf.proc.args contains -c")).toBe("(and (= sf.ret -1) (contains sf.proc.args -c))")
  })
})

describe("syntax errors: exact message and offset", () => {
  it.each([
    ["", 0, "expected a condition, found end of condition"],
    ["   ", 3, "expected a condition, found end of condition"],
    ["a and", 5, "expected a condition, found end of condition"],
    ["a or or b", 5, "expected a condition, found 'or'"],
    ["and a", 0, "expected a condition, found 'and'"],
    ["not", 3, "expected a condition, found end of condition"],
    [")", 0, "expected a condition, found ')'"],
    ["= a", 0, "expected a condition, found '='"],
    ["< a", 0, "expected a condition, found '<'"],
    ["in (a)", 0, "expected a condition, found 'in'"],
    ["x =", 3, "expected a value after '=', found end of condition"],
    ["x = in", 4, "expected a value after '=', found 'in'"],
    ["x = (a)", 4, "expected a value after '=', found '('"],
    ["x = [a,b]", 4, "expected a value after '=', found '['"],
    ["x != (a)", 5, "expected a value after '!=', found '('"],
    ["x contains", 10, "expected a value after 'contains', found end of condition"],
    ["x = <=", 4, "expected a value after '=', found '<='"],
    ["x in a", 5, "expected '(' after 'in', found 'a'"],
    ["x pmatch", 8, "expected '(' after 'pmatch', found end of condition"],
    ["x in (a,)", 8, "expected a value in 'in' list, found ')'"],
    ["x in (a b)", 8, "expected ',' or ')' in 'in' list, found 'b'"],
    ["x in (a", 7, "expected ',' or ')' in 'in' list, found end of condition"],
    ["x pmatch (a, (b))", 13, "expected a value in 'pmatch' list, found '('"],
    ["x in ([a b])", 9, "expected ',' or ']' in bracket group, found 'b'"],
    ["x in ([a, [b]])", 10, "expected a value or ']' in bracket group, found '['"],
    ["x in ([a", 8, "expected ',' or ']' in bracket group, found end of condition"],
    ["(a = b", 6, "expected 'and', 'or' or ')', found end of condition"],
    ["(a = b c)", 7, "expected 'and', 'or' or ')', found 'c'"],
    ["a = b)", 5, "expected 'and', 'or' or end of condition, found ')'"],
    ["a = b c", 6, "expected 'and', 'or' or end of condition, found 'c'"],
    ["a b", 2, "expected 'and', 'or' or end of condition, found 'b'"],
    ["exists x", 0, "expected a condition, found 'exists'"],
    ['"x"', 3, `expected an operator after '"x"', found end of condition`],
    ['"x" and y', 4, `expected an operator after '"x"', found 'and'`],
    ["x = \"abc", 4, "unterminated quoted string"],
    ["x = 'abc", 4, "unterminated quoted string"],
    ["x = \"a\nb\"", 4, "unterminated quoted string"],
    ["x = \\\"abc", 4, "unterminated quoted string"],
    ["x = a|b", 5, "unexpected character '|'"],
    ["x ! y", 2, "unexpected character '!'"],
    ["x = é", 4, "unexpected character 'é'"],
    ["x = a\u0001", 5, "unexpected character 'U+0001'"],
    ["x = %{a}", 4, "unexpected character '%'"]
  ])("%j → %i: %s", (text, offset, message) => expect(error(text)).toEqual({ offset, message }))

  it("reports offsets in UTF-16 code units after non-ASCII text", () => {
    expect(error("x = 'é😀' and |")).toEqual({ offset: 14, message: "unexpected character '|'" })
  })
})

describe("nesting cap", () => {
  it(`accepts ${MAX_NESTING} levels of parentheses and of 'not'`, () => {
    expect(tree(`${"(".repeat(MAX_NESTING)}a${")".repeat(MAX_NESTING)}`)).toBe("a")
    expect(tree(`${"not ".repeat(MAX_NESTING)}a`)).toBe(`${"(not ".repeat(MAX_NESTING)}a${")".repeat(MAX_NESTING)}`)
  })

  it("rejects one level more, at the opening token", () => {
    expect(error(`${"(".repeat(MAX_NESTING + 1)}a${")".repeat(MAX_NESTING + 1)}`)).toEqual({
      offset: MAX_NESTING,
      message: `condition nested too deeply (more than ${MAX_NESTING} levels)`
    })
    expect(error(`${"not ".repeat(MAX_NESTING + 1)}a`).message).toBe(`condition nested too deeply (more than ${MAX_NESTING} levels)`)
  })

  it("survives absurd depth without a stack overflow", () => {
    expect(error(`${"(".repeat(100_000)}a`).message).toBe(`condition nested too deeply (more than ${MAX_NESTING} levels)`)
  })

  it("parses very long flat chains (no recursion per operand)", () => {
    const long = Array.from({ length: 5000 }, (_, i) => `x = ${i}`).join(" or ")
    expect(tree(long).startsWith("(or (= x 0) (= x 1)")).toBe(true)
  })
})
