/**
 * The whole condition AST, offsets included (conditionGrammar.test.ts compares trees without them):
 * every node kind carries the UTF-16 offset of its first token, which the compiler's warnings and the
 * loader's positions are built from. Expected trees are the ones the hand-written parser produced before
 * the grammar was rewritten as arcsecond combinators.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import type { Expr } from "../../src/domain/policy/PolicyAst.js"
import { parseCondition } from "../../src/services/policy/ConditionParser.js"

const parsed = (text: string): Expr => {
  const r = parseCondition(text)
  if (Either.isLeft(r)) throw new Error(`${text}: ${r.left.message} at ${r.left.offset}`)
  return r.right
}

const word = (text: string, offset: number) => ({ text, quoted: false, offset })
const quoted = (text: string, offset: number) => ({ text, quoted: true, offset })

describe("condition AST with offsets", () => {
  it("gives every node kind its offset, in UTF-16 units after non-ASCII text", () => {
    expect(parsed(`not (x = "é😀" and m) or y in (a, [b, c]) or not\tz exists`)).toEqual({
      kind: "or",
      operands: [
        {
          kind: "not",
          offset: 0,
          operand: {
            kind: "and",
            operands: [
              { kind: "compare", op: "=", left: word("x", 5), right: quoted(`"é😀"`, 9) },
              { kind: "macro", name: "m", offset: 19 }
            ]
          }
        },
        {
          kind: "list",
          op: "in",
          subject: word("y", 25),
          elements: [
            { kind: "atom", atom: word("a", 31) },
            { kind: "group", atoms: [word("b", 35), word("c", 38)], offset: 34 }
          ]
        },
        { kind: "not", offset: 45, operand: { kind: "exists", subject: word("z", 49) } }
      ]
    })
  })

  it("keeps empty bracket groups and doubled quotes with their offsets", () => {
    expect(parsed("p pmatch ([ ], q) and ''r'' icontains s")).toEqual({
      kind: "and",
      operands: [
        {
          kind: "list",
          op: "pmatch",
          subject: word("p", 0),
          elements: [
            { kind: "group", atoms: [], offset: 10 },
            { kind: "atom", atom: word("q", 15) }
          ]
        },
        { kind: "compare", op: "icontains", left: quoted("''r''", 22), right: word("s", 38) }
      ]
    })
  })

  it("parses the same text to the same tree every time (no state kept between parses)", () => {
    const text = "a = 1 and (b in (c) or not d)"
    const first = parsed(text)
    expect(() => parsed("((((x")).toThrow(/expected 'and', 'or' or '\)'/)
    expect(parsed(text)).toEqual(first)
  })
})
