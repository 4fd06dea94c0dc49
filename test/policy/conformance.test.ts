/**
 * The reference's shipped Falco-dialect policy files (policy-language.md §2, §9): every one loads (six
 * of them through the legacy fallback, Y10), and the unit-test rules fire as §9 says on the three
 * records of a python process in container `node-app` (exec, file write, connect).
 *
 * The files are read from ../shared/conformance/policies (never copied into the project); without it the
 * suite is skipped with a note.
 */
import { Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import { compilePolicies, type CompiledPolicySet, evaluate } from "../../src/services/policy/PolicySet.js"
import { bash, ff, matchNames, nf, pe, proc } from "./fixtures.js"
import { yamlFilesUnder } from "../support/shared.js"

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const policiesDir = path.resolve(projectRoot, "..", "shared", "conformance", "policies")
const present = fs.existsSync(policiesDir)
if (!present) console.warn(`[skip] ${policiesDir} is absent: the shipped-policy conformance tests are skipped`)


const load = (...rel: Array<string>): CompiledPolicySet => {
  const files = rel.flatMap((r) => {
    const p = path.join(policiesDir, r)
    return fs.statSync(p).isDirectory() ? yamlFilesUnder(p) : [p]
  })
  const r = compilePolicies(files.map((f) => ({ path: f, text: fs.readFileSync(f, "utf8") })))
  if (Either.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

const legacyFiles = (set: CompiledPolicySet): Array<string> =>
  Array.from(new Set(set.warnings.filter((w) => w.message.includes("legacy mode")).map((w) => path.relative(policiesDir, w.file))))

describe.skipIf(!present)("shipped Falco-dialect policies load (§2)", () => {
  it.each([
    // group, rules, filters, macros, lists, rules with a prefilter
    ["runtimeintegrity", 79, 1, 115, 157, 60],
    ["distribution/filter.yaml", 21, 1, 84, 42, 21],
    ["tests", 84, 0, 302, 115, 0]
  ])("%s: %i rules, %i filters, %i macros, %i lists, %i prefiltered", (group, rules, filters, macros, lists, prefiltered) => {
    const set = load(group)
    console.info(
      `${group}: ${set.files.length} files, ${set.ruleCount} rules, ${set.filterCount} filters, ${set.macroCount} macros, ` +
        `${set.listCount} lists, ${set.prefilterCount} prefiltered, ${set.warnings.length} warnings`
    )
    expect([set.ruleCount, set.filterCount, set.macroCount, set.listCount, set.prefilterCount]).toEqual([
      rules,
      filters,
      macros,
      lists,
      prefiltered
    ])
  })

  it("needs the legacy fallback for exactly the six non-YAML files (Y10)", () => {
    expect([...legacyFiles(load("runtimeintegrity")), ...legacyFiles(load("tests")), ...legacyFiles(load("distribution"))]).toEqual([
      "runtimeintegrity/runtimeintegrity.yaml",
      "runtimeintegrity/ttps.yaml",
      "tests/unit_test_fileflow.yaml",
      "tests/unit_test_logic.yaml",
      "tests/unit_test_networkflow.yaml",
      "tests/unit_test_simple.yaml"
    ])
  })

  it("loads every file on its own too", () => {
    for (const f of [...yamlFilesUnder(path.join(policiesDir, "runtimeintegrity")), ...yamlFilesUnder(path.join(policiesDir, "tests")), path.join(policiesDir, "distribution/filter.yaml")]) {
      expect(() => load(path.relative(policiesDir, f)), f).not.toThrow()
    }
  })

  it("reads the nine ttps.yaml rule names containing ': ' (L4)", () => {
    const names = load("runtimeintegrity/ttps.yaml").rules.map((r) => r.name).filter((n) => n.includes(": "))
    expect(names).toEqual([
      "Account Discovery: Local Account",
      "Permission Groups Discovery: Local Groups",
      "Active Scanning: Scanning IP Blocks",
      "Input Capture: Keylogging",
      "Account Manipulation: SSH Authorized Keys",
      "Unsecured Credentials: Bash History",
      "Indicator Removal on Host: Clear Linux or Mac System Logs",
      "Scheduled Task/Job: Cron",
      "Impair Defenses: Disable or Modify System Firewall"
    ])
  })

  it("warns about the Falco fields tests/falco.yaml uses but SysFlow does not map (§5.4)", () => {
    const warnings = load("tests/falco.yaml").warnings.map(renderDiagnostic)
    expect(warnings.some((w) => w.endsWith("warning: 'container.image.repository' is not a known attribute; compared as a literal"))).toBe(true)
    expect(warnings.every((w) => w.includes("tests/falco.yaml:"))).toBe(true)
  })
})

describe.skipIf(!present)("issue 10 warnings on the shipped policies: each one a real mistake in them", () => {
  const rel = (w: string) => w.replaceAll(`${policiesDir}/`, "")
  const about = (set: CompiledPolicySet, pattern: RegExp) =>
    set.warnings.map(renderDiagnostic).filter((w) => pattern.test(w)).map(rel)

  it("names in in (...) that are no list: undefined, misspelt, macros", () => {
    expect(about(load("runtimeintegrity"), /no list named/).map((w) => w.replace(/; compared as a literal.*/, ""))).toEqual([
      "runtimeintegrity/runtimeintegrity.yaml:502:66: warning: no list named 'pkg_mgmt_binaries'",
      "runtimeintegrity/runtimeintegrity.yaml:707:30: warning: no list named 'dev_creation_binaries'",
      "runtimeintegrity/runtimeintegrity.yaml:260:27: warning: no list named 'passwd_binaries'",
      "runtimeintegrity/ttps.yaml:252:27: warning: no list named 'passwd_binaries'",
      "runtimeintegrity/ttps.yaml:619:62: warning: no list named 'pkg_mgmt_binaries'",
      "runtimeintegrity/ttps.yaml:635:58: warning: no list named 'java_package_installer'",
      "runtimeintegrity/ttps.yaml:768:30: warning: no list named 'dev_creation_binaries'"
    ])
    expect(about(load("tests"), /no list named/)).toEqual([
      "tests/falco.yaml:2976:23: warning: no list named 'authorized_server_binary'; compared as a literal (did you mean 'authorized_server_binaries' or 'authorized_server_port'?)"
    ])
    expect(about(load("distribution/filter.yaml"), /./)).toEqual([])
  })

  it("constant comparisons with numeric attributes (warnings: the files must load)", () => {
    expect(about(load("runtimeintegrity"), /decimal integer|64-bit/)).toEqual([
      "runtimeintegrity/runtimeintegrity.yaml:473:51: warning: 'udp' is not a decimal integer and sf.net.proto is numeric: 'sf.net.proto = udp' is never true",
      "runtimeintegrity/ttps.yaml:525:51: warning: 'udp' is not a decimal integer and sf.net.proto is numeric: 'sf.net.proto = udp' is never true"
    ])
    const falco = about(load("tests"), /decimal integer|64-bit/)
    expect(falco.filter((w) => w.includes("evt.arg.uid = "))).toHaveLength(9) // user names against a uid
    expect(falco.filter((w) => w.includes("'evt.rawres' has no 64-bit integer value"))).toHaveLength(5) // `evt.rawres >= 0`: always true
    expect(falco.filter((w) => /fd\.l4proto|container\.privileged/.test(w))).toHaveLength(5) // `fd.l4proto = udp`, `container.privileged = true`
    expect(falco).toHaveLength(19)
  })

  it("duplicate rule names: ttps.yaml redefines 21 runtimeintegrity.yaml rules (both fire, Q23)", () => {
    const dups = about(load("runtimeintegrity"), /duplicate rule name/)
    expect(dups).toHaveLength(21)
    expect(dups.every((w) => w.startsWith("runtimeintegrity/ttps.yaml:") && w.includes("first defined at runtimeintegrity/runtimeintegrity.yaml:"))).toBe(true)
    expect(about(load("tests"), /duplicate/)).toEqual([])
  })
})

describe.skipIf(!present)("expected behaviour of the unit-test rules (§9)", () => {
  // A python process in container node-app, args `cos-write.py x`, sf.ts = 1000, parent bash.
  const records: ReadonlyArray<readonly [string, FlatRecord]> = [
    ["PE", pe()],
    ["FF", ff()],
    ["NF", nf()]
  ]
  const table: ReadonlyArray<readonly [file: string, rule: string, pe: boolean, ff: boolean, nf: boolean]> = [
    ["unit_test_contains.yaml", "Contains rule", true, true, true],
    ["unit_test_contains.yaml", "iContains rule", true, true, true],
    ["unit_test_eq.yaml", "Eq rule", false, false, false],
    ["unit_test_ge.yaml", "Ge rule", false, false, false],
    ["unit_test_gt.yaml", "Gt rule", false, false, false],
    ["unit_test_le.yaml", "Le rule", false, false, true],
    ["unit_test_lt.yaml", "Lt rule", false, true, false],
    ["unit_test_in.yaml", "In rule", true, false, false],
    ["unit_test_pmatch.yaml", "Pmatch rule", true, false, false],
    ["unit_test_logic.yaml", "Logic rule", true, false, false],
    ["unit_test_logic.yaml", "Pars rule", true, false, false],
    ["unit_test_macro.yaml", "Simple rule to test if Python process", false, false, false],
    ["unit_test_fileflow.yaml", "File Flows Open Write Access", false, false, false],
    ["unit_test_networkflow.yaml", "Network Flows on specific port", false, false, true],
    ["unit_test_simple.yaml", "Simple rule 1", true, false, false],
    ["unit_test_simple.yaml", "Simple rule 2", true, false, false],
    ["unit_test_simple.yaml", "Simple rule 3", true, false, false],
    ["unit_test_simple.yaml", "Simple rule 4", true, false, false],
    ["unit_test_simple.yaml", "Simple rule 5", true, false, false],
    ["unit_test_simple.yaml", "Simple rule 6", true, false, false],
    ["unit_test_sfmap.yaml", "Sf map rule", true, true, true],
    ["unit_test_startswith.yaml", "Startswith rule", true, true, true],
    ["unit_test_unary.yaml", "Exists rule", true, true, true]
  ]

  it.each(table)("%s / %s: PE %s, FF %s, NF %s (each file on its own)", (file, rule, ...want) => {
    const set = load(path.join("tests", file))
    expect(set.rules.some((r) => r.name === rule)).toBe(true)
    expect(records.map(([, r]) => matchNames(set, r).includes(rule))).toEqual(want)
  })

  it("gives the same results with all of tests/*.yaml in one compiler, and nothing from falco.yaml fires", () => {
    const set = load("tests")
    for (const [i, [type, r]] of records.entries()) {
      const want = table.filter((row) => row[2 + i]).map((row) => row[1])
      expect([...matchNames(set, r)].sort(), type).toEqual(want.sort())
    }
  })

  it("needs sf.ts beyond 2^53 for Eq and Ge (bigint)", () => {
    const set = load("tests/unit_test_eq.yaml", "tests/unit_test_ge.yaml", "tests/unit_test_gt.yaml")
    expect(matchNames(set, pe({ ts: 1548965940603299403n }))).toEqual(["Eq rule", "Ge rule"])
    expect(matchNames(set, pe({ ts: 1548965940603299404n }))).toEqual(["Ge rule", "Gt rule"])
  })
})

describe.skipIf(!present)("runtimeintegrity", () => {
  it("fires `Downloader detected` twice for a curl exec: two files define it (Q23)", () => {
    const set = load("runtimeintegrity")
    const curl = proc({ exe: "/usr/bin/curl", exeArgs: "-O http://example.com/x", parent: bash })
    const e = evaluate(set, pe({ process: curl, ptree: [curl, bash] }))
    expect(e.dropped).toBe(false)
    expect(e.matches.map((m) => `${m.name} (${path.basename(m.position.file)})`)).toEqual([
      "Downloader detected (runtimeintegrity.yaml)",
      "Downloader detected (ttps.yaml)"
    ])
  })

  it("drops records of whitelisted tools through the global filter", () => {
    const set = load("runtimeintegrity")
    const splunk = proc({ exe: "/opt/splunk/bin/splunkd", exeArgs: "", parent: bash })
    expect(evaluate(set, pe({ process: splunk, ptree: [splunk, bash] })).dropped).toBe(true)
  })
})
