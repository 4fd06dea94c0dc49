/**
 * Falco `output` templates (issue 12, item 4), from Falco's documentation of rule outputs: `%field`,
 * `%(field)`, `%%`, and `<NA>` for a field without a value.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import { compileOutput } from "../../src/services/policy/OutputTemplate.js"
import { encodeJsonEvent } from "../../src/services/export/encoders/JsonEncoder.js"
import { compilePolicies } from "../../src/services/policy/PolicySet.js"
import { bash, ff, file, nf, pe, proc } from "./fixtures.js"

const curl = proc({ exe: "/usr/bin/curl", exeArgs: "-s http://x", parent: bash, userName: "root" })
const run = pe({ process: curl, ptree: [curl, bash] })

describe("output templates", () => {
  it.each([
    ["Shell (user=%user.name cmd=%proc.cmdline parent=%proc.pname)", "Shell (user=root cmd=/usr/bin/curl -s http://x parent=bash)"],
    ["%(proc.name)ran", "curlran"],
    ["100%% sure: %proc.name", "100% sure: curl"],
    ["pid=%proc.pid tty=%proc.tty", "pid=100 tty=false"],
    ["%fd.name", "<NA>"], // no file on an exec
    ["%k8s.ns.name / %proc.nmae", "<NA> / <NA>"],
    ["a % b, %. and %(proc.name", "a % b, %. and %(proc.name"],
    ["ancestors %proc.aname", "ancestors curl,bash"]
  ])("%s → %s", (template, want) => expect(compileOutput(template).render(run)).toBe(want))

  it("renders files and connections", () => {
    expect(compileOutput("%fd.name by %proc.name").render(ff({ file: file("/etc/shadow") }))).toBe("/etc/shadow by python")
    expect(compileOutput("%fd.sip:%fd.sport -> %fd.dip:%fd.dport").render(nf({}, 4444))).toBe("172.17.0.2:40000 -> 10.1.2.3:4444")
  })

  it("lists the fields SysFlow data does not have", () => {
    expect(compileOutput("%k8s.ns.name %proc.name %k8s.ns.name %evt.num").unknownFields).toEqual(["k8s.ns.name", "evt.num"])
  })

  it("compiled rules carry their output and render it; a Falco rule's unknown output fields are noticed", () => {
    const text = "- required_engine_version: 0.57.0\n- rule: r\n  desc: d\n  condition: proc.name = curl\n  output: \"%proc.name in %k8s.deployment.name\"\n  priority: NOTICE\n"
    const r = compilePolicies([{ path: "f.yaml", text }])
    if (Either.isLeft(r)) throw new Error(r.left.message)
    const rule = r.right.rules[0]
    expect(rule.output).toBe("%proc.name in %k8s.deployment.name")
    expect(rule.renderOutput?.(run)).toBe("curl in <NA>")
    expect(r.right.warnings.map(renderDiagnostic)).toEqual([
      "f.yaml:2:3: warning: the output of rule 'r' names '%k8s.deployment.name', which SysFlow data does not have: rendered as <NA>"
    ])
  })
})

describe("output in JSON alerts", () => {
  it("policies[].output carries the rendered text, after priority; rules without output have none", () => {
    const text =
      "- rule: with output\n  desc: d\n  condition: sf.proc.name = curl\n  output: \"%proc.name ran %proc.cmdline (%fd.name)\"\n  priority: high\n" +
      "- rule: without\n  desc: d\n  condition: sf.proc.name = curl\n"
    const r = compilePolicies([{ path: "f.yaml", text }])
    if (Either.isLeft(r)) throw new Error(r.left.message)
    const line = encodeJsonEvent({ record: run, rules: r.right.rules, tags: [] }, "5")
    const policies = (JSON.parse(line) as { policies: Array<Record<string, unknown>> }).policies
    expect(policies).toEqual([
      { id: "with output", desc: "d", priority: 3, output: "curl ran /usr/bin/curl -s http://x (<NA>)" },
      { id: "without", desc: "d", priority: 1 }
    ])
  })
})
