/**
 * Sigma rules end to end through the compiler, from the Sigma specification v2: rule files and their
 * diagnostics, searches (maps, lists of maps, keyword lists), conditions, field mappings (built-in and
 * config), logsources and the metadata of the compiled rules. Records come from traces written with
 * TraceWriter (test/policies/support.ts `Scene`).
 */
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { OpFlag } from "../../src/domain/opFlags.js"
import { MemorySink } from "../../src/services/avro/OcfWriter.js"
import { TraceWriter } from "../../src/services/trace/TraceWriter.js"
import { decodeTrace, img, Scene } from "../policies/support.js"
import { compile, compileRule, config, diagnosticsOf, fired, fires, ruleYaml } from "./support.js"

const EXEC = OpFlag.EXEC

/** The records of one exec of `exe args` by a login shell, and the EXEC event itself. */
const execScene = (exe: string, args = "", user?: string) => {
  const s = new Scene()
  const shell = s.loginShell()
  const p = s.spawn(shell, img.run(exe, args, user === undefined ? {} : { user, uid: 1001 }))
  s.read(p, "/etc/hosts")
  s.connect(p, "203.0.113.9", 443)
  const records = s.records()
  const exec = records.find((r) => r.type === "PE" && (r.event.opFlags & EXEC) !== 0 && r.process?.exe === exe)!
  return { records, exec }
}

const curl = execScene("/usr/bin/curl", "-s http://203.0.113.9/x.sh")

describe("rule files", () => {
  it("a file that is not valid YAML is skipped and reported at file:line:col", () => {
    const load = compile({
      "bad.yml": "title: x\ndetection:\n  sel: [a\n",
      "good.yml": ruleYaml({ title: "good", detection: "sel:\n    Image: /usr/bin/curl\ncondition: sel" })
    })
    expect(load.skippedFiles).toBe(1)
    expect(load.rules.map((r) => r.sigma.title)).toEqual(["good"])
    expect(diagnosticsOf(load)[0]).toMatch(/^bad\.yml:\d+:\d+: error: invalid YAML: .*; file skipped$/)
  })

  it("a rule without detection, title or logsource is skipped and reported", () => {
    const load = compile({ "r.yml": "title: x\nlogsource:\n  category: process_creation\n" })
    expect(diagnosticsOf(load)).toEqual(["r.yml:1:1: error: missing 'detection'; file skipped"])
  })

  it("a Sigma config among the rules is reported and not applied", () => {
    const load = compile({ "cfg.yml": "title: m\nfieldmappings:\n  Image: sf.proc.name\n" })
    expect(diagnosticsOf(load)[0]).toContain("cfg.yml:1:1: warning: a Sigma configuration file among the rules is not a rule and is not applied")
  })

  it("several documents in one file are reported (rule collections are Sigma v1)", () => {
    const load = compile({ "r.yml": "title: a\n---\ntitle: b\n" })
    expect(diagnosticsOf(load)[0]).toContain("r.yml:3:1: error: several YAML documents")
  })
})

describe("metadata", () => {
  it("name = id, desc = description, priority from level, tags as written; one rule per condition", () => {
    const load = compile({
      "r.yml": ruleYaml({
        title: "Curl",
        id: "11111111-2222-4333-8444-555555555555",
        level: "critical",
        detection: "sel:\n    Image|endswith: /curl\ncondition:\n    - sel\n    - not sel"
      })
    })
    expect(load.rules).toHaveLength(2)
    const [r] = load.rules
    expect(r.name).toBe("11111111-2222-4333-8444-555555555555")
    expect(r.desc).toBe("Curl (test rule)")
    expect(r.priority).toBe(4)
    expect(r.tags).toEqual(["attack.execution", "attack.t1059.004"])
    expect(r.sigma).toMatchObject({ title: "Curl", level: "critical", references: ["https://example.org/sigma-tests"], status: "test" })
    expect(r.position).toEqual({ file: "r.yml", line: 1, column: 1 })
    expect(fired(load, curl.exec)).toEqual(["Curl"])
  })

  it("levels map to priorities 0-4; an unknown level is 0 with a warning", () => {
    const prio = (level: string) =>
      compile({ "r.yml": ruleYaml({ title: "x", level, detection: "s:\n    Image: x\ncondition: s" }) })
    expect(["informational", "low", "medium", "high", "critical"].map((l) => prio(l).rules[0].priority)).toEqual([0, 1, 2, 3, 4])
    const odd = prio("severe")
    expect(odd.rules[0].priority).toBe(0)
    expect(diagnosticsOf(odd)[0]).toContain("unknown level 'severe'")
  })
})

