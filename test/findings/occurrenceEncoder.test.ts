/**
 * The occurrence encoder (data-model.md §5.6): event pools and their alerts, the Avro event files, and
 * the occurrences' fields (F2 severities, F4 flush at cleanup).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { Effect } from "effect"
import { Priority } from "../../src/domain/policyEvent.js"
import { readOcfHeader } from "../../src/services/avro/OcfWriter.js"
import { envPath, EVENT_SCHEMA } from "../../src/services/export/findings/EventFile.js"
import { type Occurrence, severityOfPriority } from "../../src/services/export/findings/Occurrence.js"
import { makeOccurrenceEncoder } from "../../src/services/export/encoders/OccurrenceEncoder.js"
import { bash, fe, ff, file, ke, nf, nodeApp, OP, pe, proc } from "../policy/fixtures.js"
import { decodeOcf } from "../trace/avsc.js"
import {
  captureLogs,
  event,
  exporterConfig,
  filesUnder,
  ManualClock,
  openEncoder,
  readEvents,
  rule,
  T0,
  ymd
} from "./support.js"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-occ-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
let dirs = 0
const freshDir = () => path.join(tmp, `run-${++dirs}`)

const occurrencesOf = (lines: ReadonlyArray<string>): Occurrence[] => lines.map((l) => JSON.parse(l) as Occurrence)

/** Encoder attributes writing under a fresh directory. */
const attrsFor = (dir: string, extra: Record<string, unknown> = {}) => ({
  export: "findings",
  format: "occurrence",
  "findings.path": dir,
  "findings.s3region": "us-south",
  "findings.s3bucket": "sf-bucket",
  ...extra
})

const hostless = { container: undefined }

