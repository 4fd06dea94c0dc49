/**
 * The reference's shipped Sigma rules and sysflow.yml (../shared/conformance/policies/sigma, never
 * copied) on the shared traces (../shared/traces), in sfprocessor's default mode and in the reference's
 * mode (`logsource: ignore`), and the differences this project makes on purpose:
 *
 * - logsources (decisions.md §9, S1): the reference applied every rule to every record type, so a
 *   process_creation rule also fired on every file and network flow (and on CLONE/EXIT events) of a
 *   matching process. sfprocessor restricts process_creation to EXEC events; `logsource: ignore` in the
 *   config restores the reference's result exactly.
 * - S2: the maps of a list-of-maps search are ORed (the reference ANDed them).
 * - S3: modifiers the reference crashed on (`base64offset` spelled `base64Offset`, `cidr`) are compile
 *   errors of the rule, or implemented.
 * - fields SysFlow cannot provide (LogonId in the two OMIGOD rules) are compile errors of the rule; the
 *   reference compared the literal text "LogonId" with the value, so those rules could never fire.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { readSigmaConfig, type SigmaConfig } from "../../src/services/policy/sigma/SigmaConfig.js"
import { compileSigmaSources, type SigmaLoad } from "../../src/services/policy/sigma/SigmaLoader.js"
import { img, projectRoot, readTrace, Scene } from "../policies/support.js"
import { compile, diagnosticsOf, fired, ruleYaml } from "./support.js"
import { yamlFilesUnder } from "../support/shared.js"

const shipped = path.resolve(projectRoot, "..", "shared", "conformance", "policies", "sigma")
const traces = path.resolve(projectRoot, "..", "shared", "traces")
const present = fs.existsSync(shipped) && fs.existsSync(traces)
if (!present) console.warn(`[skip] ${shipped} or ${traces} is absent: the Sigma conformance tests are skipped`)


const shippedConfig = (extra = ""): SigmaConfig => {
  const file = path.join(shipped, "config", "sysflow.yml")
  const r = readSigmaConfig(file, fs.readFileSync(file, "utf8") + extra)
  if ("errors" in r) throw new Error("sysflow.yml does not load")
  return r.config
}

const loadShipped = (cfg: SigmaConfig): SigmaLoad =>
  compileSigmaSources(
    yamlFilesUnder(path.join(shipped, "rules")).map((p) => ({ path: p, text: fs.readFileSync(p, "utf8") })),
    cfg
  )

/** `title TYPE` → count, over a whole trace. */
const counts = (set: SigmaLoad, records: ReadonlyArray<FlatRecord>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const r of records) for (const t of fired(set, r)) out[`${t} ${r.type}`] = (out[`${t} ${r.type}`] ?? 0) + 1
  return out
}

