/**
 * Falco's rule-file format (issue 12, item 1), from Falco's documentation of rules, exceptions and
 * overriding: `required_engine_version`, `required_plugin_versions`, `source`, `exceptions`, `append`,
 * `override`, the enabled-only form, redefinition; files of both dialects loading together.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import { type CompiledPolicySet, compilePolicies } from "../../src/services/policy/PolicySet.js"
import { bash, ff, file, matchNames, pe, proc } from "./fixtures.js"

const load = (...texts: ReadonlyArray<string>): CompiledPolicySet => {
  const r = compilePolicies(texts.map((text, i) => ({ path: `f${i}.yaml`, text })))
  if (Either.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

const loadErrors = (...texts: ReadonlyArray<string>): ReadonlyArray<string> => {
  const r = compilePolicies(texts.map((text, i) => ({ path: `f${i}.yaml`, text })))
  if (Either.isRight(r)) throw new Error("expected a failed load")
  return r.left.diagnostics.filter((d) => d.severity === "error").map(renderDiagnostic)
}

const warnings = (set: CompiledPolicySet): ReadonlyArray<string> => set.warnings.map(renderDiagnostic)

const HEADER = "- required_engine_version: 0.57.0\n"
const rule = (name: string, condition: string, extra = "") =>
  `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  output: "%proc.name ran"\n  priority: WARNING\n${extra}`

const curl = proc({ exe: "/usr/bin/curl", exeArgs: "http://x", parent: bash })
const wget = proc({ exe: "/usr/bin/wget", exeArgs: "http://x", parent: bash })
/** An exec of `p` whose parent is `parent`. */
const under = (p: ReturnType<typeof proc>, parent = bash) => pe({ process: p, ptree: [p, parent] })

describe("Falco file header items", () => {
  it("accepts required_engine_version and required_plugin_versions; container is provided, others noticed", () => {
    const set = load(
      `${HEADER}- required_plugin_versions:\n    - name: container\n      version: 0.4.0\n    - name: k8saudit\n      version: 0.7.0\n      alternatives:\n        - name: k8saudit-eks\n          version: 0.4.0\n${rule("r", "proc.name = curl")}`
    )
    expect(set.ruleCount).toBe(1)
    expect(warnings(set)).toEqual([
      "f0.yaml:5:7: warning: plugin 'k8saudit' is not available with SysFlow data: rules that need its event source or its fields stay inactive"
    ])
  })

  it("rejects a malformed required_plugin_versions with its position", () => {
    expect(loadErrors("- required_plugin_versions:\n    - version: 1.0.0\n")).toEqual([
      "f0.yaml:2:7: error: a 'required_plugin_versions' entry needs a 'name'"
    ])
  })
})

describe("source", () => {
  it("keeps syscall rules; a rule of another source is listed, inactive, with a notice", () => {
    const set = load(HEADER + rule("sys", "proc.name = curl", "  source: syscall\n") + rule("audit", "ka.verb = create", "  source: k8s_audit\n"))
    expect(set.rules.map((r) => [r.name, r.enabled, r.inactive])).toEqual([
      ["sys", true, undefined],
      ["audit", false, "its source is 'k8s_audit'; only 'syscall' rules apply to SysFlow data"]
    ])
    expect(warnings(set)).toContain("f0.yaml:8:3: warning: rule 'audit' is inactive: its source is 'k8s_audit'; only 'syscall' rules apply to SysFlow data")
    expect(matchNames(set, under(curl))).toEqual(["sys"])
  })
})

