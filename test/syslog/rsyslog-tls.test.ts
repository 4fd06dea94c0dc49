/**
 * `export: syslog` with `syslog.proto: tls` end to end: the built CLI against real rsyslogd instances
 * serving TLS (gtls driver) with certificates made by `openssl` (test/support/rsyslog.ts): verification
 * against `syslog.tls.ca` and the host name (P6), `syslog.tls.skipverify`, a restart mid-stream.
 *
 * Skipped when rsyslogd is not installed, unless SF_REQUIRE_RSYSLOG=1 (CI), which makes that a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { tempDir } from "../support/cli.js"
import { makeTestPki, type Rsyslog, rsyslogAvailable, startRsyslog, stopAllRsyslog, type TestPki } from "../support/rsyslog.js"
import { APP_NAME, explain, makeTrace, parse, restartMidStream, runSyslog, SAMPLE, SAMPLE_RECORDS, SOURCE, tagged, type Trace } from "./e2e.js"

const available = rsyslogAvailable()

describe.skipIf(!available)("export: syslog to rsyslog over TLS", () => {
  let pki: TestPki
  let t10k: Trace
  let t50k: Trace
  let good: Rsyslog
  let selfSigned: Rsyslog
  let wrongName: Rsyslog

  beforeAll(async () => {
    pki = makeTestPki()
    const dir = tempDir("sf-syslog-tls-")
    ;[good, selfSigned, wrongName, t10k, t50k] = await Promise.all([
      startRsyslog({ tls: pki.server }),
      startRsyslog({ tls: pki.selfSigned }),
      startRsyslog({ tls: pki.wrongName }),
      makeTrace(dir, 10_000, 7),
      makeTrace(dir, 50_000, 8)
    ])
  })

  afterAll(stopAllRsyslog)

  const verified = (s: Rsyslog) => ({ "syslog.proto": "tls", "syslog.host": "localhost", "syslog.port": String(s.tlsPort), "syslog.tls.ca": pki.caCert })

  it("every record of a 10k-record trace arrives, the server verified against syslog.tls.ca and its name", async () => {
    const res = await runSyslog({ ...verified(good), "syslog.tag": "tls10k" }, t10k.path)
    expect(res.code, explain(res)).toBe(0)
    const got = await good.waitFor(10_000, 10_000, tagged("tls10k"))
    expect(got.map((l) => parse(l).msg)).toEqual(t10k.expected)
    expect(parse(got[0])).toMatchObject({ pri: "25", version: "1", hostname: SOURCE, appName: APP_NAME, procId: String(res.pid), msgId: "tls10k" })
  })

  it("syslog.tls.ca adds to the default trust store: NODE_EXTRA_CA_CERTS still counts", async () => {
    // The server's CA comes from NODE_EXTRA_CA_CERTS; syslog.tls.ca names an unrelated one.
    const res = await runSyslog({ ...verified(good), "syslog.tls.ca": pki.selfSigned.cert, "syslog.tag": "extraca" }, SAMPLE, {
      env: { NODE_EXTRA_CA_CERTS: pki.caCert }
    })
    expect(res.code, explain(res)).toBe(0)
    expect(await good.waitFor(SAMPLE_RECORDS, 5000, tagged("extraca"))).toHaveLength(SAMPLE_RECORDS)
  })

  it("a server restarted mid-stream loses nothing", async () => {
    await restartMidStream(good, verified(good), "tlsrestart", t50k)
  })

  it("a certificate that is not trusted is refused (exit 1, clear error); accepted with syslog.tls.skipverify: true", async () => {
    const attrs = { ...verified(selfSigned), "syslog.tag": "selfsigned" }
    const [refused, skipped] = await Promise.all([runSyslog(attrs, SAMPLE), runSyslog({ ...attrs, "syslog.tls.skipverify": true }, SAMPLE)])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(
      `Unable to load pipeline error:  syslog: cannot connect to the syslog server at tls://localhost:${selfSigned.tlsPort}: ` +
        "the server's TLS certificate is not trusted (self-signed certificate); trust its CA with syslog.tls.ca (a PEM file), " +
        "or turn verification off with syslog.tls.skipverify: true"
    )
    expect(skipped.code, explain(skipped)).toBe(0)
    expect(await selfSigned.waitFor(SAMPLE_RECORDS, 5000, tagged("selfsigned"))).toHaveLength(SAMPLE_RECORDS)
  })

  it("a certificate for another name is refused, by -test too (exit 1)", async () => {
    const res = await runSyslog(verified(wrongName), SAMPLE, { test: true })
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(
      /syslog: cannot connect to the syslog server at tls:\/\/localhost:\d+: the server's TLS certificate is not valid for 'localhost' \(Hostname\/IP does not match/
    )
    expect(res.stdout).not.toContain("Health checks: passed")
  })
})
