/**
 * The syslog transport against in-process servers (node:net, node:dgram, node:tls): exact bytes on the
 * wire, connect-at-init errors, backpressure, reconnect and re-send after a reset or a close, TLS
 * verification. The same behaviours against a real rsyslog are in rsyslog.test.ts.
 */
import { Effect, Layer, Logger, LogLevel, type Scope } from "effect"
import { execFileSync } from "node:child_process"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import * as tls from "node:tls"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { ExporterConfig } from "../../src/services/export/ExporterConfig.js"
import { TerminalOutput, type Transport } from "../../src/services/export/Transport.js"
import { appNameOf, programName } from "../../src/services/export/transports/syslog/Rfc5424.js"
import { kernelBufferBound, StreamSender } from "../../src/services/export/transports/syslog/StreamSender.js"
import { makeSyslogTransport } from "../../src/services/export/transports/SyslogTransport.js"
import { tempDir } from "../support/cli.js"
import { freePort, makeTestPki, type TestPki } from "../support/rsyslog.js"

const exporterConfig = { export: "syslog", format: "json", buffer: 0, jsonSchemaVersion: "5", filePath: "", warnings: [] } as unknown as ExporterConfig

const HEADER = new RegExp(
  `^<25>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:Z|[+-]\\d\\d:\\d\\d) src-host ${escape(appNameOf(programName()))} ${process.pid} sftag - `
)
function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
}

/** Runs `use` with a transport made from `attrs`, closing it (gracefully) afterwards; collects logs. */
const withTransport = async <A>(
  attrs: Record<string, unknown>,
  use: (t: Transport) => Effect.Effect<A, unknown, Scope.Scope>
): Promise<{ result: A; logs: string[] }> => {
  const logs: string[] = []
  const logger = Logger.make(({ logLevel, message }) => void logs.push(`[${logLevel.label}] ${(Array.isArray(message) ? message : [message]).join(" ")}`))
  const program = Effect.scoped(Effect.flatMap(makeSyslogTransport({ "syslog.source": "src-host", "syslog.tag": "sftag", ...attrs }, exporterConfig), use))
  const result = await Effect.runPromise(
    program.pipe(
      Effect.provide(Layer.merge(TerminalOutput.capture([]), Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All))))
    ) as Effect.Effect<A>
  )
  return { result, logs }
}

/** The error a transport fails to build with. */
const initError = async (attrs: Record<string, unknown>): Promise<string> => {
  const r = await Effect.runPromise(
    Effect.scoped(Effect.flip(makeSyslogTransport({ "syslog.source": "src-host", ...attrs }, exporterConfig))).pipe(
      Effect.provide(TerminalOutput.capture([])),
      Effect.provide(Logger.remove(Logger.defaultLogger))
    )
  )
  return (r as Error).message
}

interface TcpServer {
  readonly port: number
  /** Everything received, per connection. */
  readonly received: () => string[]
  readonly connections: () => net.Socket[]
  readonly close: () => Promise<void>
}

const tcpServer = async (onConnection?: (sock: net.Socket, index: number, server: net.Server) => void, port = 0): Promise<TcpServer> => {
  const conns: Buffer[][] = []
  const socks: net.Socket[] = []
  const srv = net.createServer((s) => {
    const i = conns.length
    conns.push([])
    socks.push(s)
    s.on("data", (d) => conns[i].push(d))
    s.on("error", () => {})
    onConnection?.(s, i, srv)
  })
  await new Promise<void>((r) => srv.listen(port, "127.0.0.1", r))
  return {
    port: (srv.address() as net.AddressInfo).port,
    received: () => conns.map((c) => Buffer.concat(c).toString("utf8")),
    connections: () => socks,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy()
        srv.close(() => r())
      })
  }
}

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `{"id":${from + i},"pad":"${"x".repeat(200)}"}`)
const bodies = (text: string) =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.slice(l.indexOf(" - ") + 3))
const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