describe.skipIf(!present)("the reference's shipped Sigma rules", () => {
  const sfprocessor = present ? loadShipped(shippedConfig()) : undefined!
  const reference = present ? loadShipped(shippedConfig("\nlogsource: ignore\n")) : undefined!

  it("49 of the 51 rules load; the two OMIGOD rules need LogonId, which SysFlow does not record", () => {
    expect(sfprocessor.files).toHaveLength(51)
    expect(sfprocessor.rules).toHaveLength(49)
    expect(sfprocessor.skippedFiles).toBe(0)
    expect(diagnosticsOf(sfprocessor).map((d) => d.replace(/^.*\/process_creation\//, ""))).toEqual([
      "proc_creation_lnx_omigod_scx_runasprovider_executescript.yml:29:9: error: rule 'OMIGOD SCX RunAsProvider ExecuteScript' (6eea1bf6-f8d2-488a-a742-e6ef6c1b67db) not loaded: field 'LogonId' has no SysFlow equivalent (SysFlow records no login session (audit login uid))",
      "proc_creation_lnx_omigod_scx_runasprovider_executeshellcommand.yml:27:9: error: rule 'OMIGOD SCX RunAsProvider ExecuteShellCommand' (21541900-27a9-4454-9c4c-3f0a4240344a) not loaded: field 'LogonId' has no SysFlow equivalent (SysFlow records no login session (audit login uid))"
    ])
    expect(new Set(sfprocessor.rules.map((r) => r.sigma.scope))).toEqual(new Set(["process events with EXEC"]))
  })

  // Alerts per trace: sfprocessor (EXEC events only) and the reference's mode (every record of the process).
  const expected: Record<string, { sfprocessor: Record<string, number>; reference: Record<string, number> }> = {
    "1621959914": {
      sfprocessor: { "System Network Discovery - Linux PE": 1 },
      reference: { "System Network Discovery - Linux FF": 9, "System Network Discovery - Linux PE": 2 }
    },
    "httpd.sf": { sfprocessor: {}, reference: {} },
    "k8s_small.sf": {
      sfprocessor: { "Linux Webshell Indicators PE": 3, "System Network Discovery - Linux PE": 43 },
      reference: {
        "Linux Webshell Indicators FF": 20,
        "Linux Webshell Indicators PE": 18,
        "System Network Discovery - Linux FF": 364,
        "System Network Discovery - Linux NF": 70,
        "System Network Discovery - Linux PE": 86
      }
    },
    "shellshock.sf": {
      sfprocessor: { "Linux Webshell Indicators PE": 2, "Local System Accounts Discovery PE": 1 },
      reference: {
        "Linux Webshell Indicators FF": 21,
        "Linux Webshell Indicators PE": 3,
        "Local System Accounts Discovery FF": 5,
        "Local System Accounts Discovery PE": 2
      }
    },
    "tcp.sf": { sfprocessor: {}, reference: {} }
  }

  it.each(Object.keys(expected))("%s: alerts by logsource (EXEC events) and in the reference's mode (logsource: ignore)", async (trace) => {
    const records = await readTrace(path.join(traces, trace))
    const got = { sfprocessor: counts(sfprocessor, records), reference: counts(reference, records) }
    expect(got).toEqual(expected[trace])
    // Every sfprocessor alert is also a reference alert: the logsource only removes records.
    for (const r of records) for (const t of fired(sfprocessor, r)) expect(fired(reference, r)).toContain(t)
  })

  it("S2: a list of maps is ORed (base64 piped into a shell without a trailing space: the reference's AND missed it)", () => {
    const s = new Scene()
    s.spawn(s.loginShell(), img.run("/bin/sh", "-c echo aWQK | base64 -w0 | bash"))
    const exec = s.records().filter((r) => r.type === "PE" && r.process?.exe === "/bin/sh")
    const titles = exec.flatMap((r) => fired(sfprocessor, r))
    expect(titles).toContain("Linux Base64 Encoded Pipe to Shell")
  })
})

describe("S3: what crashed the reference is a rule compile error or works", () => {
  const rule = (detection: string) => compile({ "r.yml": ruleYaml({ title: "t", detection }) })

  it("base64Offset (wrong case) is an unknown modifier, named, with its position; the other rules load", () => {
    const load = compile({
      "a.yml": ruleYaml({ title: "bad", detection: "s:\n    CommandLine|base64Offset|contains: x\ncondition: s" }),
      "b.yml": ruleYaml({ title: "good", detection: "s:\n    Image: /bin/sh\ncondition: s" })
    })
    expect(load.rules.map((r) => r.sigma.title)).toEqual(["good"])
    expect(diagnosticsOf(load)).toEqual([
      "a.yml:15:9: error: rule 'bad' (00000000-0000-4000-8000-000000000000) not loaded: CommandLine|base64Offset|contains: unknown modifier 'base64Offset' (known: contains, startswith, endswith, all, cased, neq, windash, expand, base64, base64offset, utf16le, utf16be, utf16, wide, re, cidr, lt, lte, gt, gte, exists, fieldref, i, m, s)"
    ])
  })

  it("cidr and base64offset work; a bad regular expression names the rule and the value's position", () => {
    expect(rule("s:\n    DestinationIp|cidr: 10.0.0.0/8\ncondition: s").rules).toHaveLength(1)
    expect(rule("s:\n    CommandLine|base64offset|contains: x\ncondition: s").rules).toHaveLength(1)
    expect(diagnosticsOf(rule("s:\n    CommandLine|re: 'a(b'\ncondition: s"))[0]).toMatch(
      /^r\.yml:15:25: error: rule 't' .* not loaded: CommandLine\|re: invalid regular expression: /
    )
  })
})

/**
 * SigmaHQ's rules (set SIGMA_RULES to a checkout's `rules/linux`, or any rules directory; never copied
 * into the project): every file is read, every condition parses, and every rule either loads or is
 * reported with the field, modifier or logsource SysFlow cannot support.
 */
const sigmaHq = process.env.SIGMA_RULES
describe.skipIf(sigmaHq === undefined)("SigmaHQ rules (SIGMA_RULES)", () => {
  it("every rule loads or is reported with a per-rule diagnostic", () => {
    const files = yamlFilesUnder(sigmaHq!)
    const load = compileSigmaSources(files.map((p) => ({ path: p, text: fs.readFileSync(p, "utf8") })))
    expect(load.skippedFiles).toBe(0)
    const reasons = diagnosticsOf(load).map((d) => d.replace(/^.*? not loaded: /, ""))
    expect(reasons.filter((r) => r.startsWith("condition:"))).toEqual([])
    expect(reasons.every((r) => /^(field '|logsource |[A-Za-z]+\|.*: (modifier|placeholder)|keywords: )/.test(r))).toBe(true)
    expect(load.rules.length + load.failed + load.notApplicable).toBeGreaterThanOrEqual(files.length)
  })
})