describe("exceptions", () => {
  const text = `${HEADER}${rule(
    "shell net tools",
    "proc.pname = bash",
    `  exceptions:
    - name: known_tools
      fields: [proc.name, proc.args]
      comps: [=, startswith]
      values:
        - [curl, "http://x"]
        - [curl, "https://y"]
    - name: by_name
      fields: proc.name
      comps: in
      values: [nc]
    - name: no_values
      fields: [proc.name]
`
  )}`

  it("compile into 'and not (…)' as Falco builds them: tuples (field comp value and …), single-field lists", () => {
    const set = load(text)
    expect(matchNames(set, under(curl))).toEqual([]) // (curl, startswith http://x)
    expect(matchNames(set, under(wget))).toEqual(["shell net tools"])
    expect(matchNames(set, under(proc({ exe: "/usr/bin/curl", exeArgs: "ftp://z" })))).toEqual(["shell net tools"])
    expect(matchNames(set, under(proc({ exe: "/bin/nc" })))).toEqual([])
  })

  it("values may be quoted with quotes and backslashes inside, and name lists for 'in'", () => {
    const set = load(
      `${HEADER}- list: ok_args\n  items: ['-c x']\n${rule(
        "r",
        "proc.pname = bash",
        `  exceptions:
    - name: args
      fields: [proc.args]
      comps: [in]
      values:
        - [ok_args]
    - name: quoted
      fields: [proc.args]
      values:
        - ['say "hi" \\ bye']
`
      )}`
    )
    expect(matchNames(set, under(proc({ exeArgs: "-c x" })))).toEqual([])
    expect(matchNames(set, under(proc({ exeArgs: 'say "hi" \\ bye' })))).toEqual([])
    expect(matchNames(set, under(proc({ exeArgs: "other" })))).toEqual(["r"])
  })

  it("a tuple with the wrong number of values is an error at the exception", () => {
    expect(loadErrors(`${HEADER}${rule("r", "proc.pname = bash", "  exceptions:\n    - name: e\n      fields: [proc.name, proc.args]\n      values:\n        - [curl]\n")}`)).toEqual([
      "f0.yaml:8:7: error: exception 'e': each value must be a sequence of 2 values (one per field)"
    ])
  })
})

describe("append and override, across files in load order", () => {
  const base = `${HEADER}- list: tools\n  items: [curl]\n- macro: from_shell\n  condition: proc.pname = bash\n${rule("net tool", "from_shell and proc.name in (tools)", "  tags: [network]\n")}`

  it("append: true on a list in a later file changes the rules of the earlier file", () => {
    const set = load(base, "- list: tools\n  items: [wget]\n  append: true\n")
    expect(matchNames(set, under(wget))).toEqual(["net tool"])
    expect(matchNames(set, under(curl))).toEqual(["net tool"])
  })

  it("override: replace on a list, and append on a macro's condition", () => {
    const set = load(
      base,
      "- list: tools\n  items: [wget]\n  override:\n    items: replace\n- macro: from_shell\n  condition: or proc.pname = sshd\n  override:\n    condition: append\n"
    )
    expect(matchNames(set, under(curl))).toEqual([])
    expect(matchNames(set, under(wget))).toEqual(["net tool"])
    const sshd = proc({ exe: "/usr/sbin/sshd", pid: 7n })
    expect(matchNames(set, under(wget, sshd))).toEqual(["net tool"])
  })

  it("override on a rule: condition append, priority and output replace, tags append; the rule keeps its place", () => {
    const set = load(
      base + rule("other", "proc.name = wget"),
      "- rule: net tool\n  condition: and proc.args contains x\n  priority: CRITICAL\n  output: replaced %proc.name\n  tags: [mitre]\n  override:\n    condition: append\n    priority: replace\n    output: replace\n    tags: append\n"
    )
    const r = set.rules[0]
    expect([r.name, r.priority, r.output, r.tags]).toEqual(["net tool", 3, "replaced %proc.name", ["network", "mitre"]])
    expect(matchNames(set, under(curl))).toEqual(["net tool"])
    expect(matchNames(set, under(proc({ exe: "/usr/bin/curl", exeArgs: "y" })))).toEqual([])
  })

  it("append: true on a rule appends to its condition and exceptions", () => {
    const set = load(
      base,
      "- rule: net tool\n  condition: and not proc.args contains secret\n  exceptions:\n    - name: quiet\n      fields: [proc.args]\n      values:\n        - [quiet]\n  append: true\n"
    )
    expect(matchNames(set, under(curl))).toEqual(["net tool"])
    expect(matchNames(set, under(proc({ exe: "/usr/bin/curl", exeArgs: "secret" })))).toEqual([])
    expect(matchNames(set, under(proc({ exe: "/usr/bin/curl", exeArgs: "quiet" })))).toEqual([])
  })

  it("a rule item with only 'enabled' turns an earlier rule on or off (Falco's short form)", () => {
    const set = load(base, "- rule: net tool\n  enabled: false\n")
    expect(set.rules.map((r) => [r.name, r.enabled])).toEqual([["net tool", false]])
    expect(matchNames(set, under(curl))).toEqual([])
  })

  it("appending to something not defined before is an error, as in Falco", () => {
    expect(loadErrors("- list: nope\n  items: [a]\n  append: true\n", base)).toEqual([
      "f0.yaml:1:3: error: list 'nope' has 'append' but no list by that name is defined before it"
    ])
    expect(loadErrors(base, "- rule: ghost\n  condition: and x = y\n  override:\n    condition: append\n")).toEqual([
      "f1.yaml:1:3: error: rule 'ghost' has 'override' but no rule by that name is defined before it"
    ])
  })

  it("an appended condition fragment that does not parse is an error inside the fragment", () => {
    expect(loadErrors(base, "- macro: from_shell\n  condition: or (proc.name =\n  append: true\n")).toEqual([
      "f1.yaml:2:29: error: expected a value after '=', found end of condition"
    ])
  })

  it("override keys must be defined, and defined keys named", () => {
    expect(loadErrors(base, "- rule: net tool\n  priority: INFO\n  override:\n    output: replace\n")).toEqual([
      "f1.yaml:4:13: error: override names 'output', which this rule item does not define"
    ])
    expect(loadErrors(base, "- list: tools\n  items: [a]\n  override:\n    items: merge\n")).toEqual([
      "f1.yaml:4:12: error: override of 'items' must be append or replace, found 'merge'"
    ])
  })
})

