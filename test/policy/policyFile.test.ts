/**
 * Policy files as YAML (policy-language.md §3, decisions Y1–Y12): item kinds and keys, field values,
 * and every rejected input with its exact `file:line:col` diagnostic.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { renderDiagnostic, renderDiagnosticWithSnippet } from "../../src/domain/policy/Diagnostic.js"
import { Priority } from "../../src/domain/policyEvent.js"
import { compilePolicies } from "../../src/services/policy/PolicySet.js"
import { compiled, errorsOf, failure, matchNames, pe, warningsOf } from "./fixtures.js"

const one = (text: string) => {
  const set = compiled(text)
  expect(set.rules.length).toBe(1)
  return set.rules[0]
}

describe("rules", () => {
  it("take defaults for every optional field", () => {
    const r = one("- rule: r\n  desc: d\n  condition: sf.type = PE\n")
    expect(r).toMatchObject({
      name: "r",
      desc: "d",
      priority: Priority.Low,
      tags: [],
      actions: [],
      prefilter: undefined,
      enabled: true,
      position: { file: "test.yaml", line: 1, column: 3 },
      index: 0
    })
  })

  it("accept keys in any order (Y1)", () => {
    const r = one("- condition: sf.type = PE\n  priority: high\n  rule: r\n  desc: d\n")
    expect(r).toMatchObject({ name: "r", priority: Priority.High, position: { line: 3, column: 3 } })
  })

  it("trim names and descs, unquote them, and fold block scalars (Y6, Y8)", () => {
    const r = one(`- rule: "  My rule  "\n  desc: >\n    a long\n    description\n  condition: sf.type = PE\n`)
    expect(r.name).toBe("My rule")
    expect(r.desc).toBe("a long description")
    expect(one(`- rule: 'Account Discovery: Local Account'\n  desc: ""\n  condition: x = y\n`)).toMatchObject({
      name: "Account Discovery: Local Account",
      desc: ""
    })
  })

  it("take YAML escapes in double-quoted scalars (Y4)", () => {
    expect(one(`- rule: "a\\u003cNA\\u003e"\n  desc: "q\\"d"\n  condition: x = y\n`)).toMatchObject({ name: "a<NA>", desc: 'q"d' })
  })

  it("keep `#` inside words (Y3)", () => {
    expect(one("- rule: r\n  desc: issue#5 # a comment\n  condition: x = y\n").desc).toBe("issue#5")
  })

  it("read tags, actions and prefilter in flow and block style; `[]` gives `[\"\"]` (Q6)", () => {
    const r = one("- rule: r\n  desc: d\n  condition: x = y\n  tags:\n    - mitre:T1059\n    - b\n  actions: [a1, a2]\n  prefilter: [PE, FF]\n")
    expect(r).toMatchObject({ tags: ["mitre:T1059", "b"], actions: ["a1", "a2"], prefilter: ["PE", "FF"] })
    expect(one("- rule: r\n  desc: d\n  condition: x = y\n  tags: []\n  prefilter: []\n  actions: []\n")).toMatchObject({
      tags: [""],
      prefilter: [""],
      actions: [""]
    })
  })

  it("ignore output, warn_evttypes and skip-if-unknown-filter", () => {
    const r = one("- rule: r\n  desc: d\n  condition: x = y\n  output: >\n    text %proc.name\n  warn_evttypes: false\n  skip-if-unknown-filter: true\n")
    expect(r.name).toBe("r")
  })

  it("accept every scalar style for conditions", () => {
    for (const style of ["|", ">", "|-", ">+", '"', "'"]) {
      const cond = style === '"' || style === "'" ? `${style}sf.type = PE${style}` : `${style}\n    sf.type = PE\n`
      expect(matchNames(compiled(`- rule: r\n  desc: d\n  condition: ${cond}\n`), pe())).toEqual(["r"])
    }
  })
})

describe("priorities (§3.2, Q14)", () => {
  it.each([
    ["emergency", Priority.High],
    ["critical", Priority.High],
    ["error", Priority.High],
    ["high", Priority.High],
    ["HIGH", Priority.High],
    ['"High"', Priority.High],
    ["warning", Priority.Medium],
    ["medium", Priority.Medium],
    ["Medium", Priority.Medium],
    ["notice", Priority.Low],
    ["info", Priority.Low],
    ["informational", Priority.Low],
    ["low", Priority.Low],
    ["debug", Priority.Low],
    ["alert", Priority.Low]
  ])("%s → %i", (word, want) => expect(one(`- rule: r\n  desc: d\n  condition: x = y\n  priority: ${word}\n`).priority).toBe(want))

  it("warns for `alert`", () => {
    expect(warningsOf("- rule: r\n  desc: d\n  condition: sf.type = PE\n  priority: alert\n")).toEqual([
      "test.yaml:4:13: warning: Unrecognized priority value 'alert' (using low)"
    ])
  })

  it("rejects other words", () => {
    expect(errorsOf("- rule: r\n  desc: d\n  condition: x = y\n  priority: urgent\n")).toEqual([
      "test.yaml:4:13: error: unknown priority 'urgent' (expected one of emergency, critical, error, high, warning, medium, notice, info, informational, low, debug)"
    ])
  })
})

describe("enabled (§3.2, Q15)", () => {
  it.each([
    ["true", true],
    ["True", true],
    ["TRUE", true],
    ["t", true],
    ["T", true],
    ["1", true],
    ["false", false],
    ["False", false],
    ["FALSE", false],
    ["f", false],
    ["F", false],
    ["0", false]
  ])("%s → %s", (text, want) => expect(one(`- rule: r\n  desc: d\n  condition: x = y\n  enabled: ${text}\n`).enabled).toBe(want))

  it.each(["no", "off", "yes", "on", "tRuE", '""'])("%s → enabled, with a warning", (text) => {
    const src = `- rule: r\n  desc: d\n  condition: sf.type = PE\n  enabled: ${text}\n`
    expect(one(src).enabled).toBe(true)
    const shown = text === '""' ? "" : text
    expect(warningsOf(src)).toEqual([
      `test.yaml:4:12: warning: unrecognized 'enabled' value '${shown}' (expected true or false); the rule stays enabled`
    ])
  })
})

describe("other items", () => {
  it("accept filter and drop as synonyms", () => {
    const set = compiled("- filter: f\n  condition: x = y\n- drop: d\n  condition: x = y\n  enabled: false\n")
    expect(set.filters.map((f) => [f.name, f.keyword, f.enabled])).toEqual([
      ["f", "filter", true],
      ["d", "drop", false]
    ])
  })

  it("ignore required_engine_version", () => {
    expect(compiled("- required_engine_version: 7\n- required_engine_version: 0.1.0\n").ruleCount).toBe(0)
  })

  it("count macros and lists (redefinitions included)", () => {
    const set = compiled("- list: l\n  items: [a]\n- list: l\n  items: [b]\n- macro: m\n  condition: x = y\n")
    expect([set.listCount, set.macroCount]).toEqual([2, 1])
  })

  it("read flow-style documents", () => {
    expect(compiled("[{rule: r, desc: d, condition: 'sf.type = PE'}, {list: l, items: [a]}]").ruleCount).toBe(1)
  })

  it("warn for an empty file or one with only comments (zero items)", () => {
    expect(warningsOf("")).toEqual(["test.yaml:1:1: warning: policy file has no items"])
    expect(warningsOf("# nothing here\n\n")).toEqual(["test.yaml:1:1: warning: policy file has no items"])
    expect(warningsOf("[]\n")).toEqual(["test.yaml:1:1: warning: policy file has no items"])
  })
})

describe("rejected files: exact diagnostics", () => {
  it.each([
    ["invalid YAML", "- rule: r\n  desc: [x\n", "test.yaml:3:1: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]"],
    ["duplicate keys", "- rule: r\n  desc: d\n  desc: e\n  condition: x = y\n", "test.yaml:3:3: error: duplicate key 'desc'"],
    ["two documents", "- rule: r\n  desc: d\n  condition: x = y\n---\n- list: l\n  items: [a]\n", "test.yaml:4:1: error: more than one YAML document in a policy file"],
    ["a top-level mapping", "rule: r\ndesc: d\n", "test.yaml:1:1: error: a policy file must be a sequence of items, found a mapping"],
    ["a top-level scalar", "hello\n", "test.yaml:1:1: error: a policy file must be a sequence of items, found a scalar"],
    ["a scalar item", "- rule: r\n  desc: d\n  condition: x = y\n- oops\n", "test.yaml:4:3: error: a policy item must be a mapping, found a scalar"],
    ["a sequence item", "- [a]\n", "test.yaml:1:3: error: a policy item must be a mapping, found a sequence"],
    ["no item key", "- name: r\n  desc: d\n", "test.yaml:1:3: error: an item needs one of the keys rule, filter, drop, macro, list, required_engine_version, required_plugin_versions"],
    ["two item keys", "- rule: r\n  macro: m\n  desc: d\n  condition: x = y\n", "test.yaml:2:3: error: an item has exactly one item key, found 'rule' and 'macro'"],
    ["a misspelt exceptions key on a rule", "- rule: r\n  desc: d\n  condition: x = y\n  exception: []\n", "test.yaml:4:3: error: key 'exception' is not allowed in a rule item (allowed: desc, condition, priority, tags, actions, prefilter, enabled, output, warn_evttypes, skip-if-unknown-filter, source, exceptions, append, override)"],
    ["a misspelt source key on a rule", "- rule: r\n  desc: d\n  condition: x = y\n  sources: syscall\n", "test.yaml:4:3: error: key 'sources' is not allowed in a rule item (allowed: desc, condition, priority, tags, actions, prefilter, enabled, output, warn_evttypes, skip-if-unknown-filter, source, exceptions, append, override)"],
    ["desc on a macro", "- macro: m\n  desc: d\n  condition: x = y\n", "test.yaml:2:3: error: key 'desc' is not allowed in a macro item (allowed: condition, append, override)"],
    ["desc on a filter", "- filter: f\n  desc: d\n  condition: x = y\n", "test.yaml:2:3: error: key 'desc' is not allowed in a filter item (allowed: condition, enabled)"],
    ["priority on a drop", "- drop: f\n  condition: x = y\n  priority: high\n", "test.yaml:3:3: error: key 'priority' is not allowed in a drop item (allowed: condition, enabled)"],
    ["desc on a list", "- list: l\n  items: [a]\n  desc: d\n", "test.yaml:3:3: error: key 'desc' is not allowed in a list item (allowed: items, append, override)"],
    ["a key on required_engine_version", "- required_engine_version: 7\n  x: 1\n", "test.yaml:2:3: error: key 'x' is not allowed in a required_engine_version item (allowed: none)"],
    ["a rule without desc (Q17)", "- rule: r\n  condition: x = y\n", "test.yaml:1:3: error: missing 'desc' in rule 'r'"],
    ["a rule without condition", "- rule: r\n  desc: d\n", "test.yaml:1:3: error: missing 'condition' in rule 'r'"],
    ["a macro without condition", "- macro: m\n", "test.yaml:1:3: error: missing 'condition' in macro 'm'"],
    ["a filter without condition", "- filter: f\n", "test.yaml:1:3: error: missing 'condition' in filter 'f'"],
    ["a list without items", "- list: l\n", "test.yaml:1:3: error: missing 'items' in list 'l'"],
    ["an empty rule name", "- rule: ''\n  desc: d\n  condition: x = y\n", "test.yaml:1:9: error: empty rule name"],
    ["a blank rule name", "- rule:\n  desc: d\n  condition: x = y\n", "test.yaml:1:8: error: empty rule name"],
    ["an empty filter name", "- filter: ' '\n  condition: x = y\n", "test.yaml:1:11: error: empty filter name"],
    ["a macro name with a space", "- macro: my macro\n  condition: x = y\n", "test.yaml:1:10: error: invalid macro name 'my macro': a macro name must be a bare word that is not a reserved word"],
    ["a reserved list name", "- list: in\n  items: [a]\n", "test.yaml:1:9: error: invalid list name 'in': a list name must be a bare word that is not a reserved word"],
    ["a mapping desc", "- rule: r\n  desc: {a: b}\n  condition: x = y\n", "test.yaml:2:9: error: 'desc' must be a scalar, found a mapping"],
    ["a sequence condition", "- rule: r\n  desc: d\n  condition: [a]\n", "test.yaml:3:14: error: 'condition' must be a scalar, found a sequence"],
    ["a scalar tags", "- rule: r\n  desc: d\n  condition: x = y\n  tags: a\n", "test.yaml:4:9: error: 'tags' must be a sequence of scalars, found a scalar"],
    ["an empty tags value", "- rule: r\n  desc: d\n  condition: x = y\n  tags:\n", "test.yaml:4:8: error: 'tags' must be a sequence of scalars, found a scalar"],
    ["a nested list item", "- list: l\n  items: [a, [b]]\n", "test.yaml:2:14: error: 'items' elements must be scalars, found a sequence"],
    ["an empty condition", "- rule: r\n  desc: d\n  condition: '  '\n", "test.yaml:3:14: error: empty condition in rule 'r'"],
    ["a missing condition value", "- macro: m\n  condition:\n", "test.yaml:2:13: error: empty condition in macro 'm'"],
    ["a rule name as a mapping", "- rule: {a: b}\n  desc: d\n  condition: x = y\n", "test.yaml:1:9: error: 'rule name' must be a scalar, found a mapping"]
  ])("%s", (_, text, want) => expect(errorsOf(text)).toEqual([want]))

  it("reports every error of a file, not just the first", () => {
    expect(errorsOf("- rule: r\n  condition: x = y\n- macro: m\n  desc: d\n  condition: a =\n- list: in\n  items: [a]\n")).toEqual([
      "test.yaml:1:3: error: missing 'desc' in rule 'r'",
      "test.yaml:4:3: error: key 'desc' is not allowed in a macro item (allowed: condition, append, override)",
      "test.yaml:6:9: error: invalid list name 'in': a list name must be a bare word that is not a reserved word"
    ])
  })

  it("names the item kind when the name itself is wrong", () => {
    expect(errorsOf("- rule: ''\n  condition: x = y\n")).toEqual([
      "test.yaml:1:9: error: empty rule name",
      "test.yaml:1:3: error: missing 'desc' in rule item"
    ])
  })

  it("fails the whole set when one file is wrong, naming that file", () => {
    const r = compilePolicies([
      { path: "good.yaml", text: "- rule: r\n  desc: d\n  condition: x = y\n" },
      { path: "bad.yaml", text: "- rule: r\n  desc: d\n  condition: x =\n" }
    ])
    expect(Either.isLeft(r) && r.left.message).toBe("bad.yaml:3:17: error: expected a value after '=', found end of condition")
  })
})

describe("condition syntax errors point into the file (§3.5)", () => {
  it.each([
    ["a plain scalar", "- rule: r\n  desc: d\n  condition: sf.type = PE and\n", "test.yaml:3:30: error: expected a condition, found end of condition"],
    [
      "a multi-line plain scalar",
      "- rule: r\n  desc: d\n  condition: sf.type = PE\n    and sf.proc.name in (a b)\n",
      "test.yaml:4:28: error: expected ',' or ')' in 'in' list, found 'b'"
    ],
    [
      "a folded block scalar",
      "- rule: r\n  desc: d\n  condition: > # comment\n    sf.type = PE\n      and (x = y\n",
      "test.yaml:5:17: error: expected 'and', 'or' or ')', found end of condition"
    ],
    [
      "a literal block scalar",
      "- rule: r\n  desc: d\n  condition: |\n    sf.type = PE and\n    x = | y\n",
      "test.yaml:5:9: error: unexpected character '|'"
    ],
    ["a double-quoted scalar", '- rule: r\n  desc: d\n  condition: "a = b c"\n', "test.yaml:3:21: error: expected 'and', 'or' or end of condition, found 'c'"],
    ["a single-quoted scalar", "- rule: r\n  desc: d\n  condition: 'a = \"b c'\n", "test.yaml:3:19: error: unterminated quoted string"],
    [
      "a double-quoted scalar with escapes (the scalar's start)",
      '- rule: r\n  desc: d\n  condition: "a = \\"b c"\n',
      "test.yaml:3:14: error: unterminated quoted string"
    ],
    ["a flow mapping", "- {rule: r, desc: d, condition: a = b c}\n", "test.yaml:1:39: error: expected 'and', 'or' or end of condition, found 'c'"]
  ])("in %s", (_, text, want) => expect(errorsOf(text)).toEqual([want]))

  it("is re-tested with whitespace variations of the same condition", () => {
    const variants = [
      "- rule: r\n  desc: d\n  condition: x in ((a)\n",
      "- rule: r\n  desc: d\n  condition:     x in ((a)\n",
      "- rule: r\n  desc: d\n  condition: >\n    x\n    in\n    ((a)\n",
      "- rule: r\n  desc: d\n  condition: |\n      x   in   ((a)\n"
    ]
    const got = variants.map((v) => errorsOf(v)[0])
    expect(got).toEqual([
      "test.yaml:3:20: error: expected a value in 'in' list, found '('",
      "test.yaml:3:24: error: expected a value in 'in' list, found '('",
      "test.yaml:6:6: error: expected a value in 'in' list, found '('",
      "test.yaml:4:17: error: expected a value in 'in' list, found '('"
    ])
  })
})

describe("diagnostic values", () => {
  it("carry reason, position, snippet and every error", () => {
    const e = failure("- rule: r\n  desc: d\n  condition: x = y\n  exception: []\n  sources: s\n")
    expect(e._tag).toBe("PolicyError")
    expect(e).toMatchObject({ reason: "UnknownKey", file: "test.yaml", line: 4, column: 3, snippet: "  exception: []" })
    expect(e.diagnostics.length).toBe(2)
    expect(e.message.split("\n").length).toBe(2)
  })

  it("render with and without a snippet", () => {
    const d = failure("- rule: r\n  desc: d\n  condition: x = \n").diagnostics[0]
    expect(renderDiagnostic(d)).toBe("test.yaml:3:17: error: expected a value after '=', found end of condition")
    expect(renderDiagnosticWithSnippet(d)).toBe(
      "test.yaml:3:17: error: expected a value after '=', found end of condition\n    condition: x = \n                  ^"
    )
  })

  it("name reasons: Yaml, Duplicate, Syntax, Cycle, Semantic", () => {
    expect(failure("- a: [\n").reason).toBe("Yaml")
    expect(failure("- rule: r\n  rule: s\n").reason).toBe("Duplicate")
    expect(failure("- macro: m\n  condition: (\n").reason).toBe("Syntax")
    expect(failure("- macro: m\n  condition: m\n- rule: r\n  desc: d\n  condition: m\n").reason).toBe("Cycle")
    expect(failure("- rule: r\n  desc: d\n  condition: x = y\n  priority: nope\n").reason).toBe("Semantic")
  })
})

describe("prefilter entries", () => {
  it("warn when an entry is not a record type the engine sees (a typo would disable the rule)", () => {
    const text = "- rule: R\n  desc: d\n  condition: sf.type = PE\n  priority: low\n  prefilter: [PE, pe]\n"
    expect(warningsOf(text)).toEqual([
      "test.yaml:5:19: warning: prefilter entry 'pe' is not a record type the engine sees (PE, FF, FE, NF, KE): the rule never applies to it"
    ])
  })
  it("stay quiet for record types and for the empty list (Q6)", () => {
    expect(warningsOf("- rule: R\n  desc: d\n  condition: sf.type = PE\n  priority: low\n  prefilter: [PE, FF, FE, NF, KE]\n")).toEqual([])
    expect(warningsOf("- rule: R\n  desc: d\n  condition: sf.type = PE\n  priority: low\n  prefilter: []\n")).toEqual([])
  })
})
