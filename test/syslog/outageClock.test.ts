/**
 * The syslog transport's outage handling on Effect's Clock, driven by TestClock: the reconnect backoff
 * (100 ms doubling to 5 s), the warning when an outage starts and every 30 s after, `/healthz` detail
 * and the recovery line, with no real waiting. The server is a real TCP listener on loopback.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Logger, LogLevel, TestClock } from "effect"
import * as net from "node:net"
import type { ExporterConfig } from "../../src/services/export/ExporterConfig.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { makeSyslogTransport } from "../../src/services/export/transports/SyslogTransport.js"

const exporterConfig = { export: "syslog", format: "json", buffer: 0, jsonSchemaVersion: "5", filePath: "", warnings: [] } as unknown as ExporterConfig

const listen = (port = 0) =>
  Effect.promise(
    () =>
      new Promise<Server>((resolve) => {
        const received: Buffer[] = []
        const sockets: net.Socket[] = []
        const server = net.createServer((s) => {
          sockets.push(s)
          s.on("data", (d) => received.push(d))
          s.on("error", () => {})
        })
        server.listen(port, "127.0.0.1", () => resolve({ server, sockets, port: (server.address() as net.AddressInfo).port, received }))
      })
  )
interface Server {
  readonly server: net.Server
  readonly sockets: net.Socket[]
  readonly port: number
  readonly received: Buffer[]
}
/** Stops listening and drops every connection. */
const stop = (s: Server) =>
  Effect.promise(() => new Promise<void>((r) => { for (const sock of s.sockets) sock.destroy(); s.server.close(() => r()) }))

/** Real time passing (socket events), outside the TestClock. */
const realPause = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/**
 * Waits (in real time) until `failures()` reached `n` (the attempt ended) and the transport sleeps
 * `ms` on the TestClock. (The sleeps of finished connect timeouts stay listed until their time passes,
 * so the backoff is recognised by its length.)
 */
const sleepsAfter = (failures: () => number, n: number, ms: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000; i++) {
      const now = yield* TestClock.currentTimeMillis
      const sleeps = yield* TestClock.sleeps()
      if (failures() >= n && Chunk.some(sleeps, (at) => at === now + ms)) return
      yield* realPause(5)
    }
    const now = yield* TestClock.currentTimeMillis
    const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((at) => at - now)
    return yield* Effect.die(new Error(`after failure ${n} (${failures()} seen): no ${ms}-ms sleep, only ${JSON.stringify(sleeps)}`))
  })

describe("syslog outage timeline (TestClock)", () => {
  it.scoped("backs off 100 ms doubling to 5 s, warns at the start and every 30 s, and logs the recovery with the outage's length", () => {
    const logs: string[] = []
    const logger = Logger.make(({ logLevel, message }) => void logs.push(`[${logLevel.label}] ${(Array.isArray(message) ? message : [message]).join(" ")}`))
    return Effect.gen(function* () {
      const first = yield* listen()
      const second = yield* Effect.scoped(
        Effect.gen(function* () {
          const t = yield* makeSyslogTransport({ "syslog.host": "127.0.0.1", "syslog.port": String(first.port), "syslog.source": "h" }, exporterConfig)
          yield* stop(first)
          yield* realPause(50) // the sender sees the connection go

          // Every failed attempt logs: a warning (the first, then every 30 s) or a trace line.
          const failures = () => logs.filter((l) => /cannot deliver|attempt \d+ to reach/.test(l)).length
          const sending = yield* Effect.fork(t.send({ lines: ['{"n":1}'] }))
          const backoff = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000, 5000]
          for (const [i, wait] of backoff.entries()) {
            yield* sleepsAfter(failures, i + 1, wait)
            yield* TestClock.adjust(wait)
          }
          expect(t.status!().ok).toBe(false)
          expect(t.status!().detail).toMatch(new RegExp(`^cannot deliver to tcp://127\\.0\\.0\\.1:${first.port} for 3\\d s: .*ECONNREFUSED.*; retrying$`))
          const warnings = logs.filter((l) => l.startsWith("[WARN]"))
          expect(warnings[0]).toMatch(/cannot deliver to .*ECONNREFUSED.*reconnecting with backoff \(1 messages waiting\)/)
          expect(warnings[1]).toMatch(/still cannot deliver to .* after 3[0-9] s: .*retrying every 5 s/)
          expect(warnings).toHaveLength(2)

          // The server comes back on the same port: the next attempt delivers, and the outage is reported.
          const second = yield* listen(first.port)
          yield* sleepsAfter(failures, backoff.length + 1, 5000)
          yield* TestClock.adjust(5000)
          yield* Fiber.join(sending)
          expect(t.status!().ok).toBe(true)
          const recovered = logs.find((l) => l.includes("again after"))
          expect(recovered).toMatch(new RegExp(`delivering to tcp://127\\.0\\.0\\.1:${first.port} again after (\\d+\\.\\d) s \\((\\d+) failed attempts\\)`))
          // The outage began at the first failure, at TestClock time 0.
          const seconds = Number(/again after (\d+\.\d) s/.exec(recovered!)![1])
          expect(seconds).toBe(Number(((yield* TestClock.currentTimeMillis) / 1000).toFixed(1)))
          return second
        })
      ) // the transport closes gracefully here, while the server still listens
      expect(Buffer.concat(second.received).toString()).toContain('{"n":1}')
      yield* stop(second)
    }).pipe(
      Effect.provide(Layer.mergeAll(TerminalOutput.capture([]), Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All)))
    )
  })
})