describe("redefinition", () => {
  it("in a Falco file, a rule defined again replaces the first (its place kept), with a warning", () => {
    const set = load(HEADER + rule("r", "proc.name = curl") + rule("s", "proc.name = curl"), HEADER + rule("r", "proc.name = wget"))
    expect(set.rules.map((r) => r.name)).toEqual(["r", "s"])
    expect(matchNames(set, under(wget))).toEqual(["r"])
    expect(matchNames(set, under(curl))).toEqual(["s"])
    expect(warnings(set)).toEqual([
      "f1.yaml:2:3: warning: rule 'r' is defined again (first at f0.yaml:2:3): as in Falco, this definition replaces it (keeping its place in rule order)"
    ])
  })

  it("in a Falco file, a list or macro defined again applies everywhere, earlier Falco files included", () => {
    const set = load(`${HEADER}- list: l\n  items: [curl]\n${rule("r", "proc.name in (l)")}`, `${HEADER}- list: l\n  items: [wget]\n`)
    expect(matchNames(set, under(wget))).toEqual(["r"])
    expect(matchNames(set, under(curl))).toEqual([])
  })

  it("a Falco file's redefinition leaves the definitions of our dialect's files to their rules", () => {
    const set = load(`- list: l\n  items: [curl]\n${rule("ours", "proc.name in (l)")}`, `${HEADER}- list: l\n  items: [wget]\n${rule("falco", "proc.name in (l)")}`)
    expect(matchNames(set, under(curl))).toEqual(["ours"])
    expect(matchNames(set, under(wget))).toEqual(["falco"])
    expect(warnings(set)).toContain(
      "f1.yaml:2:3: warning: list 'l' is defined again (first at f0.yaml:1:3): as in Falco, this definition replaces it in Falco files (our dialect's files keep theirs)"
    )
  })

  it("in our dialect, both rules of one name stay and fire (Q23)", () => {
    const set = load(rule("r", "proc.name = curl") + rule("r", "proc.name = curl"))
    expect(matchNames(set, under(curl))).toEqual(["r", "r"])
  })
})

