/**
 * `sfprocessor -list` (Falco's `-L`, issue 12 item 5): the loaded rules with their state (active,
 * disabled, inactive and why, skipped and why), where each is defined, its priority and tags; nothing
 * runs. The table is RuleListing's; the end-to-end tests spawn the CLI on a temporary policy directory.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { compilePolicies } from "../../src/services/policy/PolicySet.js"
import { formatRuleListing, listingSummary, listRules } from "../../src/services/policy/RuleListing.js"
import { runCli, tempDir, writePipeline } from "../support/cli.js"

const FALCO_FILE = `- required_engine_version: 0.57.0
- rule: Shell in container
  desc: a shell in a container
  condition: proc.name in (bash, sh) and container.id != host
  output: "shell %proc.cmdline in %container.name"
  priority: WARNING
  tags: [container, shell]
- rule: Login user
  desc: needs the login uid
  condition: user.loginuid = 0
  output: "%proc.name"
  priority: NOTICE
- rule: Misspelt
  desc: a typo, skipped as Falco does
  condition: proc.nmae = curl
  output: "%proc.name"
  priority: ERROR
  skip-if-unknown-filter: true
- rule: Off
  desc: turned off
  condition: proc.name = curl
  output: "%proc.name"
  priority: INFO
  enabled: false
`

const policyDir = (): string => {
  const dir = tempDir()
  fs.mkdirSync(path.join(dir, "rules"))
  fs.writeFileSync(path.join(dir, "rules", "local.yaml"), FALCO_FILE)
  return dir
}

const pipelineOf = (policies: string) => ({
  pipeline: [
    { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
    { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode: "alert", policies },
    { processor: "exporter", in: "evt eventchan", export: "terminal", format: "json" }
  ]
})

describe("the rule listing", () => {
  it("gives each rule's state, reason, source, priority and tags, in rule order", () => {
    const set = compilePolicies([{ path: "local.yaml", text: FALCO_FILE }])
    if (Either.isLeft(set)) throw new Error(set.left.message)
    expect(listRules(set.right)).toEqual([
      { name: "Shell in container", state: "active", source: "local.yaml:2:3", priority: "medium", tags: ["container", "shell"] },
      { name: "Login user", state: "inactive", why: "it uses 'user.loginuid', which SysFlow data does not have", source: "local.yaml:8:3", priority: "low", tags: [] },
      { name: "Misspelt", state: "skipped", why: "'proc.nmae' is not a Falco field (skip-if-unknown-filter)", source: "local.yaml:13:3", priority: "high", tags: [] },
      { name: "Off", state: "disabled", source: "local.yaml:19:3", priority: "low", tags: [] }
    ])
    expect(listingSummary(listRules(set.right))).toBe("4 rules: 1 active, 1 disabled, 1 inactive, 1 skipped")
  })

  it("is a table with aligned columns and the reason last", () => {
    const text = formatRuleListing([
      { name: "a", state: "active", source: "f.yaml:1:3", priority: "high", tags: ["x", "y"] },
      { name: "longer name", state: "inactive", why: "because", source: "f.yaml:10:3", priority: "low", tags: [] }
    ])
    expect(text.split("\n")).toEqual([
      "STATE     PRIORITY  RULE         SOURCE       TAGS  WHY",
      "active    high      a            f.yaml:1:3   x,y",
      "inactive  low       longer name  f.yaml:10:3        because",
      "2 rules: 1 active, 1 inactive"
    ])
  })
})

describe("sfprocessor -list", () => {
  it("lists an active, an inactive, a skipped and a disabled rule of the configured policies, exit 0", async () => {
    const dir = policyDir()
    const config = writePipeline(dir, pipelineOf(path.join(dir, "rules")))
    const res = await runCli(["-list", "-log", "error", "-config", config])
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    const out = res.stdout.split("\n")
    const file = path.join(dir, "rules", "local.yaml")
    expect(out[0]).toBe(`pipeline[1] (policyengine): ${path.join(dir, "rules")} (falco)`)
    expect(out[1]).toMatch(/^STATE +PRIORITY +RULE +SOURCE +TAGS +WHY$/)
    expect(out.slice(2, 6).map((l) => l.split(/ {2,}/))).toEqual([
      ["active", "medium", "Shell in container", `${file}:2:3`, "container,shell"],
      ["inactive", "low", "Login user", `${file}:8:3`, "it uses 'user.loginuid', which SysFlow data does not have"],
      ["skipped", "high", "Misspelt", `${file}:13:3`, "'proc.nmae' is not a Falco field (skip-if-unknown-filter)"],
      ["disabled", "low", "Off", `${file}:19:3`]
    ])
    expect(out[6]).toBe("4 rules: 1 active, 1 disabled, 1 inactive, 1 skipped")
  })

  it("exits 1 with the error at its position when the policies do not load", async () => {
    const dir = policyDir()
    fs.writeFileSync(path.join(dir, "rules", "local.yaml"), FALCO_FILE.replace("skip-if-unknown-filter: true", "skip-if-unknown-filter: false"))
    const config = writePipeline(dir, pipelineOf(path.join(dir, "rules")))
    const res = await runCli(["-list", "-config", config])
    expect(res.code).toBe(1)
    expect(res.stdout).toBe("")
    expect(res.stderr).toContain(`local.yaml:15:14: error: rule 'Misspelt' uses 'proc.nmae', which is not a Falco field (did you mean 'proc.name'?)`)
  })

  it("exits 1 when the pipeline has no policy engine", async () => {
    const dir = tempDir()
    const config = writePipeline(dir, {
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        { processor: "exporter", in: "flat flattenerchan", export: "terminal", format: "json" }
      ]
    })
    const res = await runCli(["-list", "-config", config])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain("the pipeline has no policyengine: no rules to list")
  })
})