describe("searches", () => {
  it("a map ANDs its field matchers", () => {
    expect(fires(compileRule("s:\n    Image|endswith: /curl\n    CommandLine|contains: 203.0.113.9\ncondition: s"), curl.exec)).toBe(true)
    expect(fires(compileRule("s:\n    Image|endswith: /curl\n    CommandLine|contains: evil.example\ncondition: s"), curl.exec)).toBe(false)
  })

  it("a list of maps ORs the maps (Sigma semantics; the reference ANDed them, S2)", () => {
    const load = compileRule("s:\n    - Image|endswith: /wget\n    - CommandLine|contains: x.sh\ncondition: s")
    expect(fires(load, curl.exec)).toBe(true)
    const neither = compileRule("s:\n    - Image|endswith: /wget\n    - CommandLine|contains: y.sh\ncondition: s")
    expect(fires(neither, curl.exec)).toBe(false)
  })

  it("keyword lists search the command line and file paths, ORed; '|all' ANDs them", () => {
    expect(fires(compileRule("k:\n    - 'x.SH'\n    - nothing\ncondition: k"), curl.exec)).toBe(true)
    expect(fires(compileRule("k:\n    '|all':\n        - curl\n        - x.sh\ncondition: k"), curl.exec)).toBe(true)
    expect(fires(compileRule("k:\n    '|all':\n        - curl\n        - y.sh\ncondition: k"), curl.exec)).toBe(false)
  })

  it("an empty value list never matches (with a warning)", () => {
    const load = compileRule("s:\n    Image: []\ncondition: s")
    expect(fires(load, curl.exec)).toBe(false)
    expect(diagnosticsOf(load)[0]).toContain("warning: 'Image' has an empty list of values")
  })
})

describe("conditions", () => {
  const rule = (condition: string) =>
    compileRule(
      [
        "sel_curl:\n    Image|endswith: /curl",
        "sel_wget:\n    Image|endswith: /wget",
        "filter_local:\n    CommandLine|contains: 127.0.0.1",
        "_hidden:\n    Image|endswith: /nothing",
        `condition: ${condition}`
      ].join("\n")
    )

  it.each([
    ["sel_curl", true],
    ["sel_wget", false],
    ["sel_curl and not filter_local", true],
    ["sel_wget or sel_curl", true],
    ["not sel_curl", false],
    ["sel_wget or sel_curl and filter_local", false],
    ["(sel_wget or sel_curl) and not filter_local", true],
    ["not (sel_wget or filter_local)", true],
    ["1 of sel_*", true],
    ["all of sel_*", false],
    ["1 of sel_* and not 1 of filter*", true],
    ["1 of them", true],
    ["all of them", false],
    ["all of sel_c*", true],
    ["1 of *curl", true],
    ["SEL_CURL", false]
  ])("%s → %s", (condition, want) => {
    const load = rule(condition)
    if (condition === "SEL_CURL") {
      // Search identifiers are case-sensitive: an unknown one is a compile error.
      expect(load.rules).toHaveLength(0)
      return
    }
    expect(fires(load, curl.exec)).toBe(want)
  })

  it("'them' leaves out identifiers starting with '_'", () => {
    const load = compileRule("sel:\n    Image|endswith: /curl\n_never:\n    Image: x\ncondition: all of them")
    expect(fires(load, curl.exec)).toBe(true)
  })

  it("a syntax error is reported at its column, the rule is not loaded", () => {
    const load = compileRule("sel:\n    Image: x\ncondition: sel and or sel")
    expect(load.rules).toHaveLength(0)
    expect(load.failed).toBe(1)
    const d = diagnosticsOf(load)[0]
    // The condition starts at column 16; 'or' is at offset 8.
    expect(d).toMatch(/^rule\.yml:\d+:24: error: rule 't' \(.*\) not loaded: condition: 'and' must be followed by a search identifier, '\(' or 'not', not 'or'$/)
  })

  it("an unknown search identifier and a pattern matching nothing are errors", () => {
    expect(diagnosticsOf(compileRule("sel:\n    Image: x\ncondition: sel and selection"))[0]).toContain(
      "condition names 'selection', which is not a search identifier of the rule"
    )
    expect(diagnosticsOf(compileRule("sel:\n    Image: x\ncondition: 1 of filter*"))[0]).toContain("'1 of filter*' matches no search identifier")
  })

  it("aggregations are rejected, not dropped (the reference dropped them)", () => {
    expect(diagnosticsOf(compileRule("sel:\n    Image: x\ncondition: sel | count() by Image > 5"))[0]).toContain(
      "aggregation expressions ('| count() ...') are not supported"
    )
  })
})

