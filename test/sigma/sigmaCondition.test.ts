/**
 * The Sigma condition grammar (Sigma rules specification v2, "Condition"): operators, precedence
 * (or < and < not < x of < parentheses), `1 of` / `all of` with `them` and wildcard patterns, and
 * errors at the offending offset.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { type CondExpr, MAX_CONDITION_NESTING, MAX_NEGATIONS, parseCondition } from "../../src/services/policy/sigma/SigmaCondition.js"

/** A compact rendering of the tree: `(a & !b) | 1of(sel*)`. */
const show = (e: CondExpr): string => {
  switch (e.kind) {
    case "and":
      return `(${e.operands.map(show).join(" & ")})`
    case "or":
      return `(${e.operands.map(show).join(" | ")})`
    case "not":
      return `!${show(e.operand)}`
    case "ref":
      return e.name
    case "of":
      return `${e.quantifier}of(${e.pattern})`
  }
}

const tree = (text: string): string => {
  const r = parseCondition(text)
  if (Either.isLeft(r)) throw new Error(`${text}: ${r.left.message} at ${r.left.offset}`)
  return show(r.right)
}

const error = (text: string) => {
  const r = parseCondition(text)
  if (Either.isRight(r)) throw new Error(`${text} parsed`)
  return r.left
}

describe("grammar", () => {
  it.each([
    ["selection", "selection"],
    ["keywords1 or keywords2", "(keywords1 | keywords2)"],
    ["a or b and c", "(a | (b & c))"],
    ["not a and b", "(!a & b)"],
    ["not (a and b)", "!(a & b)"],
    ["selection1 and (keywords1 or keywords2)", "(selection1 & (keywords1 | keywords2))"],
    ["a and b and c", "(a & b & c)"],
    ["1 of them", "1of(them)"],
    ["all of them", "allof(them)"],
    ["any of selection*", "1of(selection*)"],
    ["all of selection*", "allof(selection*)"],
    ["1 of selection* and keywords", "(1of(selection*) & keywords)"],
    ["1 of selection* and not 1 of filter*", "(1of(selection*) & !1of(filter*))"],
    ["not 1 of filter_*", "!1of(filter_*)"],
    ["(selection)", "selection"],
    ["  sel  \n and\tnot filter ", "(sel & !filter)"],
    ["Sel AND NOT Filter", "(Sel & !Filter)"],
    ["selection_1.a-b", "selection_1.a-b"],
    ["notes and order", "(notes & order)"]
  ])("%s → %s", (text, want) => {
    expect(tree(text)).toBe(want)
  })

  it("records each identifier's offset", () => {
    const r = parseCondition("a and not filter")
    expect(Either.getOrThrow(r)).toEqual({
      kind: "and",
      operands: [
        { kind: "ref", name: "a", offset: 0 },
        { kind: "not", operand: { kind: "ref", name: "filter", offset: 10 } }
      ]
    })
  })
})

describe("errors", () => {
  it.each([
    ["a and", 2, "condition ends with 'and'"],
    ["a or or b", 5, "'or' must be followed by a search identifier, '(' or 'not', not 'or'"],
    ["(a or b", 0, "'(' is never closed"],
    ["a or b)", 6, "unexpected ')'"],
    ["a b", 2, "unexpected 'b'"],
    ["all of", 4, "condition ends with 'of'"],
    ["2 of sel*", 0, "'2 of': Sigma quantifiers are '1 of' and 'all of'"],
    ["sel | count() > 5", 4, "aggregation expressions ('| count() ...') are not supported: use Sigma correlation rules"],
    ["sel1 near sel2", 5, "'near' (temporal aggregation) is not supported"],
    ["sel and them", 8, "'and' must be followed by a search identifier, '(' or 'not', not 'them'"],
    ["", 0, "unexpected end of condition"]
  ])("%j → offset %d: %s", (text, offset, message) => {
    expect(error(text)).toEqual({ offset, message })
  })

  it("nesting is capped (the parser and compiler recurse)", () => {
    const deep = `${"(".repeat(MAX_CONDITION_NESTING + 1)}a${")".repeat(MAX_CONDITION_NESTING + 1)}`
    expect(error(deep).message).toContain("nested too deeply")
    expect(error(`${"not ".repeat(MAX_NEGATIONS + 1)}a`).message).toContain(`more than ${MAX_NEGATIONS} 'not'`)
    expect(tree(`${"not ".repeat(MAX_NEGATIONS)}a`)).toBe(`${"!".repeat(MAX_NEGATIONS)}a`)
    expect(tree(`${"(".repeat(MAX_CONDITION_NESTING)}a${")".repeat(MAX_CONDITION_NESTING)}`)).toBe("a")
  })
})