describe("syslog over TCP (in-process server)", () => {
  it("writes the exact RFC 5424 messages, LF-framed, in order, and closes gracefully", async () => {
    const srv = await tcpServer()
    const { result } = await withTransport({ "syslog.host": "127.0.0.1", "syslog.port": String(srv.port) }, (t) =>
      Effect.gen(function* () {
        yield* t.test
        return yield* t.send({ lines: ['{"a":1}', '{"b":"caf\u00e9"}', "ends-with-lf\n"] })
      })
    )
    expect(result).toBe(0)
    const [text] = srv.received()
    const lines = text.split("\n")
    expect(lines).toHaveLength(4)
    expect(lines[3]).toBe("")
    expect(lines[0]).toMatch(HEADER)
    expect(lines.slice(0, 3).map((l) => l.replace(HEADER, ""))).toEqual(['{"a":1}', '{"b":"caf\u00e9"}', "ends-with-lf"])
    expect(srv.received()).toHaveLength(1)
    await srv.close()
  })

  it("a server that is down at init is a clear error", async () => {
    const port = await freePort()
    expect(await initError({ "syslog.host": "127.0.0.1", "syslog.port": String(port) })).toBe(
      `syslog: cannot connect to the syslog server at tcp://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`
    )
  })

  it("send resolves only once the kernel took the data (backpressure)", async () => {
    let paused: net.Socket | undefined
    const srv = await tcpServer((s) => {
      s.pause()
      paused = s
    })
    const big = Array.from({ length: 40_000 }, (_, i) => `{"i":${i},"pad":"${"y".repeat(1000)}"}`) // ~40 MB
    const { result } = await withTransport({ "syslog.host": "127.0.0.1", "syslog.port": String(srv.port) }, (t) =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(t.send({ lines: big }))
        yield* sleep(400)
        const early = fiber.unsafePoll()
        paused!.resume()
        const dropped = yield* fiber.await
        return { early, dropped }
      })
    )
    expect(result.early).toBeNull() // still waiting while the server did not read
    expect(result.dropped._tag).toBe("Success")
    expect(bodies(srv.received().join(""))).toHaveLength(big.length)
    await srv.close()
  })

  it("a connection reset mid-stream: reconnects with backoff and re-sends, nothing is lost", async () => {
    let stopped = false
    const srv = await tcpServer((s, i, server) => {
      if (i !== 0) return
      let got = 0
      s.on("data", (d) => {
        got += d.length
        if (got > 300_000 && !stopped) {
          // Stop reading, drop the connection with unread data (RST) and stop listening for a while.
          stopped = true
          s.pause()
          setTimeout(() => {
            s.resetAndDestroy()
            server.close()
            setTimeout(() => server.listen(srv.port, "127.0.0.1"), 400)
          }, 50)
        }
      })
    })
    const { logs } = await withTransport({ "syslog.host": "127.0.0.1", "syslog.port": String(srv.port) }, (t) =>
      Effect.gen(function* () {
        for (let b = 0; b < 20; b++) yield* t.send({ lines: ids(500, b * 500) })
      })
    )
    const got = bodies(srv.received().join(""))
    const distinct = new Set(got)
    expect(distinct.size).toBe(10_000)
    for (const line of ids(10_000)) expect(distinct.has(line)).toBe(true)
    expect(srv.received().length).toBeGreaterThanOrEqual(2)
    expect(logs.some((l) => /^\[WARN\] syslog: cannot deliver to tcp:\/\/127\.0\.0\.1:\d+: .*; reconnecting with backoff \(\d+ messages waiting\)$/.test(l))).toBe(true)
    expect(logs.some((l) => /^\[INFO\] syslog: connected to tcp:\/\/127\.0\.0\.1:\d+ again .*re-sending the last \d+ messages$/.test(l))).toBe(true)
    // Counts only: no message content in the logs.
    expect(logs.some((l) => l.includes('"id"'))).toBe(false)
    await srv.close()
  })

  it("status (for /healthz) fails while the server cannot be reached, and recovers", async () => {
    const srv = await tcpServer()
    const server = net.createServer()
    const { result } = await withTransport({ "syslog.host": "127.0.0.1", "syslog.port": String(srv.port) }, (t) =>
      Effect.gen(function* () {
        const before = t.status!()
        yield* Effect.promise(() => srv.close()) // drops the connection and stops listening
        yield* sleep(100) // (a loss not seen yet when writing is covered by the replay window, tested below)
        const fiber = yield* Effect.fork(t.send({ lines: ids(5) }))
        yield* sleep(400)
        const during = t.status!()
        yield* Effect.promise(() => new Promise<void>((r) => server.listen(srv.port, "127.0.0.1", () => r())))
        const received: Buffer[] = []
        server.on("connection", (s) => s.on("data", (d) => received.push(d)))
        yield* fiber.await
        return { before, during, after: t.status!(), received: () => Buffer.concat(received).toString() }
      })
    )
    expect(result.before).toEqual({ ok: true, detail: `connected to tcp://127.0.0.1:${srv.port}` })
    expect(result.during.ok).toBe(false)
    expect(result.during.detail).toMatch(new RegExp(`^cannot deliver to tcp://127\\.0\\.0\\.1:${srv.port} for \\d+ s: .*ECONNREFUSED.*; retrying$`))
    expect(result.after.ok).toBe(true)
    await new Promise((r) => server.close(r))
    expect(bodies(result.received())).toEqual(ids(5))
  })

  it("a server that closes an idle connection: the next batch goes to a new connection, none into the closed one", async () => {
    const srv = await tcpServer((s, i) => {
      if (i === 0) setTimeout(() => s.end(), 1200)
    })
    await withTransport({ "syslog.host": "127.0.0.1", "syslog.port": String(srv.port) }, (t) =>
      Effect.gen(function* () {
        yield* t.send({ lines: ids(10) })
        // The server closes meanwhile, more than the replay window (1 s) after the first batch, which is
        // therefore not re-sent.
        yield* sleep(1500)
        yield* t.send({ lines: ids(10, 10) })
      })
    )
    const per = srv.received().map(bodies)
    expect(per).toEqual([ids(10), ids(10, 10)])
  })

  it("messages accepted just before the server closed are re-sent (at least once)", async () => {
    const srv = await tcpServer((s, i) => {
      if (i === 0) {
        // Read the first message, then stop reading and close with the rest unread (RST).
        s.once("data", () => {
          s.pause()
          setTimeout(() => s.resetAndDestroy(), 30)
        })
      }
    })
    await withTransport({ "syslog.host": "127.0.0.1", "syslog.port": String(srv.port) }, (t) =>
      Effect.gen(function* () {
        yield* t.send({ lines: ids(3) })
        yield* sleep(100)
        yield* t.send({ lines: ids(3, 3) })
      })
    )
    const all = srv.received().flatMap(bodies)
    for (const line of ids(6)) expect(all).toContain(line)
    await srv.close()
  })
})

