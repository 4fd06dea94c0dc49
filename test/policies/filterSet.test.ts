/**
 * policies/filter: drops noisy, benign telemetry and forwards everything else (enrich mode). Each case
 * builds a small trace whose last record is the one under test; for drops, every other record of the
 * scene must still be forwarded, so a filter cannot pass by being too broad.
 */
import { beforeAll, describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { type CompiledPolicySet, evaluate, shouldEmit } from "../../src/services/policy/PolicySet.js"
import { appContainer, containerShell, run, webContainer } from "./ruleSpec.js"
import { describeRecord, filterDir, img, load, readTrace, sampleTrace, Scene } from "./support.js"

interface FilterCase {
  readonly title: string
  /** The record under test is the last one the scene writes. */
  readonly build: (s: Scene) => void
}

const drops: ReadonlyArray<FilterCase> = [
  { title: "the loader mapping libc", build: (s) => s.loadLibrary(s.spawn(s.loginShell(), run("/bin/ls")), "/lib/x86_64-linux-gnu/libc.so.6") },
  { title: "the dynamic linker cache being read", build: (s) => s.read(s.spawn(s.loginShell(), run("/bin/ls")), "/etc/ld.so.cache") },
  { title: "a versioned library below /usr/lib64 being read", build: (s) => s.read(appContainer(s).entry, "/usr/lib64/libssl.so.3") },
  { title: "a plugin .so below /usr/local/lib being read", build: (s) => s.read(appContainer(s).entry, "/usr/local/lib/node_modules/bcrypt/build/Release/bcrypt_lib.so") },
  { title: "the locale archive being read", build: (s) => s.read(s.loginShell(), "/usr/lib/locale/locale-archive") },
  { title: "a message catalogue being read", build: (s) => s.read(s.loginShell(), "/usr/share/locale/de/LC_MESSAGES/coreutils.mo") },
  { title: "the time zone being read", build: (s) => s.read(appContainer(s).entry, "/etc/localtime") },
  { title: "time zone data being read", build: (s) => s.read(appContainer(s).entry, "/usr/share/zoneinfo/Europe/Paris") },
  { title: "the gconv module cache being read", build: (s) => s.read(s.loginShell(), "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache") },
  { title: "a process reading /proc/self/status", build: (s) => s.read(appContainer(s, run("/opt/java/openjdk/bin/java", "-jar app.jar")).entry, "/proc/self/status") },
  { title: "a thread reading /proc/thread-self/attr/current", build: (s) => s.read(appContainer(s).entry, "/proc/thread-self/attr/current") },
  { title: "node_exporter reading /proc/stat", build: (s) => s.read(s.hostService(run("/usr/local/bin/node_exporter", "--path.rootfs=/host")), "/proc/stat") },
  {
    title: "the Datadog process agent reading /sys",
    build: (s) => s.read(s.hostService(run("/opt/datadog-agent/embedded/bin/process-agent")), "/sys/class/net/eth0/statistics/rx_bytes")
  },
  { title: "a DNS lookup to systemd-resolved", build: (s) => s.connect(s.spawn(s.loginShell(), run("/usr/bin/curl", "https://example.org")), "127.0.0.53", 53, { proto: 17, sip: "127.0.0.1" }) },
  { title: "a DNS lookup to the cluster DNS service", build: (s) => s.connect(appContainer(s).entry, "10.96.0.10", 53, { proto: 17 }) },
  { title: "a DNS lookup over TCP to Docker's embedded resolver", build: (s) => s.connect(appContainer(s).entry, "127.0.0.11", 53) },
  { title: "the collector writing its trace file", build: (s) => s.write(s.hostService(run("/usr/local/sysflow/bin/sysporter", "-w /mnt/data/trace")), "/mnt/data/trace.1700000000", { alreadyOpen: true }) },
  { title: "sfprocessor writing its export file", build: (s) => s.write(s.hostService(run("/usr/local/bin/node", "/opt/sfprocessor/bin/sfprocessor.js -config pipeline.json")), "/var/log/sysflow/export.out", { alreadyOpen: true }) },
  {
    title: "activity of a process in the SysFlow collector's container",
    build: (s) => {
      const c = s.container({ name: "sf-collector", image: "docker.io/sysflowtelemetry/sf-collector:0.7.0", entry: run("/usr/local/sysflow/bin/sysporter") })
      s.read(c.entry, "/etc/hosts")
    }
  },
  { title: "a thread being created", build: (s) => s.thread(appContainer(s, run("/opt/java/openjdk/bin/java", "-jar app.jar")).entry, 777_777n) }
]

const keeps: ReadonlyArray<FilterCase> = [
  { title: "a library being written", build: (s) => s.write(s.spawn(s.loginShell(), run("/bin/cp")), "/usr/lib/x86_64-linux-gnu/libz.so.1") },
  { title: "a library opened read-write", build: (s) => s.readWrite(s.spawn(s.loginShell(), run("/usr/bin/python3")), "/lib/x86_64-linux-gnu/libpam.so.0") },
  { title: "a shared object read from /tmp", build: (s) => s.loadLibrary(s.spawn(s.loginShell(), run("/usr/bin/python3")), "/tmp/libevil.so") },
  { title: "/etc/ld.so.preload being read", build: (s) => s.read(s.spawn(s.loginShell(), run("/bin/ls")), "/etc/ld.so.preload") },
  { title: "/etc/shadow being read", build: (s) => s.read(s.spawn(s.loginShell(), run("/bin/cat")), "/etc/shadow") },
  { title: "/etc/localtime being replaced", build: (s) => s.write(s.spawn(s.loginShell(), run("/bin/ln")), "/etc/localtime", { truncate: true }) },
  { title: "a shell reading another process's environment", build: (s) => s.read(containerShell(s).sh, "/proc/1/environ") },
  { title: "node_exporter reading a file outside /proc and /sys", build: (s) => s.read(s.hostService(run("/usr/local/bin/node_exporter")), "/etc/shadow") },
  { title: "a DNS lookup to an external resolver", build: (s) => s.connect(appContainer(s).entry, "8.8.8.8", 53, { proto: 17 }) },
  { title: "a connection to the cluster DNS address on another port", build: (s) => s.connect(appContainer(s).entry, "10.96.0.10", 9153) },
  { title: "a node process that is not sfprocessor", build: (s) => s.write(appContainer(s).entry, "/srv/app/data.json") },
  { title: "a process being started", build: (s) => void s.spawn(webContainer(s).worker, img.sh("-c id")) },
  { title: "a process being forked (CLONE of a new process, tid = pid)", build: (s) => void s.fork(appContainer(s).entry) }
]

let set: CompiledPolicySet
beforeAll(async () => {
  set = await load(filterDir)
})

const build = (c: FilterCase): { records: FlatRecord[]; last: FlatRecord } => {
  const s = new Scene()
  c.build(s)
  const records = s.records()
  return { records, last: records[records.length - 1] }
}

describe("The filter set", () => {
  for (const c of drops) {
    it(`drops ${c.title}, and only that`, () => {
      const { records, last } = build(c)
      expect(evaluate(set, last).dropped, describeRecord(last)).toBe(true)
      const others = records.slice(0, -1).filter((r) => evaluate(set, r).dropped)
      expect(others.map(describeRecord)).toEqual([])
    })
  }

  for (const c of keeps) {
    it(`keeps ${c.title}`, () => {
      const { records } = build(c)
      expect(records.filter((r) => evaluate(set, r).dropped).map(describeRecord)).toEqual([])
    })
  }

  it("forwards what it keeps in enrich mode, with no rule attached, and nothing in alert mode", () => {
    const { last } = build(keeps[0])
    const e = evaluate(set, last)
    expect(shouldEmit(e, "enrich")).toBe(true)
    expect(e.matches).toEqual([])
    expect(shouldEmit(e, "alert")).toBe(false)
  })

  it("drops exactly the linker cache and library loads of cat and curl and the two cluster DNS lookups of the sample trace", async () => {
    const records = await readTrace(sampleTrace)
    const dropped = records
      .filter((r) => evaluate(set, r).dropped)
      .map((r) => `${r.type} ${r.process?.exe} ${r.type === "NF" ? `${r.event.dport}` : (r.file?.path ?? "")}`)
    expect(dropped).toEqual([
      "NF /usr/bin/python3 53",
      "FF /usr/bin/cat /etc/ld.so.cache",
      "FF /usr/bin/cat /lib/x86_64-linux-gnu/libc.so.6",
      "FF /usr/bin/curl /etc/ld.so.cache",
      "FF /usr/bin/curl /usr/lib/x86_64-linux-gnu/libcurl.so.4",
      "FF /usr/bin/curl /lib/x86_64-linux-gnu/libc.so.6",
      "NF /usr/bin/apt-get 53"
    ])
  })
})
