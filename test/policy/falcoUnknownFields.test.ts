/**
 * Unknown fields in Falco files (issue 12, item 3): a real Falco field that SysFlow data cannot answer
 * leaves its rule listed and inactive (so falcosecurity's files load), a name that is no Falco field at
 * all (a typo) is a compile error at its position, unless the rule has `skip-if-unknown-filter: true`:
 * then the rule is skipped with a warning, as Falco does (Falco's rules documentation).
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import { falcoFieldSource } from "../../src/services/policy/FalcoFieldNames.js"
import { type CompiledPolicySet, compilePolicies } from "../../src/services/policy/PolicySet.js"
import { bash, matchNames, pe, proc } from "./fixtures.js"

const compile = (text: string) => compilePolicies([{ path: "rules.yaml", text }])
const load = (text: string): CompiledPolicySet => {
  const r = compile(text)
  if (Either.isLeft(r)) throw new Error(r.left.message)
  return r.right
}
const errors = (text: string): ReadonlyArray<string> => {
  const r = compile(text)
  if (Either.isRight(r)) throw new Error("expected a failed load")
  return r.left.diagnostics.filter((d) => d.severity === "error").map(renderDiagnostic)
}
const warnings = (set: CompiledPolicySet): ReadonlyArray<string> => set.warnings.map(renderDiagnostic)

const HEADER = "- required_engine_version: 0.57.0\n"
const rule = (name: string, condition: string, extra = "") => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  output: "%proc.name ran"\n  priority: WARNING\n${extra}`

const curl = proc({ exe: "/usr/bin/curl", exeArgs: "http://x", parent: bash })
const exec = pe({ process: curl, ptree: [curl, bash] })

describe("Falco field names (libs' field tables and plugin field classes)", () => {
  it.each([
    ["proc.name", "libs"],
    ["proc.aname[2]", "libs"],
    ["proc.aname", "libs"],
    ["proc.env[HOME]", "libs"],
    ["evt.arg.flags", "libs"],
    ["evt.arg[0]", "libs"],
    ["evt.type.is.open", "libs"],
    ["fd.sip.name", "libs"],
    ["thread.cap_effective", "libs"],
    ["user.loginuid", "libs"],
    ["container.mount.dest[/proc*]", "container"],
    ["k8s.deployment.name", "container"],
    ["proc.is_container_healthcheck", "container"],
    ["ka.verb", "k8saudit"]
  ])("%s is a Falco field (%s)", (name, from) => {
    const s = falcoFieldSource(name)
    expect(s === undefined ? undefined : s.source === "libs" ? "libs" : s.plugin).toBe(from)
  })

  it.each([
    "proc.nmae", // a typo
    "proc.name.x", // no argument on a field that takes none
    "proc.name[2]",
    "evt.arg", // its argument is required
    "evt.arg.flags[0]", // a dotted and a bracket argument
    "proc.aname[]",
    "process.name",
    "name"
  ])("%s is no Falco field", (name) => {
    expect(falcoFieldSource(name)).toBeUndefined()
  })
})

describe("a name that is no Falco field", () => {
  it("is a compile error at its position, with the closest field", () => {
    expect(errors(HEADER + rule("typo", "proc.nmae = curl"))).toEqual([
      "rules.yaml:4:14: error: rule 'typo' uses 'proc.nmae', which is not a Falco field (did you mean 'proc.name'?)"
    ])
  })

  it("is an error where it is written, also inside a macro a rule uses", () => {
    const text = `${HEADER}- macro: curlish\n  condition: proc.name = curl and fd.nmae startswith /etc\n${rule("r", "curlish")}`
    expect(errors(text)).toEqual(["rules.yaml:3:35: error: rule 'r' uses 'fd.nmae', which is not a Falco field (did you mean 'fd.name'?)"])
  })

  it("without a close field, says only that it is not one", () => {
    expect(errors(HEADER + rule("r", "something.else = 1"))).toEqual(["rules.yaml:4:14: error: rule 'r' uses 'something.else', which is not a Falco field"])
  })

  it("with skip-if-unknown-filter: true, skips the rule with a warning; the others load", () => {
    const set = load(HEADER + rule("typo", "proc.nmae = curl", "  skip-if-unknown-filter: true\n") + rule("fine", "proc.name = curl"))
    expect(set.rules.map((r) => [r.name, r.enabled, r.skipped, r.inactive])).toEqual([
      ["typo", false, true, "'proc.nmae' is not a Falco field (skip-if-unknown-filter)"],
      ["fine", true, undefined, undefined]
    ])
    expect(warnings(set)).toEqual(["rules.yaml:4:14: warning: rule 'typo' is skipped: 'proc.nmae' is not a Falco field (skip-if-unknown-filter)"])
    expect(matchNames(set, exec)).toEqual(["fine"])
  })

  it("in an output template of a Falco rule is an error too (Falco refuses the rule)", () => {
    const text = `${HEADER}- rule: r\n  desc: d\n  condition: proc.name = curl\n  output: "%proc.nmae ran"\n  priority: WARNING\n`
    expect(errors(text)).toEqual(["rules.yaml:2:3: error: the output of rule 'r' names '%proc.nmae', which is not a Falco field (did you mean 'proc.name'?)"])
  })

  it("in a macro no rule uses is not checked (as before)", () => {
    const set = load(`${HEADER}- macro: unused\n  condition: proc.nmae = curl\n${rule("r", "proc.name = curl")}`)
    expect(set.enabledRuleCount).toBe(1)
  })

  it("stays a literal with a warning in our dialect (Q5: the reference's shipped files keep their results)", () => {
    const set = load(rule("r", "proc.nmae != curl"))
    expect(matchNames(set, exec)).toEqual(["r"])
    expect(warnings(set)).toEqual(["rules.yaml:3:14: warning: 'proc.nmae' is not a known attribute; compared as a literal"])
  })
})

describe("a Falco field SysFlow data cannot answer", () => {
  it.each([
    ["user.loginuid = 0", "user.loginuid"],
    ["thread.cap_effective contains CAP_SYS_ADMIN", "thread.cap_effective"],
    ["evt.arg.flags contains O_TRUNC", "evt.arg.flags"],
    ["fd.sip.name = example.com", "fd.sip.name"],
    ["proc.env[HOME] = /root", "proc.env[HOME]"],
    ["container.mount.dest[/proc*] != N/A", "container.mount.dest[/proc*]"],
    ["k8s.deployment.name = prod", "k8s.deployment.name"]
  ])("%s: the rule loads, listed inactive with the field", (condition, field) => {
    const set = load(HEADER + rule("r", condition) + rule("fine", "proc.name = curl"))
    expect(set.rules.map((r) => [r.name, r.enabled, r.inactive])).toEqual([
      ["r", false, `it uses '${field}', which SysFlow data does not have`],
      ["fine", true, undefined]
    ])
    expect(matchNames(set, exec)).toEqual(["fine"])
  })

  it("with skip-if-unknown-filter: true stays inactive and listed (it is a field, just not SysFlow's)", () => {
    const set = load(HEADER + rule("r", "user.loginuid = 0", "  skip-if-unknown-filter: true\n"))
    expect(set.rules.map((r) => [r.enabled, r.skipped, r.inactive])).toEqual([[false, undefined, "it uses 'user.loginuid', which SysFlow data does not have"]])
  })

  it("in an output renders as <NA> with a warning", () => {
    const text = `${HEADER}- rule: r\n  desc: d\n  condition: proc.name = curl\n  output: "%proc.name by %user.loginuid"\n  priority: WARNING\n`
    const set = load(text)
    expect(warnings(set)).toEqual(["rules.yaml:2:3: warning: the output of rule 'r' names '%user.loginuid', which SysFlow data does not have: rendered as <NA>"])
    expect(set.rules[0].renderOutput?.(exec)).toBe("curl by <NA>")
  })
})