describe("occurrence encoder: event pools", () => {
  it("alerts on the first sighting, and on the second record too (the first flush ages the new pool and resets it)", async () => {
    const dir = freshDir()
    const clock = new ManualClock()
    const { value: enc, close } = await openEncoder(attrsFor(dir), clock)
    const r = () => event(pe({ ts: T0 }), [rule("exec")])
    expect(enc.encode([r()]).lines).toHaveLength(1)
    expect(enc.encode([r()]).lines).toHaveLength(1)
    // Same semantic hash, same rule set and severity: no occurrence.
    expect(enc.encode([r()]).lines).toHaveLength(0)
    expect(enc.encode([r(), r()]).lines).toHaveLength(0)
    await close()
  })

  it("alerts when the semantic hash is new: another command line, uid, file, opflags or tty", async () => {
    const { value: enc, close } = await openEncoder(attrsFor(freshDir()))
    const base = () => event(ff({ ts: T0 }), [rule("write")])
    enc.encode([base(), base(), base()])
    expect(enc.encode([base()]).lines).toHaveLength(0)
    expect(enc.encode([event(ff({ ts: T0, file: file("/etc/passwd") }), [rule("write")])]).lines).toHaveLength(0) // same oid fixture
    const otherOid = { ...file("/etc/shadow"), oid: "09".repeat(20) }
    expect(enc.encode([event(ff({ ts: T0, file: otherOid }), [rule("write")])]).lines).toHaveLength(1)
    expect(enc.encode([event(ff({ ts: T0, opFlags: OP.OPEN | OP.READ_RECV }), [rule("write")])]).lines).toHaveLength(1)
    expect(enc.encode([event(ff({ ts: T0, process: proc({ uid: 0 }) }), [rule("write")])]).lines).toHaveLength(1)
    expect(enc.encode([event(ff({ ts: T0, process: proc({ tty: true }) }), [rule("write")])]).lines).toHaveLength(1)
    expect(enc.encode([event(ff({ ts: T0, process: proc({ exeArgs: "other.py" }) }), [rule("write")])]).lines).toHaveLength(1)
    // ... and each only once.
    expect(enc.encode([event(ff({ ts: T0, process: proc({ tty: true }) }), [rule("write")])]).lines).toHaveLength(0)
    await close()
  })

  it("alerts when the pool's rule set grows or its top severity rises, not when they stay", async () => {
    const { value: enc, close } = await openEncoder(attrsFor(freshDir()))
    const r = (...rules: ReturnType<typeof rule>[]) => event(pe({ ts: T0 }), rules)
    enc.encode([r(rule("a")), r(rule("a"))])
    expect(enc.encode([r(rule("a"))]).lines).toHaveLength(0)
    expect(enc.encode([r(rule("b"))]).lines).toHaveLength(1) // new rule name
    expect(enc.encode([r(rule("a"), rule("b"))]).lines).toHaveLength(0)
    expect(enc.encode([r(rule("a", Priority.Medium))]).lines).toHaveLength(1) // LOW -> MEDIUM
    expect(enc.encode([r(rule("a", Priority.Low))]).lines).toHaveLength(0) // the top stays MEDIUM
    expect(enc.encode([r(rule("b", Priority.Critical))]).lines).toHaveLength(1) // -> HIGH
    expect(enc.encode([r(rule("a", Priority.High))]).lines).toHaveLength(0)
    await close()
  })

  it("keeps one pool per container: a new container alerts on its own", async () => {
    const { value: enc, close } = await openEncoder(attrsFor(freshDir()))
    const inApp = () => event(pe({ ts: T0 }), [rule("exec")])
    const other = () => event(pe({ ts: T0, container: { ...nodeApp, id: "beef", name: "other" } }), [rule("exec")])
    const onHost = () => event(pe({ ts: T0, ...hostless }), [rule("exec")])
    enc.encode([inApp(), inApp()])
    expect(enc.encode([inApp()]).lines).toHaveLength(0)
    expect(enc.encode([other()]).lines).toHaveLength(1)
    expect(enc.encode([onHost()]).lines).toHaveLength(1)
    await close()
  })

  it("flushes a full pool (findings.pool.capacity) without an occurrence", async () => {
    const dir = freshDir()
    const { value: enc, close } = await openEncoder(attrsFor(dir, { "findings.pool.capacity": "3" }))
    const r = () => event(pe({ ts: T0 }), [rule("exec")])
    enc.encode([r(), r()]) // both written (alerts)
    const file = path.join(dir, "node1", "10.0.0.1", ymd(T0), `c0ffee_${Math.floor(1_700_000_000_000.123 / 1000)}.avro`)
    expect(await readEvents(file)).toHaveLength(2)
    expect(enc.encode([r(), r()]).lines).toHaveLength(0)
    expect(await readEvents(file)).toHaveLength(2) // two pending
    expect(enc.encode([r()]).lines).toHaveLength(0) // the third pending one fills the pool
    expect(await readEvents(file)).toHaveLength(5)
    await close()
  })

  it("flushes and resets a pool older than findings.pool.maxage minutes: the next sighting alerts again", async () => {
    const dir = freshDir()
    const clock = new ManualClock()
    const { value: enc, close } = await openEncoder(attrsFor(dir, { "findings.pool.maxage": "2" }), clock)
    const r = () => event(pe({ ts: T0 }), [rule("exec")])
    enc.encode([r(), r(), r()])
    const file = path.join(dir, "node1", "10.0.0.1", ymd(T0), `c0ffee_1700000000.avro`)
    expect(await readEvents(file)).toHaveLength(2)
    clock.advance(2 * 60_000) // not *more* than 2 minutes
    expect(enc.encode([r()]).lines).toHaveLength(0)
    expect(await readEvents(file)).toHaveLength(2)
    clock.advance(1)
    // Aged: written with the pending ones, then the pool starts over (no occurrence for this one: its
    // hash was seen and the state did not change before the reset).
    expect(enc.encode([r()]).lines).toHaveLength(0)
    expect(await readEvents(file)).toHaveLength(5)
    // After the reset the filter and the rule set are empty again.
    expect(enc.encode([r()]).lines).toHaveLength(1)
    await close()
  })

  it("F4: pending events are written by flush at the end, and by the scope's cleanup", async () => {
    const dir = freshDir()
    const { value: enc, close } = await openEncoder(attrsFor(dir))
    const r = () => event(pe({ ts: T0 }), [rule("exec")])
    enc.encode([r(), r(), r(), r()])
    const file = path.join(dir, "node1", "10.0.0.1", ymd(T0), `c0ffee_1700000000.avro`)
    expect(await readEvents(file)).toHaveLength(2)
    const held = await Effect.runPromise(enc.flush!)
    expect(held.lines).toEqual([])
    expect(await readEvents(file)).toHaveLength(4)
    enc.encode([r()])
    await close() // no flush call: the cleanup writes it
    expect(await readEvents(file)).toHaveLength(5)
  })
})

