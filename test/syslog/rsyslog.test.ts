/**
 * `export: syslog` end to end over TCP and UDP: the built `sfprocessor` CLI (reader -> exporter(syslog,
 * json)) against a real rsyslogd started on loopback (test/support/rsyslog.ts). TLS: rsyslog-tls.test.ts.
 *
 * Skipped when rsyslogd is not installed, unless SF_REQUIRE_RSYSLOG=1 (CI), which makes that a failure.
 * `npm run build` first (npm test does).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fileExportPipeline, runCli, tempDir, writePipeline } from "../support/cli.js"
import { freePort, type Rsyslog, rsyslogAvailable, startRsyslog, stopAllRsyslog, udpBufferHonoured, udpDrops } from "../support/rsyslog.js"
import { APP_NAME, explain, makeTrace, parse, restartMidStream, runSyslog, SAMPLE, SAMPLE_RECORDS, SOURCE, tagged, type Trace } from "./e2e.js"

const available = rsyslogAvailable()

describe.skipIf(!available)("export: syslog to rsyslog over TCP and UDP", () => {
  let t10k: Trace
  let t50k: Trace
  let server: Rsyslog

  beforeAll(async () => {
    const dir = tempDir("sf-syslog-e2e-")
    ;[server, t10k, t50k] = await Promise.all([startRsyslog({ tcp: true, udp: true }), makeTrace(dir, 10_000, 5), makeTrace(dir, 50_000, 6)])
  })

  afterAll(stopAllRsyslog)

  const tcp = () => ({ "syslog.host": "127.0.0.1", "syslog.port": String(server.tcpPort) })

  it("TCP: every record of a 10k-record trace arrives, in order, with the exact header and the file exporter's JSON", async () => {
    const t0 = Math.floor(Date.now() / 1000) * 1000
    const res = await runSyslog({ ...tcp(), "syslog.tag": "tcp10k" }, t10k.path, { env: { TZ: "Asia/Kolkata" } })
    expect(res.code, explain(res)).toBe(0)
    const got = await server.waitFor(10_000, 10_000, tagged("tcp10k"))
    expect(got).toHaveLength(10_000)
    const parsed = got.map(parse)
    expect(parsed.map((p) => p.msg)).toEqual(t10k.expected)
    const t1 = Date.now()
    for (const p of parsed) {
      expect(p).toMatchObject({ pri: "25", version: "1", hostname: SOURCE, appName: APP_NAME, procId: String(res.pid), msgId: "tcp10k" })
      expect(p.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$/) // local time (TZ) to the second
      const ts = Date.parse(p.timestamp)
      expect(ts).toBeGreaterThanOrEqual(t0)
      expect(ts).toBeLessThanOrEqual(t1)
    }
    // The whole line, byte for byte.
    expect(got[0]).toBe(`<25>1 ${parsed[0].timestamp} ${SOURCE} ${APP_NAME} ${res.pid} tcp10k - ${t10k.expected[0]}`)
  })

  it("UDP: one datagram per message; every record arrives or is counted as dropped by rsyslog's socket", async () => {
    const dropsBefore = udpDrops(server.udpPort)
    const res = await runSyslog(
      { "syslog.proto": "udp", "syslog.host": "127.0.0.1", "syslog.port": String(server.udpPort), "syslog.tag": "udp10k" },
      t10k.path,
      { env: { TZ: "UTC" } }
    )
    expect(res.code, explain(res)).toBe(0)
    const got = await server.waitFor(10_000, 5000, tagged("udp10k"))
    const dropped = udpDrops(server.udpPort) - dropsBefore
    // UDP guarantees nothing: the kernel drops datagrams when the receiver's buffer is full. What holds:
    // each datagram is one complete, exact message, none twice, and received + dropped = sent.
    const parsed = got.map(parse)
    const msgs = parsed.map((p) => p.msg)
    expect(new Set(msgs).size).toBe(msgs.length)
    const expected = new Set(t10k.expected)
    for (const m of msgs) expect(expected.has(m)).toBe(true)
    for (const p of parsed) {
      expect(p).toMatchObject({ pri: "25", version: "1", hostname: SOURCE, appName: APP_NAME, procId: String(res.pid), msgId: "udp10k" })
      expect(p.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    }
    // (On loopback nothing else drops: the sender waits for each datagram to be handed to the kernel.)
    expect(got.length + dropped).toBe(10_000)
    if (dropped > 0) process.stderr.write(`[syslog tests] UDP: rsyslog's socket dropped ${dropped} of 10000 datagrams (receive buffer full)\n`)
    // With the 64 MiB receive buffer of the test's rsyslog.conf in effect, nothing is lost.
    if (udpBufferHonoured()) expect(dropped).toBe(0)
  })

  it("TCP: a server restarted mid-stream loses nothing", async () => {
    await restartMidStream(server, tcp(), "tcprestart", t50k)
  })

  it("shutdown flushes: with one batch for the whole run, every record is delivered when the CLI exits 0", async () => {
    const res = await runSyslog({ ...tcp(), "syslog.tag": "flush", buffer: "100000" }, t10k.path) // the largest buffer: one batch for the 10k records
    expect(res.code, explain(res)).toBe(0)
    // The CLI exits only after rsyslog closed its side of the connection, i.e. read everything.
    expect((await server.waitFor(10_000, 5000, tagged("flush"))).map((l) => parse(l).msg)).toEqual(t10k.expected)
  })

  it("a server that is down at start: exit 1 with a clear message, in a run and with -test; -test passes when it is up", async () => {
    const port = await freePort()
    const attrs = { "syslog.host": "127.0.0.1", "syslog.port": String(port) }
    const expectedError = `Unable to load pipeline error:  syslog: cannot connect to the syslog server at tcp://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`
    const [down, tested, up] = await Promise.all([
      runSyslog(attrs, SAMPLE),
      runSyslog(attrs, SAMPLE, { test: true }),
      runSyslog(tcp(), SAMPLE, { test: true })
    ])
    expect(down.code).toBe(1)
    expect(down.stderr).toContain(expectedError)
    expect(tested.code).toBe(1)
    expect(tested.stderr).toContain(expectedError)
    expect(up.code, explain(up)).toBe(0)
    expect(up.stdout).toContain("Health checks: passed")
  })

  it("EXPORTER_SYSLOG_HOST / EXPORTER_SYSLOG_PORT override the file's keys", async () => {
    const res = await runSyslog({ "syslog.host": "no-such-host.invalid", "syslog.port": "1", "syslog.tag": "envover" }, SAMPLE, {
      env: { EXPORTER_SYSLOG_HOST: "127.0.0.1", EXPORTER_SYSLOG_PORT: String(server.tcpPort) }
    })
    expect(res.code, explain(res)).toBe(0)
    expect(await server.waitFor(SAMPLE_RECORDS, 5000, tagged("envover"))).toHaveLength(SAMPLE_RECORDS)
  })
})

describe("export: syslog configuration errors (CLI, no server needed)", () => {
  it("a bad syslog.port or syslog.tls.skipverify is exit 1 naming the key; an unknown proto warns and means tcp", async () => {
    const free = await freePort()
    const [port, skip, proto] = await Promise.all([
      runSyslog({ "syslog.port": "51x4" }, SAMPLE),
      runSyslog({ "syslog.proto": "tls", "syslog.tls.skipverify": "yes" }, SAMPLE),
      runSyslog({ "syslog.proto": "tcp+tls", "syslog.host": "127.0.0.1", "syslog.port": String(free) }, SAMPLE, { test: true })
    ])
    expect(port.code).toBe(1)
    expect(port.stderr).toMatch(/Unable to load pipeline error: {2}\S+pipeline\.json: pipeline\[1\] \(exporter\): syslog\.port = "51x4": must be a whole number from 1 to 65535/)
    expect(skip.code).toBe(1)
    expect(skip.stderr).toMatch(/Unable to load pipeline error: {2}\S+pipeline\.json: pipeline\[1\] \(exporter\): syslog\.tls\.skipverify = "yes": must be true or false/)
    expect(proto.code).toBe(1)
    expect(proto.stdout).toMatch(/\[Warn\] .*unknown syslog\.proto 'tcp\+tls', using tcp \(known: tcp, udp, tls\)/)
    expect(proto.stderr).toContain(`at tcp://127.0.0.1:${free}:`)
  })

  it("syslog keys are not validated when another transport is selected (P2)", async () => {
    const dir = tempDir()
    const out = path.join(dir, "o.jsonl")
    const config = fileExportPipeline(out, { "syslog.port": "nope", "syslog.tls.skipverify": "maybe" })
    const res = await runCli(["-config", writePipeline(dir, config), "-driver", "file", SAMPLE])
    expect(res.code, explain(res)).toBe(0)
    expect(fs.existsSync(out)).toBe(true)
  })
})
