/**
 * The legacy fallback for non-YAML policy files (decision Y10, policy-language.md §3.4): only when the
 * strict parse fails, four line rewrites, one warning per rewritten line, positions in the original.
 */
import { describe, expect, it } from "vitest"
import { legacyRewrite } from "../../src/services/policy/LegacyYaml.js"
import { compiled, errorsOf, matchNames, pe, warningsOf } from "./fixtures.js"

describe("L1: tabs in leading whitespace count as one space", () => {
  const text = "- rule: r\n  desc: d\n  condition: sf.type = PE and\n  \t\t\t sf.proc.name = python\n"

  it("loads the unit-test style of continuation lines", () => {
    expect(matchNames(compiled(text), pe())).toEqual(["r"])
    expect(warningsOf(text)).toEqual(["test.yaml:4:7: warning: not valid YAML, accepted in legacy mode (L1)"])
  })

  it("maps positions on a rewritten line back to the original columns", () => {
    expect(errorsOf(text.replace("= python", "= |"))).toEqual(["test.yaml:4:22: error: unexpected character '|'"])
    expect(errorsOf("- rule: r\n  desc: d\n  condition: sf.type = PE and\n  \t\t\t sf.proc.name = (x)\n")).toEqual([
      "test.yaml:4:22: error: expected a value after '=', found '('"
    ])
  })
})

describe("L2: indented item markers move to column 1", () => {
  const text = "- list: a\n  items: [x]\n\n - list: b\n  items: [python]\n\n - rule: r\n  desc: d\n  condition: sf.proc.name in (b)\n"

  it("loads ` - list:` / ` - rule:` at column 2", () => {
    const set = compiled(text)
    expect(set.listCount).toBe(2)
    expect(matchNames(set, pe())).toEqual(["r"])
    expect(warningsOf(text)).toEqual([
      "test.yaml:4:2: warning: not valid YAML, accepted in legacy mode (L2)",
      "test.yaml:7:2: warning: not valid YAML, accepted in legacy mode (L2)"
    ])
  })

  it("reports item positions in the original text", () => {
    expect(compiled(text).rules[0].position).toEqual({ file: "test.yaml", line: 7, column: 4 })
  })
})

describe("L3: item bodies re-indented", () => {
  it("moves field keys to two spaces and under-indented continuation lines to four", () => {
    const text =
      " - list: init_directories\n   items: [/etc/init.d]\n- rule: r\n  desc: an attempt to read (e.g. user/password/authentication\ninformation).\n  condition: sf.type = PE\n"
    const set = compiled(text)
    expect(set.rules[0].desc).toBe("an attempt to read (e.g. user/password/authentication information).")
    expect(warningsOf(text)).toEqual([
      "test.yaml:1:2: warning: not valid YAML, accepted in legacy mode (L2)",
      "test.yaml:2:4: warning: not valid YAML, accepted in legacy mode (L3)",
      "test.yaml:5:1: warning: not valid YAML, accepted in legacy mode (L3)"
    ])
  })
})

describe("L4: rule names containing ': '", () => {
  it("quotes a plain rule name with ': ' (doubling quotes), keeping a trailing comment", () => {
    const text =
      "- rule: Account Discovery: Local Account # T1087\n  desc: d\n  condition: sf.type = PE\n- rule: Scheduled Task/Job: Cron's\n  desc: d\n  condition: sf.type = PE\n"
    const set = compiled(text)
    expect(set.rules.map((r) => r.name)).toEqual(["Account Discovery: Local Account", "Scheduled Task/Job: Cron's"])
    expect(warningsOf(text)).toEqual([
      "test.yaml:1:1: warning: not valid YAML, accepted in legacy mode (L4)",
      "test.yaml:4:1: warning: not valid YAML, accepted in legacy mode (L4)"
    ])
  })

  it("combines with L2 on the same line", () => {
    const text = "- list: l\n  items: [a]\n - rule: Active Scanning: Scanning IP Blocks\n  desc: d\n  condition: sf.type = PE\n"
    expect(compiled(text).rules[0].name).toBe("Active Scanning: Scanning IP Blocks")
    expect(warningsOf(text)).toEqual(["test.yaml:3:2: warning: not valid YAML, accepted in legacy mode (L2, L4)"])
  })

  it("applies to rule names only", () => {
    expect(errorsOf("- rule: r\n  desc: a: b\n  condition: sf.type = PE\n")).toEqual([
      "test.yaml:2:9: error: invalid YAML: Nested mappings are not allowed in compact mappings"
    ])
  })
})

describe("the fallback is a fallback", () => {
  it("never rewrites valid YAML (no warning)", () => {
    expect(warningsOf("# header\n- rule: r  # trailing comment\n  desc: d\n  condition: >\n    sf.type = PE\n     and sf.proc.name = python\n")).toEqual([])
  })

  it("reports the strict parse errors when the rewrite does not parse either", () => {
    expect(errorsOf(" - rule: r\n  desc: [a\n")).toEqual([
      "test.yaml:2:1: error: invalid YAML: Sequence item without - indicator",
      "test.yaml:3:1: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]"
    ])
  })

  it("leaves blank lines and comments alone", () => {
    expect(legacyRewrite("- rule: r\n\t\n#\tcomment\n  desc: d\n")).toBeUndefined()
  })

  it("keeps the line count, so lines map one to one", () => {
    const src = " - rule: a: b\n\tdesc: d\n  condition: x = y\n"
    const r = legacyRewrite(src)!
    expect(r.text).toBe("- rule: 'a: b'\n  desc: d\n  condition: x = y\n")
    expect(r.text.split("\n").length).toBe(src.split("\n").length)
    expect([...r.lines.keys()]).toEqual([1, 2])
    expect(r.lines.get(2)!.rules).toEqual(["L1", "L3"])
  })
})