describe("occurrence encoder: Avro event files", () => {
  it("writes event.Event records to <path>/<env>/<Y>/<M>/<D>/<container or host>_<encTs>.avro as snappy OCF", async () => {
    const dir = freshDir()
    const { value: enc, close } = await openEncoder(
      attrsFor(dir, { "findings.s3prefix": "prefix", "cluster.id": "cluster7" }),
      new ManualClock(1_234_567_890_999)
    )
    enc.encode([event(pe({ ts: T0 }), [rule("exec")]), event(nf({ ts: T0, ...hostless }), [rule("net")])])
    await close()
    expect(filesUnder(dir)).toEqual(
      [`prefix/cluster7/node1/10.0.0.1/${ymd(T0)}/c0ffee_1234567890.avro`, `prefix/cluster7/node1/10.0.0.1/${ymd(T0)}/host_1234567890.avro`].sort()
    )
    const bytes = fs.readFileSync(path.join(dir, `prefix/cluster7/node1/10.0.0.1/${ymd(T0)}/host_1234567890.avro`))
    const decoded = await decodeOcf(bytes)
    expect(decoded.meta["avro.codec"].toString()).toBe("snappy")
    expect(decoded.schema).toEqual(EVENT_SCHEMA)
    expect(decoded.values).toHaveLength(1)
    const st = fs.statSync(path.join(dir, "prefix/cluster7/node1/10.0.0.1", ymd(T0)))
    expect(st.mode & 0o777).toBe(0o755 & ~process.umask())
  })

  it("writes every field of the event", async () => {
    const dir = freshDir()
    const { value: enc, close } = await openEncoder(attrsFor(dir, { "cluster.id": "c1" }))
    enc.encode([
      event(ff({ ts: T0 }), [rule("write", Priority.Low, ["t1", "t2"]), rule("crit", Priority.Critical, ["t3"])], ["ctx"]),
      event(nf({ ts: T0 + 1n })),
      event(pe({ ts: T0 + 2n, process: proc({ pid: 7n, createTS: 1n }) }), [rule("orphan")])
    ])
    await close()
    const [file] = filesUnder(dir)
    const events = await readEvents(path.join(dir, file))
    expect(events).toEqual([
      {
        ts: T0,
        description: "write,crit",
        severity: "HIGH",
        clusterID: "c1",
        nodeID: "node1",
        nodeIP: "10.0.0.1",
        containerID: "c0ffee",
        recordType: "FF",
        opFlags: "OPEN,CLOSE,WRITE",
        pProcCmd: "/bin/bash",
        pProcPID: 10n,
        procCmd: "/usr/bin/python cos-write.py x",
        procPID: 100n,
        Resource: "/tmp/out.txt",
        Tags: "ctx,t1,t2,t3",
        Trace: "trace.sf"
      },
      expect.objectContaining({ ts: T0 + 1n, recordType: "NF", description: "", severity: "LOW", Resource: "172.17.0.2:40000-10.1.2.3:443", Tags: "" }),
      expect.objectContaining({ recordType: "PE", opFlags: "EXEC", pProcCmd: "", pProcPID: 0n, procPID: 7n })
    ])
  })

  it("appends to the pool's file across flushes, one block per flush, one header", async () => {
    const dir = freshDir()
    const { value: enc, close } = await openEncoder(attrsFor(dir))
    for (let i = 0; i < 4; i++) enc.encode([event(pe({ ts: T0, process: proc({ exeArgs: `run ${i}` }) }), [rule("exec")])])
    await close()
    const [file] = filesUnder(dir)
    const bytes = fs.readFileSync(path.join(dir, file))
    expect(bytes.toString("latin1").split("avro.schema")).toHaveLength(2)
    expect((await decodeOcf(bytes)).values.map((v) => (v as { procCmd: string }).procCmd)).toEqual([0, 1, 2, 3].map((i) => `/usr/bin/python run ${i}`))
  })

  it("appends to an existing file (same encoder second) with its header and sync marker", async () => {
    const dir = freshDir()
    const clock = new ManualClock()
    const first = await openEncoder(attrsFor(dir), clock)
    first.value.encode([event(pe({ ts: T0 }), [rule("exec")])])
    await first.close()
    const [file] = filesUnder(dir)
    const sync = Buffer.from(readOcfHeader(path.join(dir, file)).sync)
    const second = await openEncoder(attrsFor(dir), clock)
    second.value.encode([event(pe({ ts: T0 }), [rule("exec")]), event(pe({ ts: T0 }), [rule("exec")])])
    await second.close()
    expect(filesUnder(dir)).toEqual([file])
    const decoded = await decodeOcf(fs.readFileSync(path.join(dir, file)))
    expect(decoded.sync.equals(sync)).toBe(true)
    expect(decoded.values).toHaveLength(3)
  })

  it("writes a pool's pending events to the file of the last one (the others' files are created empty)", async () => {
    const dir = freshDir()
    const { value: enc, close } = await openEncoder(attrsFor(dir))
    const day = 86_400_000_000_000n
    const r = (ts: bigint) => event(pe({ ts }), [rule("exec")])
    enc.encode([r(T0), r(T0)]) // written to day 0
    enc.encode([r(T0), r(T0 + day)]) // pending: day 0, day 1
    await close()
    const day0 = path.join(dir, "node1/10.0.0.1", ymd(T0), "c0ffee_1700000000.avro")
    const day1 = path.join(dir, "node1/10.0.0.1", ymd(T0 + day), "c0ffee_1700000000.avro")
    expect((await readEvents(day0)).map((e) => e.ts)).toEqual([T0, T0])
    expect((await readEvents(day1)).map((e) => e.ts)).toEqual([T0, T0 + day])
  })

  it("logs failed writes: events are kept for the next write, dropped when the pool resets or at the end", async () => {
    const dir = freshDir()
    fs.writeFileSync(dir, "not a directory")
    const logs = captureLogs()
    const { value: enc, close } = await openEncoder(attrsFor(dir), new ManualClock(), logs)
    const r = (i: number) => event(pe({ ts: T0, process: proc({ exeArgs: `${i}` }) }), [rule("exec")])
    // The first event ages the new pool: the failed write is followed by the reset.
    expect(enc.encode([r(1)]).lines).toHaveLength(1)
    // Later alerts keep what they could not write.
    expect(enc.encode([r(2)]).lines).toHaveLength(1)
    expect(enc.encode([r(3)]).lines).toHaveLength(1)
    await close()
    const errors = logs.lines.filter((l) => l.startsWith("ERROR")).map((l) => l.replace(/ to \S+: .*;/, " to <file>: <why>;"))
    expect(errors).toEqual([
      "ERROR Findings: cannot write 1 events to <file>: <why>; events dropped",
      "ERROR Findings: cannot write 1 events to <file>: <why>; retrying at the next flush",
      "ERROR Findings: cannot write 2 events to <file>: <why>; retrying at the next flush",
      "ERROR Findings: cannot write 2 events to <file>: <why>; events dropped"
    ])
    expect(logs.lines.join("\n")).toContain(`c0ffee_1700000000.avro: `)
    fs.rmSync(dir)
  })

  it("builds the env path from s3prefix, cluster id, node id and node ip, skipping empty, NA and duplicate parts", () => {
    expect(envPath("p", "c", "n", "1.2.3.4")).toBe("p/c/n/1.2.3.4")
    expect(envPath("", "", "n", "1.2.3.4")).toBe("n/1.2.3.4")
    expect(envPath("", "", "NA", "NA")).toBe("")
    expect(envPath("", "c", "1.2.3.4", "1.2.3.4")).toBe("c/1.2.3.4")
    expect(envPath("p", "", "n", "")).toBe("p/n")
  })
})

