/**
 * Lists and macros (policy-language.md §4.3, §5): expansion, nesting, positional redefinition,
 * visibility across files, unknown macros (Q5), cycles (Q16).
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import { MAX_LIST_VALUES } from "../../src/services/policy/PolicyCompiler.js"
import { compilePolicies, evaluate } from "../../src/services/policy/PolicySet.js"
import { compiled, errorsOf, matchNames, pe, warningsOf } from "./fixtures.js"

const rule = (name: string, condition: string) => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n`

describe("macros", () => {
  it("expand recursively into the rule", () => {
    const set = compiled(`
- macro: is_python
  condition: sf.proc.name = python
- macro: in_node_app
  condition: sf.container.name = node-app and is_python
${rule("r", "in_node_app and not is_bash")}
- macro: is_bash
  condition: sf.proc.name = bash
`)
    expect(matchNames(set, pe())).toEqual(["r"])
  })

  it("may be referenced before their definition in the same file (pre-pass)", () => {
    const set = compiled(`${rule("r", "later")}\n- macro: later\n  condition: sf.type = PE\n`)
    expect(matchNames(set, pe())).toEqual(["r"])
    expect(set.warnings).toEqual([])
  })

  it("are redefined positionally within a file", () => {
    const set = compiled(`
${rule("before", "m")}
- macro: m
  condition: sf.proc.name = python
${rule("between", "m")}
- macro: m
  condition: sf.proc.name = bash
${rule("after", "m")}
`)
    // `before` sees the last pre-pass value (bash), `between` the first definition, `after` the second.
    expect(matchNames(set, pe())).toEqual(["between"])
  })

  it("are appended to by `append: true` (Falco; the reference replaced them)", () => {
    const set = compiled(`
- macro: m
  condition: sf.proc.name = python
- macro: m
  condition: or sf.proc.name = bash
  append: true
${rule("r", "m")}
`)
    expect(matchNames(set, pe())).toEqual(["r"])
  })

  it("see only earlier files across files; later definitions are unknown (false, with a warning)", () => {
    const r = compilePolicies([
      { path: "a.yaml", text: rule("uses_later_macro", "not later_macro") + rule("uses_later_list", "sf.proc.name in (later_list)") },
      { path: "b.yaml", text: "- macro: later_macro\n  condition: sf.type = PE\n- list: later_list\n  items: [python]\n" + rule("in_b", "later_macro") }
    ])
    if (Either.isLeft(r)) throw new Error(r.left.message)
    expect(matchNames(r.right, pe())).toEqual(["uses_later_macro", "in_b"])
    expect(r.right.warnings.map(renderDiagnostic)).toEqual([
      "a.yaml:3:18: warning: unknown macro 'later_macro' (evaluates to false)",
      "a.yaml:6:31: warning: no list named 'later_list'; compared as a literal (the list 'later_list' at b.yaml:3:3 is in a later file, and lists are visible only after their file)"
    ])
  })

  it("keep definitions from earlier files", () => {
    const r = compilePolicies([
      { path: "a.yaml", text: "- macro: m\n  condition: sf.proc.name = python\n- list: l\n  items: [python]\n" },
      { path: "b.yaml", text: rule("r", "m and sf.proc.name in (l)") }
    ])
    expect(Either.isRight(r) && matchNames(r.right, pe())).toEqual(["r"])
  })

  it("compile unknown references to false with a warning at the reference (Q5)", () => {
    const text = rule("r", "not undefined_macro")
    expect(matchNames(compiled(text), pe())).toEqual(["r"])
    expect(warningsOf(text)).toEqual(["test.yaml:3:18: warning: unknown macro 'undefined_macro' (evaluates to false)"])
    expect(matchNames(compiled(rule("r", "undefined_macro")), pe())).toEqual([])
  })

  it("report warnings inside a used macro once per definition, at positions inside the macro", () => {
    const text = `
- macro: m
  condition: sf.nope = 1 and other
${rule("r1", "m")}
${rule("r2", "m or m")}
`
    expect(warningsOf(text)).toEqual([
      "test.yaml:3:14: warning: 'sf.nope' is not a known attribute; compared as a literal",
      "test.yaml:3:30: warning: unknown macro 'other' (evaluates to false)"
    ])
  })

  it("compile only when referenced: an unused macro gives no warning", () => {
    expect(warningsOf("- macro: unused\n  condition: sf.nope = 1 and other\n")).toEqual([])
  })

  it("are syntax-checked even when unused", () => {
    expect(errorsOf("- macro: unused\n  condition: a = \n")).toEqual([
      "test.yaml:2:17: error: expected a value after '=', found end of condition"
    ])
  })
})

describe("lists", () => {
  it("flatten nested lists in place, whatever the definition order", () => {
    const set = compiled(`
${rule("r", "sf.proc.name in (outer)")}
- list: outer
  items: [a, inner, z]
- list: inner
  items: [b, innermost]
- list: innermost
  items: [python]
`)
    expect(matchNames(set, pe())).toEqual(["r"])
  })

  it("are redefined positionally", () => {
    const set = compiled(`
- list: l
  items: [python]
${rule("first", "sf.proc.name in (l)")}
- list: l
  items: [bash]
${rule("second", "sf.proc.name in (l)")}
`)
    expect(matchNames(set, pe())).toEqual(["first"])
  })

  it("used inside macros resolve against the definitions at the rule", () => {
    const set = compiled(`
- macro: m
  condition: sf.proc.name in (l)
- list: l
  items: [python]
${rule("first", "m")}
- list: l
  items: [bash]
${rule("second", "m")}
`)
    expect(matchNames(set, pe())).toEqual(["first"])
  })
})

describe("cycles (Q16, fixed: the reference overflowed its stack)", () => {
  it("reports a macro referencing itself at the reference, naming the cycle", () => {
    expect(errorsOf("- macro: m\n  condition: sf.type = PE and m\n" + rule("r", "m"))).toEqual([
      "test.yaml:2:31: error: macro cycle: m -> m"
    ])
  })

  it("reports an indirect macro cycle", () => {
    const text = `
- macro: a
  condition: b
- macro: b
  condition: not c
- macro: c
  condition: (a)
${rule("r", "a")}
`
    expect(errorsOf(text)).toEqual(["test.yaml:7:15: error: macro cycle: a -> b -> c -> a"])
  })

  it("reports a list containing itself", () => {
    expect(errorsOf("- list: a\n  items: [x, a]\n" + rule("r", "sf.proc.name in (a)"))).toEqual([
      "test.yaml:2:14: error: list cycle: a -> a"
    ])
  })

  it("reports an indirect list cycle", () => {
    const text = `
- list: a
  items: [b]
- list: b
  items: [c]
- list: c
  items: [x, a]
${rule("r", "sf.proc.name pmatch (a)")}
`
    expect(errorsOf(text)).toEqual(["test.yaml:7:14: error: list cycle: a -> b -> c -> a"])
  })

  it("S6: a list that multiplies through lists of lists is refused before it is built", () => {
    // Eight levels of lists each naming the previous one ten times: 10^8 values (it took minutes and
    // all memory to expand); the count is known at once.
    const levels = ["- list: l0\n  items: [a, b, c, d, e, f, g, h, i, j]"]
    for (let k = 1; k < 8; k++) levels.push(`- list: l${k}\n  items: [${Array(10).fill(`l${k - 1}`).join(", ")}]`)
    const text = levels.join("\n") + "\n" + rule("r", "sf.proc.name in (l7, x)")
    expect(errorsOf(text)).toEqual([`test.yaml:19:31: error: list 'l7' expands to 100000000 values (at most ${MAX_LIST_VALUES})`])
    // Within the limit, lists of lists expand in full.
    const fine = levels.slice(0, 4).join("\n") + "\n" + rule("r", "sf.proc.name in (l3)")
    expect(compiled(fine).ruleCount).toBe(1)
  })

  it("is not an error while the cyclic definition is unused", () => {
    expect(compiled("- list: a\n  items: [a]\n- macro: m\n  condition: m\n").ruleCount).toBe(0)
  })

  it("does not mistake a diamond for a cycle", () => {
    const set = compiled(`
- macro: base
  condition: sf.type = PE
- macro: left
  condition: base
- macro: right
  condition: base
${rule("r", "left and right")}
`)
    expect(evaluate(set, pe()).matches.length).toBe(1)
  })
})
