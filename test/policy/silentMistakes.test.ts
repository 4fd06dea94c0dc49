/**
 * Policy mistakes the reference accepted without a word (issue 10 §5), beyond the relational operand
 * errors of operatorsRelational.test.ts: `=`/`!=`/`in` values a numeric attribute never renders,
 * duplicate rule names, and names in `in (…)` that look like lists but name none. All are warnings
 * (the reference's shipped policies contain every kind and must still load); the semantics are unchanged.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import { compilePolicies } from "../../src/services/policy/PolicySet.js"
import { compiled, holds, matchNames, nf, pe, ruleText, warningsOf } from "./fixtures.js"

const rule = (name: string, condition: string) => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n`

describe("values a numeric attribute never equals (warnings: the comparison is constant)", () => {
  it("warns on = and != with a value that is not a decimal integer, naming the outcome", () => {
    expect(warningsOf(ruleText("sf.net.proto = udp or fd.l4proto != tcp or container.privileged = true"))).toEqual([
      "test.yaml:5:20: warning: 'udp' is not a decimal integer and sf.net.proto is numeric: 'sf.net.proto = udp' is never true",
      "test.yaml:5:41: warning: 'tcp' is not a decimal integer and fd.l4proto is numeric: 'fd.l4proto != tcp' is always true",
      "test.yaml:5:71: warning: 'true' is not a decimal integer and container.privileged is numeric: 'container.privileged = true' is never true"
    ])
    // Semantics unchanged (the reference's): a string comparison with the decimal rendering.
    expect(holds("sf.net.proto = udp", nf())).toBe(false)
    expect(holds("fd.l4proto != tcp", nf())).toBe(true)
  })

  it("checks each comma-separated part, after quote trimming; leading zeros and signs never match", () => {
    expect(warningsOf(ruleText(`sf.net.dport = "80,http" or sf.proc.pid = 010 or sf.net.sport = "443"`))).toEqual([
      `test.yaml:5:20: warning: 'http' is not a decimal integer and sf.net.dport is numeric: 'sf.net.dport = "80,http"' is never true`,
      "test.yaml:5:47: warning: '010' is not a decimal integer and sf.proc.pid is numeric: 'sf.proc.pid = 010' is never true"
    ])
  })

  it("checks `in` values, inline and from lists, at their own positions; `items: []` is not reported", () => {
    const text = `- list: ports\n  items: [80, https]\n- list: none\n  items: []\n${rule("r", "sf.net.dport in (ports, 22, ssh, none) or sf.net.port in (-1)")}`
    expect(warningsOf(text)).toEqual([
      "test.yaml:2:15: warning: 'https' is not a decimal integer and sf.net.dport is numeric: this 'in' value never matches",
      "test.yaml:7:42: warning: 'ssh' is not a decimal integer and sf.net.dport is numeric: this 'in' value never matches"
    ])
  })

  it("leaves attribute-to-attribute comparisons, string attributes and the 0/1 flags alone", () => {
    expect(warningsOf(ruleText("sf.proc.pid != sf.proc.tid or sf.proc.name = 5 or sf.proc.tty = true or sf.proc.name in (a, b)"))).toEqual([])
  })
})

describe("duplicate rule names (Q23 kept: both apply; now with a warning)", () => {
  it("warns at the second definition, naming the first, within a file and across files", () => {
    const r = compilePolicies([
      { path: "a.yaml", text: rule("Downloader detected", "sf.proc.name = python") + rule("other", "sf.type = PE") },
      { path: "b.yaml", text: rule("Downloader detected", "sf.proc.exe contains python") + rule("other", "sf.type = NF") }
    ])
    if (Either.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.warnings.map(renderDiagnostic)).toEqual([
      "b.yaml:1:3: warning: duplicate rule name 'Downloader detected', first defined at a.yaml:1:3; both are kept and both apply",
      "b.yaml:4:3: warning: duplicate rule name 'other', first defined at a.yaml:4:3; both are kept and both apply"
    ])
    expect(matchNames(r.right, pe())).toEqual(["Downloader detected", "other", "Downloader detected"])
  })

  it("warns for filters too, and once per extra definition", () => {
    const f = "- filter: f\n  condition: sf.proc.name = x\n"
    expect(warningsOf(f + f + f)).toEqual([
      "test.yaml:3:3: warning: duplicate filter name 'f', first defined at test.yaml:1:3; both are kept and both apply",
      "test.yaml:5:3: warning: duplicate filter name 'f', first defined at test.yaml:1:3; both are kept and both apply"
    ])
  })
})

describe("names in in (…) that look like lists but name none (compared as literals, as before)", () => {
  const lists = "- list: shell_binaries\n  items: [bash, sh]\n- list: package_mgmt_binaries\n  items: [rpm, dpkg]\n- macro: java_installer\n  condition: sf.proc.name = java\n"

  it("warns on a misspelling of a visible list, suggesting it", () => {
    expect(warningsOf(lists + rule("r", "sf.proc.name in (pkg_mgmt_binaries, shell_binarys)"))).toEqual([
      "test.yaml:9:31: warning: no list named 'pkg_mgmt_binaries'; compared as a literal (did you mean 'package_mgmt_binaries'?)",
      "test.yaml:9:50: warning: no list named 'shell_binarys'; compared as a literal (did you mean 'shell_binaries'?)"
    ])
  })

  it("warns on a macro name, and on a plural name that ends like the visible lists", () => {
    expect(warningsOf(lists + rule("r", "sf.proc.name pmatch (java_installer, passwd_binaries)"))).toEqual([
      "test.yaml:9:35: warning: no list named 'java_installer'; compared as a literal ('java_installer' is a macro, and macros cannot be used inside '(...)')",
      "test.yaml:9:51: warning: no list named 'passwd_binaries'; compared as a literal"
    ])
  })

  it("warns on a name ending like Falco's list names even when no list is defined at all", () => {
    expect(warningsOf(rule("r", "sf.proc.name in (shell_binaries, bash) and sf.file.path pmatch (sensitive_files)"))).toEqual([
      "test.yaml:3:31: warning: no list named 'shell_binaries'; compared as a literal",
      "test.yaml:3:78: warning: no list named 'sensitive_files'; compared as a literal"
    ])
  })

  it("checks list items too, at the item", () => {
    expect(warningsOf(`- list: all\n  items: [shell_binaries, login_binaries]\n${lists}${rule("r", "sf.proc.name in (all)")}`)).toEqual([
      "test.yaml:2:27: warning: no list named 'login_binaries'; compared as a literal"
    ])
  })

  it("stays quiet on values: process names with '_', capitals, quoted names, dotted or dashed words", () => {
    const values = `unix_chkpwd, erl_child_setup, pg_lsclusters, c_rehash, WRITE_SEND, "my_binaries", 'x_binaries', run.d_binaries, a-b_binaries, google_oslogin_`
    expect(warningsOf(lists + rule("r", `sf.proc.name in (${values}) or sf.file.openflags in (O_CREAT)`))).toEqual([])
  })

  it("keeps the literal semantics (§5.2)", () => {
    const set = compiled(lists + rule("r", "sf.proc.name in (pkg_mgmt_binaries)"))
    expect(set.warnings).toHaveLength(1)
    expect(matchNames(set, pe())).toEqual([])
  })
})