describe("occurrence encoder: occurrences", () => {
  it("fills every field of a container occurrence", async () => {
    const dir = freshDir()
    const clock = new ManualClock(1_700_000_000_000.5)
    const { value: enc, close } = await openEncoder(attrsFor(dir, { "findings.s3prefix": "pre", "cluster.id": "cl" }), clock)
    const batch = enc.encode([event(ff({ ts: T0 }), [rule("Write below /etc", Priority.Medium, ["fs"]), rule("b/c", Priority.Low, ["x"])], ["ctx"])])
    await close()
    const file = `pre/cl/node1/10.0.0.1/${ymd(T0)}/c0ffee_1700000000.avro`
    expect(occurrencesOf(batch.lines)).toEqual([
      {
        id: "c0ffee-1700000000000500",
        noteID: "notification",
        severity: "MEDIUM",
        certainty: "MEDIUM",
        resourceType: "DOCKER",
        resourceName: "c0ffee:node-app [pre|cl|node1|10.0.0.1]",
        shortDescription: "Write below \u2215etc (+)",
        longDescription:
          "File access \u2215usr\u2215bin\u2215python cos-write.py x \u2192 \u2215tmp\u2215out.txt<br><br><b>Policies</b><br>Write below /etc,b/c<br><br><b>Tags</b><br>ctx,fs,x",
        alertQuery: `SELECT * FROM cos://us-south/sf-bucket/${file} STORED AS AVRO LIMIT 500 INTO cos://us-south/sf-bucket/sql-query`
      }
    ])
    expect(batch.ids).toEqual(["c0ffee-1700000000000500"])
    expect(filesUnder(dir)).toEqual([file])
  })

  it("names the host for records without a container", async () => {
    const { value: enc, close } = await openEncoder(attrsFor(freshDir()), new ManualClock(1_700_000_000_000))
    const [occ] = occurrencesOf(enc.encode([event(pe({ ts: T0, ...hostless }), [rule("exec", Priority.High)])]).lines)
    await close()
    expect(occ).toMatchObject({ id: "-1700000000000000", resourceType: "host", resourceName: "host [node1|10.0.0.1]", noteID: "actionable-offense", severity: "HIGH" })
    expect(occ.alertQuery).toContain(`/node1/10.0.0.1/${ymd(T0)}/host_1700000000.avro STORED AS AVRO`)
  })

  it("describes each record type (∕ for /, → between the parts) and telemetry without rules", async () => {
    const { value: enc, close } = await openEncoder(attrsFor(freshDir()))
    const occs = occurrencesOf(
      enc.encode([
        event(pe({ ts: T0 })),
        event(fe({ ts: T0, file: { ...file("/var/log/x"), oid: "01".repeat(20) } })),
        event(ff({ ts: T0, file: { ...file("/data/y"), oid: "02".repeat(20) } })),
        event(nf({ ts: T0, process: proc({ exeArgs: "net.py" }) })),
        event(ke("pod added", { ts: T0 }))
      ]).lines
    )
    await close()
    const details = occs.map((o) => o.longDescription.split("<br>")[0])
    expect(details).toEqual([
      "Process execution \u2215bin\u2215bash \u2192 \u2215usr\u2215bin\u2215python cos-write.py x",
      "Filesystem manipulation \u2215usr\u2215bin\u2215python cos-write.py x \u2192 \u2215var\u2215log\u2215x",
      "File access \u2215usr\u2215bin\u2215python cos-write.py x \u2192 \u2215data\u2215y",
      "Network traffic \u2215usr\u2215bin\u2215python net.py \u2192 172.17.0.2:40000-10.1.2.3:443",
      ""
    ])
    expect(occs.map((o) => o.shortDescription)).toEqual(Array(5).fill("telemetry event"))
    expect(occs[0].longDescription).toBe(`${details[0]}<br><br><b>Policies</b><br><br><br><b>Tags</b><br>`)
    expect(occs[4].resourceType).toBe("host")
  })

  it("F2: maps priorities to LOW, MEDIUM, HIGH and picks the note by severity", async () => {
    expect([Priority.Informational, Priority.Low, Priority.Medium, Priority.High, Priority.Critical].map(severityOfPriority)).toEqual([
      "LOW",
      "LOW",
      "MEDIUM",
      "HIGH",
      "HIGH"
    ])
    const { value: enc, close } = await openEncoder(attrsFor(freshDir()))
    const occs = occurrencesOf(
      enc.encode(
        [Priority.Informational, Priority.Low, Priority.Medium, Priority.High, Priority.Critical].map((p, i) =>
          event(pe({ ts: T0, process: proc({ exeArgs: `p${i}` }) }), [rule(`r${i}`, p)])
        )
      ).lines
    )
    await close()
    expect(occs.map((o) => [o.severity, o.noteID])).toEqual([
      ["LOW", "notification"],
      ["LOW", "notification"],
      ["MEDIUM", "notification"],
      ["HIGH", "actionable-offense"],
      ["HIGH", "actionable-offense"]
    ])
  })

  it("gives occurrences unique ids even within one microsecond", async () => {
    const { value: enc, close } = await openEncoder(attrsFor(freshDir()), new ManualClock(1_700_000_000_000))
    const ids = occurrencesOf(
      enc.encode([0, 1, 2].map((i) => event(pe({ ts: T0, process: proc({ exeArgs: `${i}`, parent: bash }) }), [rule("r")]))).lines
    ).map((o) => o.id)
    await close()
    expect(ids).toEqual(["c0ffee-1700000000000000", "c0ffee-1700000000000001", "c0ffee-1700000000000002"])
  })
})

