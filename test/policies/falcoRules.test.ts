/**
 * Falco-style rules end to end (issue 12): our own rule file in Falco's syntax and fields
 * (test/policies/falco/falco_style_rules.yaml), over traces written with TraceWriter and read back as the
 * reader reads them. A shell in a container, a sensitive file read, an outbound connection and a symlink
 * over a sensitive file fire; their near misses do not.
 */
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import type { CompiledPolicySet } from "../../src/services/policy/PolicySet.js"
import { appContainer, containerShell, webShell } from "./ruleSpec.js"
import { alertsFor, expectNoAlert, load, projectRoot, Scene, warningsOf } from "./support.js"

const dir = path.join(projectRoot, "test", "policies", "falco")
let set: CompiledPolicySet

beforeAll(async () => {
  set = await load(dir)
})

const fired = (build: (s: Scene) => void, rule: string) => {
  const s = new Scene()
  build(s)
  return alertsFor(set, s.records(), rule)
}

describe("Falco-style rules over SysFlow traces", () => {
  it("load; the rule needing fields SysFlow lacks is listed inactive with the fields named", () => {
    expect(set.rules.map((r) => [r.name, r.enabled])).toEqual([
      ["Terminal shell in container", true],
      ["Read sensitive file untrusted", true],
      ["Outbound connection to C2 port", true],
      ["Create Symlink Over Sensitive Files", true],
      ["Outbound with Falco's own macro", false]
    ])
    expect(set.rules[4].inactive).toBe("it uses 'fd.connected', 'fd.name_changed', which SysFlow data does not have")
    expect(warningsOf(set).filter((w) => w.includes("inactive"))).toHaveLength(1)
  })

  it("a terminal shell in a container fires, with Falco's output rendered", () => {
    const alerts = fired((s) => void containerShell(s), "Terminal shell in container")
    expect(alerts).toHaveLength(1)
    expect(alerts[0].rule.renderOutput?.(alerts[0].record)).toBe(
      "A shell was spawned in a container with an attached terminal (user=root container=app image=registry.local/shop/app:2.4.1 shell=sh parent=containerd-shim-runc-v2 cmdline=/bin/sh terminal=1)"
    )
  })

  it("a shell without a terminal in a container, or a terminal shell on the host, does not", () => {
    expect(fired((s) => void s.execInto(appContainer(s), { exe: "/bin/sh", tty: false }), "Terminal shell in container")).toEqual([])
    expect(fired((s) => void s.loginShell(), "Terminal shell in container")).toEqual([])
  })

  it("reading /etc/shadow fires; reading /etc/hosts, or sshd reading /etc/shadow (an exception), does not", () => {
    expect(fired((s) => s.read(webShell(s, "-c cat /etc/shadow"), "/etc/shadow"), "Read sensitive file untrusted")).toHaveLength(1)
    expect(fired((s) => s.read(webShell(s), "/etc/hosts"), "Read sensitive file untrusted")).toEqual([])
    expect(fired((s) => s.read(s.sshd, "/etc/shadow"), "Read sensitive file untrusted")).toEqual([])
  })

  it("a connection to port 4444 fires with client and server rendered; one to 443 does not", () => {
    const alerts = fired((s) => s.connect(webShell(s, "-c nc 203.0.113.7 4444"), "203.0.113.7", 4444), "Outbound connection to C2 port")
    expect(alerts.map((a) => a.rule.renderOutput?.(a.record))).toEqual([
      expect.stringMatching(/^Outbound connection to a C2 port \(connection=10\.244\.0\.12:43210->203\.0\.113\.7:4444 command=\/bin\/sh -c nc 203\.0\.113\.7 4444 container=\w+\)$/)
    ])
    expect(fired((s) => s.connect(webShell(s), "203.0.113.7", 443), "Outbound connection to C2 port")).toEqual([])
  })

  it("a symlink over /etc/shadow fires; a symlink to a temporary file does not", () => {
    expect(fired((s) => s.symlink(webShell(s), "/etc/shadow", "/tmp/s"), "Create Symlink Over Sensitive Files")).toHaveLength(1)
    const s = new Scene()
    s.symlink(webShell(s), "/tmp/x", "/tmp/s")
    expectNoAlert(set, s.records(), "Create Symlink Over Sensitive Files")
  })
})