describe("field mapping", () => {
  const proc = execScene("/usr/bin/python3", "-c 'import pty; pty.spawn(\"/bin/bash\")'", "alice")

  it("the built-in mapping covers the Linux process_creation taxonomy", () => {
    const r = proc.exec
    const yes = (detection: string) => expect(fires(compileRule(`s:\n    ${detection}\ncondition: s`), r), detection).toBe(true)
    yes("Image: /usr/bin/python3")
    yes("OriginalFileName: python3")
    yes("CommandLine|contains: pty.spawn")
    yes("User: alice")
    yes("ParentImage: /bin/bash")
    yes("ParentCommandLine: /bin/bash -bash")
    yes(`ProcessId: ${r.process!.oid.hpid}`)
    yes(`ParentProcessId: ${r.process!.poid!.hpid}`)
    yes("ParentUser: alice")
    yes("ProcessGuid|exists: true")
  })

  it("CurrentDirectory is the process's working directory (SysFlow v5 Process.cwd)", () => {
    const sink = new MemorySink()
    const w = new TraceWriter(sink)
    w.header({ exporter: "sigma-tests" })
    const proc = w.process({ pid: 4242n, exe: "/bin/sh", exeArgs: "-c /etc/opt/microsoft/scx/conf/tmpdir/scx", cwd: "/var/opt/microsoft/scx/tmp" })
    w.processEvent({ proc, opFlags: EXEC })
    w.close()
    const exec = decodeTrace(sink.bytes()).find((r) => r.type === "PE")!
    expect(fires(compileRule("s:\n    CurrentDirectory: /var/opt/microsoft/scx/tmp\ncondition: s"), exec)).toBe(true)
    expect(fires(compileRule("s:\n    CurrentDirectory|startswith: /tmp\ncondition: s"), exec)).toBe(false)
    // The reference's sysflow.yml maps it to sf.proc.cwd, which reads the same value.
    const cfg = config("fieldmappings:\n  CurrentDirectory: sf.proc.cwd\n")
    expect(fires(compileRule("s:\n    CurrentDirectory: /var/opt/microsoft/scx/tmp\ncondition: s", undefined, cfg), exec)).toBe(true)
  })

  it("a field with no SysFlow equivalent is a compile error naming it and why", () => {
    const load = compileRule("s:\n    LogonId: 0\n    Image: x\ncondition: s")
    expect(load.rules).toHaveLength(0)
    expect(diagnosticsOf(load)[0]).toMatch(/rule\.yml:\d+:9: error: rule 't' .* not loaded: field 'LogonId' has no SysFlow equivalent \(SysFlow records no login session/)
  })

  it("an unknown field is an error unless the config maps it", () => {
    const detection = "s:\n    Exe|endswith: /python3\ncondition: s"
    expect(diagnosticsOf(compileRule(detection))[0]).toContain("field 'Exe' is not in the Sigma Linux taxonomy SysFlow maps; map it in the Sigma config")
    expect(fires(compileRule(detection, undefined, config("fieldmappings:\n  Exe: sf.proc.exe\n")), proc.exec)).toBe(true)
  })

  it("a config maps to the first target of a list, and overrides the built-in mapping (the shipped sysflow.yml: ParentImage → sf.proc.aexe)", () => {
    const cfg = config("fieldmappings:\n  ParentImage: sf.proc.aexe\n  LogonId:\n    - sf.proc.uid\n    - ignored\n")
    // sf.proc.aexe is every ancestor (the reference's mapping), here sshd two levels up.
    expect(fires(compileRule("s:\n    ParentImage: /usr/sbin/sshd\ncondition: s", undefined, cfg), proc.exec)).toBe(true)
    expect(fires(compileRule("s:\n    ParentImage: /usr/sbin/sshd\ncondition: s"), proc.exec)).toBe(false)
    expect(fires(compileRule("s:\n    LogonId: 1001\ncondition: s", undefined, cfg), proc.exec)).toBe(true)
  })

  it("a mapping to something that is not a SysFlow attribute is an error naming the config line", () => {
    const load = compileRule("s:\n    Image: x\ncondition: s", undefined, config("fieldmappings:\n  Image: sf.proc.executable\n"))
    expect(diagnosticsOf(load)[0]).toContain("field 'Image' is mapped to 'sf.proc.executable' (sigma-config.yml:2:10), which is not a SysFlow attribute")
  })

  it("fieldref compares two fields of the record", () => {
    expect(fires(compileRule("s:\n    ParentUser|fieldref: User\ncondition: s"), proc.exec)).toBe(true)
    expect(fires(compileRule("s:\n    Image|fieldref: ParentImage\ncondition: s"), proc.exec)).toBe(false)
    expect(fires(compileRule("s:\n    CommandLine|fieldref|startswith: Image\ncondition: s"), proc.exec)).toBe(true)
  })

  it("unknown config keys are errors; placeholders feed 'expand'", () => {
    expect(() => config("fieldmapping:\n  Image: sf.proc.exe\n")).toThrow("unknown Sigma config key 'fieldmapping'")
    const cfg = config("placeholders:\n  Interpreters: [/usr/bin/python3, /usr/bin/perl]\n")
    expect(fires(compileRule("s:\n    Image|expand: '%Interpreters%'\ncondition: s", undefined, cfg), proc.exec)).toBe(true)
  })
})

describe("file and network fields", () => {
  const s = new Scene()
  const shell = s.loginShell()
  const mv = s.spawn(shell, img.run("/bin/mv", "/tmp/x /etc/cron.d/x"))
  s.rename(mv, "/tmp/x", "/etc/cron.d/x")
  const nc = s.spawn(shell, img.run("/usr/bin/nc", "198.51.100.7 4444"))
  s.connect(nc, "198.51.100.7", 4444, { proto: 17 })
  const web = s.hostService(img.nginx())
  s.accept(web, 80)
  const records = s.records()
  const rename = records.find((r) => r.type === "FE")!
  const flows = records.filter((r): r is FlatRecord & { type: "NF" } => r.type === "NF")
  const out = flows.find((r) => r.process?.exe === "/usr/bin/nc")!
  const inbound = flows.find((r) => r.process?.exe === "/usr/sbin/nginx")!

  it("TargetFilename is the name created (a rename's new path); SourceFilename the old one", () => {
    const ls = "category: file_rename\nproduct: linux"
    expect(fires(compileRule("s:\n    TargetFilename|startswith: /etc/cron.d/\ncondition: s", ls), rename)).toBe(true)
    expect(fires(compileRule("s:\n    SourceFilename: /tmp/x\ncondition: s", ls), rename)).toBe(true)
  })

  it("DestinationIp/Port, SourceIp/Port, Protocol, Initiated", () => {
    const ls = "category: network_connection\nproduct: linux"
    const yes = (r: FlatRecord, d: string) => expect(fires(compileRule(`s:\n    ${d}\ncondition: s`, ls), r), d).toBe(true)
    const no = (r: FlatRecord, d: string) => expect(fires(compileRule(`s:\n    ${d}\ncondition: s`, ls), r), d).toBe(false)
    yes(out, "DestinationIp: 198.51.100.7")
    yes(out, "DestinationPort: 4444")
    yes(out, "SourceIp|cidr: 10.244.0.0/16")
    yes(out, "SourcePort|gt: 1024")
    yes(out, "Protocol: udp")
    yes(out, "Initiated: 'true'")
    yes(inbound, "Initiated: 'false'")
    no(inbound, "Initiated: 'true'")
    yes(inbound, "DestinationPort|lt: 1024")
    yes(out, "DestinationIsIpv6: 'false'")
  })
})

describe("logsources", () => {
  const s = new Scene()
  const shell = s.loginShell()
  const cp = s.spawn(shell, img.run("/bin/cp", "evil /etc/cron.d/job"))
  s.read(cp, "/tmp/evil")
  s.write(cp, "/etc/cron.d/job")
  s.unlink(cp, "/etc/cron.d/old")
  s.rename(cp, "/etc/cron.d/job", "/etc/cron.d/job2")
  s.mkdir(cp, "/etc/cron.d/sub")
  s.connect(cp, "203.0.113.1", 80)
  const records = s.records().filter((r) => r.process?.exe === "/bin/cp")
  const kinds = (category: string, detection = "s:\n    Image: /bin/cp\ncondition: s") => {
    const load = compileRule(detection, `category: ${category}\nproduct: linux`)
    return records.filter((r) => fires(load, r)).map((r) => `${r.type}:${r.type === "KE" ? "" : r.event.opFlags & ~OpFlag.CLOSE}`)
  }
  const F = OpFlag

  it("process_creation → the EXEC process event only", () => {
    expect(kinds("process_creation")).toEqual([`PE:${F.EXEC}`])
  })

  it("file_event → file flows that write or create, and file events that create a name", () => {
    expect(kinds("file_event")).toEqual([`FF:${F.OPEN | F.WRITE_SEND}`, `FE:${F.RENAME}`, `FE:${F.MKDIR}`])
  })

  it("file_change → writing flows; file_delete → unlink/rmdir; file_rename → rename", () => {
    expect(kinds("file_change")).toEqual([`FF:${F.OPEN | F.WRITE_SEND}`])
    expect(kinds("file_delete")).toEqual([`FE:${F.UNLINK}`])
    expect(kinds("file_rename")).toEqual([`FE:${F.RENAME}`])
  })

  it("network_connection → network flows", () => {
    expect(kinds("network_connection")).toEqual([`NF:${F.CONNECT | F.WRITE_SEND | F.READ_RECV}`])
  })

  it("other categories, services and products are reported as not applicable", () => {
    for (const ls of ["category: dns_query\nproduct: linux", "product: linux\nservice: auditd", "category: process_creation\nproduct: windows", "product: linux"]) {
      const load = compileRule("s:\n    Image: x\ncondition: s", ls)
      expect(load.rules, ls).toHaveLength(0)
      expect(load.notApplicable).toBe(1)
      expect(diagnosticsOf(load)[0]).toMatch(/^rule\.yml:10:1: warning: rule 't' .* not loaded: logsource /)
    }
  })

  it("'sysflow: {logsource: ignore}' in a rule, or 'logsource: ignore' in the config, applies it to every record (the reference)", () => {
    const all = records.map((r) => r.type)
    const perRule = compile({
      "r.yml": ruleYaml({ title: "t", detection: "s:\n    Image: /bin/cp\ncondition: s", extra: "sysflow:\n    logsource: ignore" })
    })
    expect(records.filter((r) => fires(perRule, r)).map((r) => r.type)).toEqual(all)
    const viaConfig = compileRule("s:\n    Image: /bin/cp\ncondition: s", undefined, config("logsource: ignore\n"))
    expect(records.filter((r) => fires(viaConfig, r)).map((r) => r.type)).toEqual(all)
    expect(viaConfig.rules[0].sigma.scope).toBe("every record")
  })
})