describe("replay window (StreamSender)", () => {
  it("bounds the bytes kept by the kernel's socket buffer limits (tcp_wmem + tcp_rmem), 8..64 MiB", () => {
    const procs = (w: string, r: string) => (f: string) => (f.endsWith("tcp_wmem") ? w : r)
    expect(kernelBufferBound(procs("4096\t16384\t4194304\n", "4096\t131072\t6291456\n"))).toBe(10 * 1024 * 1024)
    expect(kernelBufferBound(procs("4096 16384 65536", "4096 16384 65536"))).toBe(8 * 1024 * 1024)
    expect(kernelBufferBound(procs("1 1 1073741824", "1 1 1073741824"))).toBe(64 * 1024 * 1024)
    expect(kernelBufferBound(() => { throw new Error("no /proc") })).toBe(64 * 1024 * 1024)
    expect(kernelBufferBound(procs("garbage", "4096 131072 6291456"))).toBe(64 * 1024 * 1024)
  })

  it("keeps what was accepted in the last second without backpressure, and re-sends exactly that after a loss", async () => {
    let now = 1_000_000
    const srv = await tcpServer()
    const sender = new StreamSender(
      { proto: "tcp", host: "127.0.0.1", port: srv.port },
      () => now,
      { replayMs: 1000, replayBytes: 1 << 20, stallMs: 100 }
    )
    await sender.connect()
    const chunk = (text: string) => ({ data: Buffer.from(text), messages: 1 })
    await sender.write(chunk("old\n"))
    now += 1500
    await sender.write(chunk("recent\n"))
    now += 200
    await sender.write(chunk("newest\n"))
    expect(sender.keptMessages).toBe(2) // "old" was accepted 1.7 s ago with no backpressure since
    // The server resets the connection: what is kept goes to the replay queue, in order.
    await new Promise((r) => setTimeout(r, 50))
    srv.connections()[0].resetAndDestroy()
    for (let i = 0; i < 100 && sender.isOpen; i++) await new Promise((r) => setTimeout(r, 10))
    expect(sender.isOpen).toBe(false)
    expect(sender.replayMessages).toBe(2)
    expect(sender.nextReplay()?.data.toString()).toBe("recent\n")
    sender.replayed()
    expect(sender.nextReplay()?.data.toString()).toBe("newest\n")
    sender.drop()
    await srv.close()
  })

  it("keeps everything up to replayBytes while the server is not keeping up", async () => {
    let now = 1_000_000
    const srv = await tcpServer((s) => s.pause())
    const sender = new StreamSender(
      { proto: "tcp", host: "127.0.0.1", port: srv.port },
      () => now,
      { replayMs: 1000, replayBytes: 256 << 20, stallMs: 100 }
    )
    await sender.connect()
    const big = { data: Buffer.alloc(1 << 20, 97), messages: 1 }
    // Write until the kernel pushes back (the server reads nothing), with time passing.
    let writes = 0
    for (; writes < 200; writes++) {
      now += 500
      const pending = sender.write(big)
      const raced = await Promise.race([pending.then(() => "done"), new Promise((r) => setTimeout(() => r("blocked"), 200))])
      if (raced === "blocked") {
        srv.connections()[0].resetAndDestroy()
        await pending.catch(() => undefined)
        break
      }
    }
    expect(writes).toBeLessThan(200)
    // Every chunk accepted since the first backpressure is kept, however old by the clock.
    expect(sender.replayMessages).toBeGreaterThanOrEqual(writes - 2)
    sender.drop()
    await srv.close()
  })
})