describe("occurrence encoder: configuration", () => {
  const failWith = async (attrs: Record<string, unknown>) => {
    const e = await Effect.runPromise(Effect.scoped(Effect.flip(makeOccurrenceEncoder(attrs, exporterConfig))))
    return `${e._tag}: ${e.message}`
  }

  it.each([
    ["findings.pool.capacity", "abc"],
    ["findings.pool.capacity", "-1"],
    ["findings.pool.maxage", "1.5"],
    ["findings.pool.maxage", ""]
  ])("rejects %s = %j", async (key, value) => {
    const text = await failWith({ ...attrsFor(freshDir()), [key]: value })
    expect(text).toContain("PipelineConfigError")
    expect(text).toContain(`exporter: ${key} = ${JSON.stringify(value)}: must be a whole number, 0 or more`)
  })

  it("rejects a non-text findings.path", async () => {
    expect(await failWith({ ...attrsFor(freshDir()), "findings.path": { a: 1 } })).toContain("findings.path")
  })
})

describe("event file paths from input values (security review S7)", () => {
  it("node ids, ips and container ids cannot leave findings.path", async () => {
    const { envPath, exportPath, safeSegment } = await import("../../src/services/export/findings/EventFile.js")
    expect(safeSegment("../../../../etc/x")).toBe(".._.._.._.._etc_x")
    expect(safeSegment("..")).toBe("__")
    expect(envPath("prefix", "cluster", "../../etc", "10.0.0.1")).toBe("prefix/cluster/.._.._etc/10.0.0.1")
    expect(exportPath("", 0n, "a/../../b", 7).endsWith("/a_.._.._b_7.avro")).toBe(true)
  })
})