describe("both dialects in one set", () => {
  it("a SysFlow-dialect file and a Falco file load together", () => {
    const set = load(
      "- rule: sysflow\n  desc: d\n  condition: sf.type = FF and sf.file.path startswith /etc\n  priority: high\n  prefilter: [FF]\n",
      `${HEADER}${rule("falco", "fd.name startswith /etc")}`
    )
    expect(matchNames(set, ff({ file: file("/etc/shadow") }))).toEqual(["sysflow", "falco"])
  })
})

describe("fields SysFlow data does not have (Falco dialect)", () => {
  const text = `${HEADER}- macro: in_ns\n  condition: k8s.deployment.name = prod\n${rule("uses macro", "proc.name = curl and in_ns")}${rule("uses macro too", "in_ns or proc.name = wget")}${rule(
    "lacking",
    "user.loginname = curl"
  )}${rule("fine", "proc.name = curl")}`

  it("make the rule inactive, with a warning naming the field at its position (also through a macro used twice)", () => {
    const set = load(text)
    expect(set.rules.map((r) => [r.name, r.enabled, r.inactive])).toEqual([
      ["uses macro", false, "it uses 'k8s.deployment.name', which SysFlow data does not have"],
      ["uses macro too", false, "it uses 'k8s.deployment.name', which SysFlow data does not have"],
      ["lacking", false, "it uses 'user.loginname', which SysFlow data does not have"],
      ["fine", true, undefined]
    ])
    expect(warnings(set)).toEqual([
      "f0.yaml:3:14: warning: rule 'uses macro' is inactive: it uses 'k8s.deployment.name', which SysFlow data does not have",
      "f0.yaml:3:14: warning: rule 'uses macro too' is inactive: it uses 'k8s.deployment.name', which SysFlow data does not have",
      "f0.yaml:16:14: warning: rule 'lacking' is inactive: it uses 'user.loginname', which SysFlow data does not have"
    ])
    expect(matchNames(set, under(curl))).toEqual(["fine"])
  })

  it("are never compared as their own name: '!=' on a field SysFlow lacks does not fire on everything", () => {
    const set = load(HEADER + rule("ne", "user.loginname != curl"))
    expect(matchNames(set, under(curl))).toEqual([])
    expect(set.enabledRuleCount).toBe(0)
  })

  it("a right-hand bare word is a value in a Falco file (fields need val()); our dialect compares the field", () => {
    const self = proc({ exe: "/usr/bin/proc.name", parent: bash })
    expect(matchNames(load(HEADER + rule("r", "proc.name = proc.name")), under(self))).toEqual(["r"])
    expect(matchNames(load(HEADER + rule("r", "proc.name = val(proc.name)")), under(curl))).toEqual(["r"])
    expect(matchNames(load(rule("r", "proc.name = proc.name")), under(curl))).toEqual(["r"])
  })

  it("in our dialect an unknown field stays a literal with a warning (Q5, the reference's golden results)", () => {
    const set = load(rule("r", "proc.nmae != curl"))
    expect(matchNames(set, under(curl))).toEqual(["r"])
    expect(warnings(set)).toEqual(["f0.yaml:3:14: warning: 'proc.nmae' is not a known attribute; compared as a literal"])
  })
})

describe("priorities", () => {
  it("alert is high in a Falco file, low with a warning in ours (Q14)", () => {
    expect(load(`${HEADER}- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: ALERT\n`).rules[0].priority).toBe(3)
    const ours = load("- rule: r\n  desc: d\n  condition: sf.proc.name = x\n  priority: alert\n")
    expect([ours.rules[0].priority, warnings(ours)]).toEqual([1, ["f0.yaml:4:13: warning: Unrecognized priority value 'alert' (using low)"]])
  })
})
