/**
 * Evaluating records against a compiled set (policy-language.md §8.2): drop filters first, then every
 * enabled rule whose prefilter accepts the record type, in rule order, no first-match stop; the per-type
 * index; the per-record attribute memo.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { compilePolicyFiles } from "../../src/services/policy/PolicyCompiler.js"
import { readPolicyFile } from "../../src/services/policy/PolicyLoader.js"
import { RecordMemo } from "../../src/services/policy/Predicates.js"
import {
  compilePolicies,
  evaluate,
  isDropped,
  matchRules,
  selectRules,
  shouldEmit
} from "../../src/services/policy/PolicySet.js"
import { compiled, fe, ff, ke, matchNames, nf, pe, proc } from "./fixtures.js"

const rule = (name: string, condition: string, extra = "") => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n${extra}`

describe("drop filters (§8.2 step 1)", () => {
  const set = compiled(`
${rule("any exec", "sf.opflags = EXEC")}
- filter: no bash
  condition: sf.proc.name = bash
- drop: never
  condition: sf.type = PE
  enabled: false
`)

  it("drop a record when an enabled filter matches, wherever the filter is in the files", () => {
    const bashExec = pe({ process: proc({ exe: "/bin/bash" }) })
    expect(evaluate(set, bashExec)).toEqual({ dropped: true, matches: [] })
    expect(isDropped(set, bashExec)).toBe(true)
  })

  it("ignore disabled filters", () => {
    expect(evaluate(set, pe())).toMatchObject({ dropped: false, matches: [{ name: "any exec" }] })
  })

  it("are not subject to prefilters: they apply to every record type", () => {
    const s = compiled("- filter: f\n  condition: sf.proc.name = python\n")
    for (const r of [pe(), ff(), fe(), nf()]) expect(isDropped(s, r)).toBe(true)
    expect(isDropped(s, ke("{}"))).toBe(false) // KE has no process
  })
})

describe("rules (§8.2 step 3)", () => {
  it("all match in rule order, with no first-match stop and duplicate names kept (Q23)", () => {
    const set = compiled(
      rule("Downloader detected", "sf.proc.name = python") +
        rule("other", "sf.proc.name = bash") +
        rule("third", "sf.type = PE") +
        rule("Downloader detected", "sf.proc.exe contains python")
    )
    expect(matchNames(set, pe())).toEqual(["Downloader detected", "third", "Downloader detected"])
    expect(evaluate(set, pe()).matches.map((r) => r.index)).toEqual([0, 2, 3])
  })

  it("keep rule order across files", () => {
    const r = compilePolicies([
      { path: "b.yaml", text: rule("from b", "sf.type = PE") },
      { path: "a.yaml", text: rule("from a", "sf.type = PE") }
    ])
    expect(Either.isRight(r) && matchNames(r.right, pe())).toEqual(["from b", "from a"])
  })

  it("skip disabled rules, which still compile and are listed", () => {
    const set = compiled(rule("off", "sf.type = PE", "  enabled: false\n") + rule("on", "sf.type = PE"))
    expect(matchNames(set, pe())).toEqual(["on"])
    expect(set.rules.map((r) => [r.name, r.enabled])).toEqual([
      ["off", false],
      ["on", true]
    ])
    expect([set.ruleCount, set.enabledRuleCount]).toEqual([2, 1])
  })
})

describe("prefilter", () => {
  const set = compiled(
    rule("pe only", "sf.proc.name = python", "  prefilter: [PE]\n") +
      rule("files", "sf.proc.name = python", "  prefilter: [FF, FE]\n") +
      rule("lowercase", "sf.proc.name = python", "  prefilter: [pe]\n") +
      rule("empty", "sf.proc.name = python", "  prefilter: []\n") +
      rule("all", "sf.proc.name = python")
  )

  it("compares the record type exactly (case-sensitive)", () => {
    expect(matchNames(set, pe())).toEqual(["pe only", "all"])
    expect(matchNames(set, ff())).toEqual(["files", "all"])
    expect(matchNames(set, fe())).toEqual(["files", "all"])
    expect(matchNames(set, nf())).toEqual(["all"])
  })

  it("disables a rule with `prefilter: []` (Q6)", () => {
    for (const r of [pe(), ff(), fe(), nf(), ke("{}")]) expect(matchNames(set, r)).not.toContain("empty")
  })

  it("is counted", () => {
    expect(set.prefilterCount).toBe(4)
  })

  it("does not restrict the generic condition", () => {
    expect(set.rules[0].condition(ff())).toBe(true)
  })
})

describe("the per-type index", () => {
  const set = compiled(
    rule("exec", "sf.type = PE and sf.proc.name = python") +
      rule("not exec", "sf.type != PE") +
      rule("flows", `sf.type in (FF, NF)`) +
      rule("never", "sf.type = XX") +
      rule("always", "sf.type exists")
  )
  const names = (t: "PE" | "FF" | "FE" | "NF" | "KE") => set.index[t].rules.map((r) => r.name)

  it("holds only the rules that can match a record of that type", () => {
    expect(names("PE")).toEqual(["exec", "always"])
    expect(names("FF")).toEqual(["not exec", "flows", "always"])
    expect(names("FE")).toEqual(["not exec", "always"])
    expect(names("NF")).toEqual(["not exec", "flows", "always"])
    expect(names("KE")).toEqual(["not exec", "always"])
  })

  it("gives the same answers as the generic conditions", () => {
    const records: ReadonlyArray<FlatRecord> = [pe(), ff(), fe(), nf(), ke("{}"), pe({ process: proc({ exe: "/bin/sh" }) })]
    for (const r of records) {
      const generic = set.rules.filter((x) => x.condition(r)).map((x) => x.name)
      expect(matchNames(set, r)).toEqual(generic)
    }
  })
})

describe("results", () => {
  const set = compiled(rule("r", "sf.type = PE") + "- filter: f\n  condition: sf.type = NF\n")

  it("share one empty result when nothing matches (no allocation)", () => {
    expect(evaluate(set, ff())).toBe(evaluate(set, fe()))
    expect(matchRules(set, ff())).toBe(matchRules(set, fe()))
  })

  it("decide emission: alert needs a match, enrich emits everything not dropped", () => {
    expect(shouldEmit(evaluate(set, pe()), "alert")).toBe(true)
    expect(shouldEmit(evaluate(set, ff()), "alert")).toBe(false)
    expect(shouldEmit(evaluate(set, ff()), "enrich")).toBe(true)
    expect(shouldEmit(evaluate(set, nf()), "enrich")).toBe(false)
  })

  it("carry what PolicyEvent.rules and the JSON encoder need", () => {
    const [m] = evaluate(compiled(rule("r", "sf.type = PE", "  priority: medium\n  tags: [a, b]\n  actions: [now]\n")), pe()).matches
    expect(m).toMatchObject({ name: "r", desc: "d", priority: 2, tags: ["a", "b"], actions: ["now"] })
  })
})

describe("selectRules (bench.rulesetsize / bench.ruleindex)", () => {
  it("restricts the rules and rebuilds the index", () => {
    const set = compiled(rule("a", "sf.type = PE") + rule("b", "sf.type = PE") + rule("c", "sf.type = PE"))
    expect(matchNames(selectRules(set, (_, i) => i < 2), pe())).toEqual(["a", "b"])
    expect(matchNames(selectRules(set, (_, i) => i === 2), pe())).toEqual(["c"])
  })
})

describe("actions", () => {
  it("warn about unknown action names when the available actions are given (§8.5)", () => {
    const r = compilePolicies([{ path: "t.yaml", text: rule("r", "sf.type = PE", "  actions: [now, nope]\n") }], {
      actions: new Set(["now"])
    })
    expect(Either.isRight(r) && r.right.warnings.map((w) => `${w.line}:${w.column} ${w.message}`)).toEqual([
      "4:18 Unknown action identifier 'nope' found in rule 'r'"
    ])
  })
})

describe("the per-record attribute memo", () => {
  it("calls each getter once per record", () => {
    const memo = new RecordMemo()
    let calls = 0
    const s = memo.slot("k", () => {
      calls++
      return "Python,Bash"
    })
    const r1 = pe()
    const r2 = pe()
    for (let i = 0; i < 5; i++) {
      memo.str(s, r1)
      memo.lower(s, r1)
      memo.segments(s, r1)
    }
    expect(calls).toBe(1)
    expect(memo.lower(s, r1)).toBe("python,bash")
    expect(memo.segments(s, r1)).toEqual(["Python", "Bash"])
    memo.str(s, r2)
    expect(calls).toBe(2)
    memo.str(s, r1)
    expect(calls).toBe(3)
  })

  it("gives one slot per attribute, shared by rules and by Falco aliases", () => {
    const text = [
      rule("a", "sf.proc.name = python"),
      rule("b", "proc.name in (bash, python)"),
      rule("c", "sf.proc.name contains pyt and sf.proc.exe startswith /usr"),
      rule("d", "sf.ke.message[a.b] = x and sf.ke.message[c] = y")
    ].join("")
    const file = readPolicyFile("t.yaml", text).file
    // sf.proc.name (aliased by proc.name), sf.proc.exe, sf.ke.message, and one slot per [path] operand
    expect(compilePolicyFiles([file]).slotCount).toBe(5)
  })
})
