/**
 * The policy sets we ship under policies/ load cleanly, are well formed, can be combined, and are
 * documented in policies/README.md.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import type { CompiledPolicySet } from "../../src/services/policy/PolicySet.js"
import { filterDir, load, policiesDir, runtimeIntegrityDir, warningsOf } from "./support.js"

const priorityWord = { 1: "low", 2: "medium", 3: "high" } as Record<number, string>

let ri: CompiledPolicySet
let filter: CompiledPolicySet
let both: CompiledPolicySet
beforeAll(async () => {
  ;[ri, filter, both] = await Promise.all([load(runtimeIntegrityDir), load(filterDir), load(policiesDir)])
})

describe("policies/runtimeintegrity", () => {
  it("loads with zero warnings", () => {
    expect(warningsOf(ri)).toEqual([])
  })

  it("loads its lists and macros before its rules (files in name order)", () => {
    expect(ri.files.map((f) => path.basename(f))).toEqual([
      "00-lists.yaml",
      "01-macros.yaml",
      "10-process.yaml",
      "20-file.yaml",
      "30-network.yaml"
    ])
  })

  it("has rules only, no filters, with unique names, all enabled", () => {
    expect(ri.filterCount).toBe(0)
    expect(ri.ruleCount).toBeGreaterThanOrEqual(25)
    expect(new Set(ri.rules.map((r) => r.name)).size).toBe(ri.ruleCount)
    expect(ri.enabledRuleCount).toBe(ri.ruleCount)
  })

  it("gives every rule a description, a priority, a prefilter and at least one MITRE ATT&CK tag", () => {
    for (const r of ri.rules) {
      expect(r.desc.length, r.name).toBeGreaterThan(20)
      expect([1, 2, 3], r.name).toContain(r.priority)
      expect(r.prefilter, r.name).toBeDefined()
      expect(r.prefilter!.every((t) => ["PE", "FF", "FE", "NF"].includes(t)), r.name).toBe(true)
      expect(r.tags.some((t) => /^mitre:(TA|T)\d{4}(\.\d{3})?$/.test(t)), r.name).toBe(true)
    }
  })
})

describe("policies/filter", () => {
  it("loads with zero warnings", () => {
    expect(warningsOf(filter)).toEqual([])
  })

  it("has filters only, no rules", () => {
    expect(filter.ruleCount).toBe(0)
    expect(filter.filterCount).toBe(7)
  })
})

describe("policies/ as a whole", () => {
  it("loads both sets together with zero warnings: the filter set's names do not clash with the rule set's", () => {
    expect(warningsOf(both)).toEqual([])
    expect(both.rules.map((r) => r.name)).toEqual(ri.rules.map((r) => r.name))
    expect(both.filters.map((f) => f.name)).toEqual(filter.filters.map((f) => f.name))
  })
})

describe("policies/README.md", () => {
  const readme = fs.readFileSync(path.join(policiesDir, "README.md"), "utf8")

  it("lists every rule with its priority and tags, in rule order", () => {
    const section = readme.slice(readme.indexOf("\n## Rules"), readme.indexOf("\n## ", readme.indexOf("\n## Rules") + 1))
    const rows = section
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("| rule") && !l.startsWith("| ---"))
      .map((l) => l.split("|").map((c) => c.trim()))
    expect(rows.map((c) => c[1])).toEqual(ri.rules.map((r) => r.name))
    rows.forEach((cells, i) => {
      const rule = ri.rules[i]
      expect(cells[2], rule.name).toBe(priorityWord[rule.priority])
      expect(cells[4], rule.name).toBe(rule.tags.map((t) => `\`${t}\``).join(" "))
    })
  })

  it("names every filter", () => {
    for (const f of filter.filters) expect(readme).toContain(f.name)
  })
})