describe("syslog over UDP (in-process server)", () => {
  const udpServer = async () => {
    const got: Buffer[] = []
    const s = dgram.createSocket("udp4")
    s.on("message", (m) => got.push(m))
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", r))
    return { port: s.address().port, got, close: () => new Promise<void>((r) => s.close(() => r())) }
  }
  const waitFor = async (got: unknown[], n: number) => {
    for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10))
  }

  it("sends one datagram per message, LF included", async () => {
    const srv = await udpServer()
    const { result } = await withTransport({ "syslog.proto": "udp", "syslog.host": "127.0.0.1", "syslog.port": String(srv.port) }, (t) =>
      Effect.gen(function* () {
        yield* t.test
        return yield* t.send({ lines: ['{"a":1}', '{"b":2}'] })
      })
    )
    expect(result).toBe(0)
    await waitFor(srv.got, 2)
    const texts = srv.got.map((b) => b.toString("utf8"))
    expect(texts).toHaveLength(2)
    expect(texts[0]).toMatch(HEADER)
    expect(texts.map((t) => t.replace(HEADER, ""))).toEqual(['{"a":1}\n', '{"b":2}\n'])
    await srv.close()
  })

  it("drops (and counts) a message larger than a datagram; the others go out; the log has sizes, not contents", async () => {
    const srv = await udpServer()
    const huge = `{"secret":"${"s".repeat(70_000)}"}`
    const { result, logs } = await withTransport({ "syslog.proto": "udp", "syslog.host": "127.0.0.1", "syslog.port": String(srv.port) }, (t) =>
      t.send({ lines: ['{"a":1}', huge, '{"b":2}'] })
    )
    expect(result).toBe(1)
    await waitFor(srv.got, 2)
    expect(srv.got.map((b) => b.toString("utf8").replace(HEADER, ""))).toEqual(['{"a":1}\n', '{"b":2}\n'])
    const warning = logs.find((l) => l.includes("too large for a UDP datagram"))
    expect(warning).toMatch(/dropped 1 messages too large for a UDP datagram \(the largest was \d+ bytes; at most 65507 fit\)/)
    expect(logs.some((l) => l.includes("secret"))).toBe(false)
    await srv.close()
  })

  it("a host that does not resolve is an init error", async () => {
    expect(await initError({ "syslog.proto": "udp", "syslog.host": "no-such-host.invalid" })).toMatch(
      /^syslog: cannot resolve syslog.host 'no-such-host.invalid': .*ENOTFOUND/
    )
  })
})

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

