/**
 * The syslog wire format (pipeline.md §11.4) and the `syslog.*` keys (§11.1, P6, P19), without a server.
 */
import { Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import { APP_NAME_MAX, appNameOf, makeFormatter, programName, rfc3339Local } from "../../src/services/export/transports/syslog/Rfc5424.js"
import { decodeSyslogConfig } from "../../src/services/export/transports/syslog/SyslogConfig.js"

describe("RFC 3339 timestamps (Go time.RFC3339, local time to the second)", () => {
  const t = Date.UTC(2024, 4, 1, 16, 0, 7, 999) // 2024-05-01T16:00:07.999Z

  it("writes Z when the local offset is zero", () => {
    expect(rfc3339Local(new Date(t), 0)).toBe("2024-05-01T16:00:07Z")
  })

  it("writes the local wall clock and a ±hh:mm offset otherwise", () => {
    expect(rfc3339Local(new Date(t), -240)).toBe("2024-05-01T12:00:07-04:00")
    expect(rfc3339Local(new Date(t), 330)).toBe("2024-05-01T21:30:07+05:30")
    expect(rfc3339Local(new Date(t), -570)).toBe("2024-05-01T06:30:07-09:30")
    // Across a day and a year boundary.
    expect(rfc3339Local(new Date(Date.UTC(2023, 11, 31, 23, 30, 0)), 60)).toBe("2024-01-01T00:30:00+01:00")
    expect(rfc3339Local(new Date(Date.UTC(2024, 0, 1, 0, 30, 0)), -60)).toBe("2023-12-31T23:30:00-01:00")
  })

  it("uses the process's time zone by default", () => {
    const d = new Date(t)
    const off = -d.getTimezoneOffset()
    expect(rfc3339Local(d)).toBe(rfc3339Local(d, off))
  })
})

describe("APP-NAME", () => {
  it("is the program path, its last 48 characters when longer (srslog truncateStartStr)", () => {
    expect(appNameOf("/usr/local/sysflow/bin/sfprocessor")).toBe("/usr/local/sysflow/bin/sfprocessor")
    const long = "/opt/very/long/installation/prefix/node_modules/sfprocessor/bin/sfprocessor.js"
    expect(appNameOf(long)).toBe(long.slice(-APP_NAME_MAX))
    expect(appNameOf(long)).toHaveLength(48)
    expect(appNameOf(long)).toBe("/prefix/node_modules/sfprocessor/bin/sfprocessor.js".slice(-48))
  })

  it("is process.argv[1] with characters outside printable ASCII replaced, or sfprocessor", () => {
    expect(programName("/usr/local/bin/sfprocessor")).toBe("/usr/local/bin/sfprocessor")
    expect(programName("/home/Jane Doe/bin/sfprocessor.js")).toBe("/home/Jane_Doe/bin/sfprocessor.js")
    expect(programName("/opt/é/sfp")).toBe("/opt/_/sfp")
    expect(programName("")).toBe("sfprocessor")
    expect(programName()).toBe(programName(process.argv[1]))
  })
})

describe("message format", () => {
  const fields = { hostname: "node-1", appName: "/usr/local/bin/sfprocessor", procId: 4242, msgId: "sysflow" }
  const at = Date.UTC(2024, 4, 1, 16, 0, 7)

  it("is <25>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG\\n", () => {
    const f = makeFormatter(fields, { now: () => at, offsetMinutes: () => -240 })
    expect(f.format('{"a":1}')).toBe('<25>1 2024-05-01T12:00:07-04:00 node-1 /usr/local/bin/sfprocessor 4242 sysflow - {"a":1}\n')
  })

  it("appends \\n only when the message does not end with one", () => {
    const f = makeFormatter(fields, { now: () => at, offsetMinutes: () => 0 })
    expect(f.format("x\n")).toBe("<25>1 2024-05-01T16:00:07Z node-1 /usr/local/bin/sfprocessor 4242 sysflow - x\n")
    expect(f.format("")).toBe("<25>1 2024-05-01T16:00:07Z node-1 /usr/local/bin/sfprocessor 4242 sysflow - \n")
  })

  it("takes the time per message (to the second)", () => {
    let now = at
    const f = makeFormatter(fields, { now: () => now, offsetMinutes: () => 0 })
    expect(f.format("a")).toContain(" 2024-05-01T16:00:07Z ")
    now += 999 - 7 // same second
    expect(f.format("a")).toContain(" 2024-05-01T16:00:07Z ")
    now += 1000
    expect(f.format("a")).toContain(" 2024-05-01T16:00:08Z ")
  })

  it("keeps multi-byte content as is (UTF-8 on the wire)", () => {
    const f = makeFormatter(fields, { now: () => at, offsetMinutes: () => 0 })
    expect(f.format('{"exe":"/usr/bin/caf\u00e9"}').endsWith(' - {"exe":"/usr/bin/caf\u00e9"}\n')).toBe(true)
  })
})

describe("syslog.* keys", () => {
  const decode = (attrs: Record<string, unknown>) => Effect.runSync(Effect.either(decodeSyslogConfig(attrs, () => "the-host")))
  const ok = (attrs: Record<string, unknown>) => {
    const r = decode(attrs)
    if (Either.isLeft(r)) throw new Error(r.left.message)
    return r.right
  }
  const err = (attrs: Record<string, unknown>) => {
    const r = decode(attrs)
    if (Either.isRight(r)) throw new Error("expected a config error")
    return r.left.message
  }

  it("defaults: tcp, tag sysflow, source = OS host name, localhost:514, verification on", () => {
    expect(ok({})).toEqual({
      proto: "tcp",
      host: "localhost",
      port: 514,
      source: "the-host",
      tag: "sysflow",
      skipVerify: false,
      caFile: undefined,
      warnings: []
    })
  })

  it("reads every key", () => {
    const c = ok({
      "syslog.proto": "tls",
      "syslog.tag": "sf",
      "syslog.source": "edge-7",
      "syslog.host": "logs.example.net",
      "syslog.port": "6514",
      "syslog.tls.skipverify": "false",
      "syslog.tls.ca": "/etc/ssl/ca.pem"
    })
    expect(c).toMatchObject({ proto: "tls", tag: "sf", source: "edge-7", host: "logs.example.net", port: 6514, caFile: "/etc/ssl/ca.pem", warnings: [] })
  })

  it("an unknown proto means tcp with a warning (P19); the comparison is exact, as in the reference", () => {
    for (const p of ["tcp+tls", "TCP", "UDP", "ssl", ""]) {
      const c = ok({ "syslog.proto": p })
      expect(c.proto).toBe("tcp")
      expect(c.warnings).toEqual([`unknown syslog.proto '${p}', using tcp (known: tcp, udp, tls)`])
    }
    expect(ok({ "syslog.proto": "udp" }).proto).toBe("udp")
  })

  it("port: Go Atoi syntax, 1..65535, else a config error naming the key", () => {
    expect(ok({ "syslog.port": "+601" }).port).toBe(601)
    expect(ok({ "syslog.port": "00514" }).port).toBe(514)
    expect(ok({ "syslog.port": 1514 }).port).toBe(1514)
    expect(err({ "syslog.port": "abc" })).toBe('exporter: syslog.port = "abc": must be a whole number from 1 to 65535')
    expect(err({ "syslog.port": "514 " })).toMatch(/must be a whole number/)
    expect(err({ "syslog.port": "5.5" })).toMatch(/must be a whole number/)
    expect(err({ "syslog.port": "0" })).toBe('exporter: syslog.port = "0": must be a whole number from 1 to 65535')
    expect(err({ "syslog.port": "70000" })).toMatch(/from 1 to 65535/)
    expect(err({ "syslog.port": "-1" })).toMatch(/from 1 to 65535/)
  })

  it("skipverify: true/false in any case or a JSON boolean; anything else is a config error (P6)", () => {
    for (const v of ["true", "TRUE", "True", true]) expect(ok({ "syslog.proto": "tls", "syslog.tls.skipverify": v }).skipVerify).toBe(true)
    for (const v of ["false", "False", false]) expect(ok({ "syslog.proto": "tls", "syslog.tls.skipverify": v }).skipVerify).toBe(false)
    for (const v of ["yes", "1", "", "on"]) {
      expect(err({ "syslog.proto": "tls", "syslog.tls.skipverify": v })).toBe(`exporter: syslog.tls.skipverify = "${v}": must be true or false`)
    }
  })

  it("reports every bad key at once; a value that is not text is an error", () => {
    expect(err({ "syslog.port": "x", "syslog.tls.skipverify": "no" })).toBe(
      'exporter: syslog.port = "x": must be a whole number from 1 to 65535; syslog.tls.skipverify = "no": must be true or false'
    )
    expect(err({ "syslog.host": { a: 1 } })).toBe('exporter: syslog.host = {"a":1}: must be a string')
    expect(err({ "syslog.host": null })).toBe("exporter: syslog.host = null: must be a string")
  })

  it("an empty tag means the program name (srslog: os.Args[0]); an empty host localhost; an empty source the host name", () => {
    expect(ok({ "syslog.tag": "" }).tag).toBe(programName())
    expect(ok({ "syslog.host": "" }).host).toBe("localhost")
    expect(ok({ "syslog.source": "" }).source).toBe("the-host")
  })

  it("TLS keys with another proto are ignored with a warning", () => {
    expect(ok({ "syslog.proto": "udp", "syslog.tls.ca": "/x.pem" }).warnings).toEqual([
      "syslog.tls.ca and syslog.tls.skipverify only apply to syslog.proto tls (this exporter uses udp)"
    ])
  })
})