describe.skipIf(!hasOpenssl)("syslog over TLS (in-process server)", () => {
  let pki: TestPki
  beforeAll(() => {
    pki = makeTestPki()
  })

  const tlsServer = async (files: { cert: string; key: string }) => {
    const got: Buffer[] = []
    const srv = tls.createServer({ cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) }, (s) => {
      s.on("data", (d) => got.push(d))
      s.on("error", () => {})
    })
    srv.on("tlsClientError", () => {})
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r))
    return { port: (srv.address() as net.AddressInfo).port, text: () => Buffer.concat(got).toString("utf8"), close: () => new Promise<void>((r) => srv.close(() => r())) }
  }
  const servers: Array<{ close: () => Promise<void> }> = []
  afterAll(async () => {
    for (const s of servers) await s.close()
  })

  it("verifies the server against syslog.tls.ca and its name (syslog.host), then sends the exact bytes", async () => {
    const srv = await tlsServer(pki.server)
    servers.push(srv)
    for (const host of ["localhost", "127.0.0.1"]) {
      await withTransport({ "syslog.proto": "tls", "syslog.host": host, "syslog.port": String(srv.port), "syslog.tls.ca": pki.caCert }, (t) =>
        t.send({ lines: [`{"host":"${host}"}`] })
      )
    }
    const lines = srv.text().split("\n").filter((l) => l !== "")
    expect(lines.map((l) => l.replace(HEADER, ""))).toEqual(['{"host":"localhost"}', '{"host":"127.0.0.1"}'])
    expect(lines[0]).toMatch(HEADER)
  })

  it("refuses a certificate that is not trusted, with a hint; accepts it with skipverify", async () => {
    const srv = await tlsServer(pki.selfSigned)
    servers.push(srv)
    const attrs = { "syslog.proto": "tls", "syslog.host": "localhost", "syslog.port": String(srv.port), "syslog.tls.ca": pki.caCert }
    expect(await initError(attrs)).toBe(
      `syslog: cannot connect to the syslog server at tls://localhost:${srv.port}: the server's TLS certificate is not trusted (self-signed certificate); ` +
        "trust its CA with syslog.tls.ca (a PEM file), or turn verification off with syslog.tls.skipverify: true"
    )
    // Without syslog.tls.ca: Node's default trust store does not know it either.
    expect(await initError({ ...attrs, "syslog.tls.ca": "" })).toMatch(/not trusted \(self-signed certificate\)/)
    await withTransport({ ...attrs, "syslog.tls.skipverify": "true" }, (t) => t.send({ lines: ['{"skip":1}'] }))
    expect(srv.text()).toMatch(/ - \{"skip":1\}\n$/)
  })

  it("refuses a certificate for another host name", async () => {
    const srv = await tlsServer(pki.wrongName)
    servers.push(srv)
    const msg = await initError({ "syslog.proto": "tls", "syslog.host": "localhost", "syslog.port": String(srv.port), "syslog.tls.ca": pki.caCert })
    expect(msg).toMatch(/^syslog: cannot connect to the syslog server at tls:\/\/localhost:\d+: the server's TLS certificate is not valid for 'localhost' \(Hostname\/IP does not match certificate's altnames: .*\); trust its CA/)
  })

  it("a CA file that cannot be read or holds no certificate is an init error", async () => {
    const dir = tempDir()
    const empty = path.join(dir, "empty.pem")
    fs.writeFileSync(empty, "not a certificate\n")
    expect(await initError({ "syslog.proto": "tls", "syslog.tls.ca": path.join(dir, "missing.pem") })).toMatch(/^syslog: syslog.tls.ca: cannot read .*missing\.pem: ENOENT/)
    expect(await initError({ "syslog.proto": "tls", "syslog.tls.ca": empty })).toBe(`syslog: syslog.tls.ca: ${empty} holds no PEM certificate`)
  })
})
