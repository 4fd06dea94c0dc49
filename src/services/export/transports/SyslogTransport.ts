/**
 * `export: syslog` (pipeline.md §11.1, §11.4; decisions P5, P6, P19): each encoded record becomes one
 * RFC 5424 message in the reference's exact format (syslog/Rfc5424.ts), sent over TCP, TLS or UDP.
 *
 * * TCP and TLS connect at init, so a server that is down (or a certificate that is refused) fails the
 *   load with exit 1, and `-test` checks it (P5). UDP resolves the host at init.
 * * TLS verifies the server's certificate and name (P6) against Node's default trust store plus
 *   `NODE_EXTRA_CA_CERTS` and `syslog.tls.ca`; `syslog.tls.skipverify: true` turns verification off.
 * * `send` resolves once every message was accepted by the kernel (backpressure). A failed write or a
 *   connection the server closed reconnects with exponential backoff (100 ms doubling to 5 s, for as
 *   long as it takes) and retries; recently accepted messages are re-sent after a reconnect
 *   (syslog/StreamSender.ts), so over TCP and TLS a restarted server loses nothing (some messages near
 *   the restart may arrive twice).
 * * At shutdown the connection is closed gracefully and the server's own close awaited, which confirms
 *   that it read everything.
 *
 * Message contents are never logged (they may hold command lines): only counts.
 */
import { Duration, Effect } from "effect"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as tls from "node:tls"
import { ExportError, errorText } from "../../../domain/errors.js"
import type { Transport, TransportFactory } from "../Transport.js"
import { DatagramSender, isOversize, resolveHost } from "./syslog/DatagramSender.js"
import { appNameOf, type Formatter, makeFormatter, programName } from "./syslog/Rfc5424.js"
import { decodeSyslogConfig, type SyslogConfig } from "./syslog/SyslogConfig.js"
import { type Chunk, StreamSender } from "./syslog/StreamSender.js"

/** Reconnect backoff: 100 ms doubling to 5 s. */
/** Message timestamps from the runtime's Clock (a plain call per message). */
const messageClock = Effect.map(Effect.clock, (clock) => ({ now: () => clock.unsafeCurrentTimeMillis() }))

export const BACKOFF_MIN_MS = 100
export const BACKOFF_MAX_MS = 5000
/** While the server stays unreachable, a warning every 30 s (each attempt is logged at trace level). */
const OUTAGE_WARN_EVERY_MS = 30_000
const CONNECT_TIMEOUT_MS = 5000
/** How long the graceful close waits for the server to close its side. */
const CLOSE_TIMEOUT_MS = 5000
/** Messages are written in chunks of about this size (a chunk is also the unit of re-sending). */
const CHUNK_BYTES = 64 * 1024

const where = (c: SyslogConfig) => `${c.proto}://${c.host}:${c.port}`

const errCode = (e: unknown): string =>
  typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : ""

const UNTRUSTED = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REJECTED"
])
const TLS_HINT = "; trust its CA with syslog.tls.ca (a PEM file), or turn verification off with syslog.tls.skipverify: true"

/** A connection failure in words, with a hint for certificate problems. */
export const describeConnectError = (c: SyslogConfig, e: unknown): string => {
  const code = errCode(e)
  const msg = errorText(e)
  if (UNTRUSTED.has(code)) return `the server's TLS certificate is not trusted (${msg})${TLS_HINT}`
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `the server's TLS certificate is not valid for '${c.host}' (${msg})${TLS_HINT}`
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") return `the server's TLS certificate is not valid now (${msg})${TLS_HINT}`
  return msg
}

const readCaFile = (file: string) =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (e) => new ExportError({ reason: "Config", transport: "syslog", detail: `syslog.tls.ca: cannot read ${file}: ${(e as Error).message}`, cause: e })
  }).pipe(
    Effect.filterOrFail(
      (pem) => pem.includes("-----BEGIN CERTIFICATE-----"),
      () => new ExportError({ reason: "Config", transport: "syslog", detail: `syslog.tls.ca: ${file} holds no PEM certificate` })
    )
  )

/**
 * Trust Node's default store (Mozilla's list, or the system's with `--use-openssl-ca`), the file of
 * `NODE_EXTRA_CA_CERTS`, and `pem`. Node's `ca` option would replace the default store, so the CAs are
 * added to a default secure context (`SecureContext#addCACert`, what Node itself uses for `ca`, which
 * copies the default store but not the extra certificates); where that is missing, the list is rebuilt
 * from `tls.rootCertificates`.
 */
const trustingAlso = (pem: string): Effect.Effect<Pick<tls.ConnectionOptions, "secureContext" | "ca">> =>
  Effect.promise(async () => {
    const file = process.env.NODE_EXTRA_CA_CERTS
    const extra = file ? await fs.readFile(file, "utf8").then((t) => [t], () => []) : [] // Node warned at startup if unreadable
    const ctx = tls.createSecureContext()
    const native = (ctx as unknown as { context?: { addCACert?: (pem: string) => void } }).context
    if (typeof native?.addCACert === "function") {
      for (const certs of [...extra, pem]) native.addCACert(certs)
      return { secureContext: ctx }
    }
    return { ca: [...tls.rootCertificates, ...extra, pem] }
  })

/** The TLS options for P6: verification on, server name = syslog.host, default trust store + syslog.tls.ca. */
const tlsOptionsFor = (c: SyslogConfig): Effect.Effect<tls.ConnectionOptions, ExportError> =>
  Effect.gen(function* () {
    const trust = !c.skipVerify && c.caFile !== undefined ? yield* trustingAlso(yield* readCaFile(c.caFile)) : {}
    return { rejectUnauthorized: !c.skipVerify, ...(net.isIP(c.host) === 0 ? { servername: c.host } : {}), ...trust }
  })

/** An outage in progress (for `/healthz`): since when, and the last error. */
interface Outage {
  current: { readonly since: number; why: string } | undefined
}

/**
 * Runs `attempt` until it succeeds, sleeping 100 ms, 200 ms, ... up to 5 s between attempts. The first
 * failure of an outage is a warning, then one every 30 s; recovery is logged at info. Time is Effect's
 * Clock (TestClock in tests).
 */
const untilDelivered = <A>(c: SyslogConfig, outage: Outage, attempt: Effect.Effect<A, Error>, waiting: () => number): Effect.Effect<A> =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    let delay = BACKOFF_MIN_MS
    let outageStart: number | undefined
    let lastWarn = 0
    let attempts = 0
    for (;;) {
      const r = yield* Effect.either(attempt)
      if (r._tag === "Right") {
        outage.current = undefined
        if (outageStart !== undefined) {
          const now = yield* clock.currentTimeMillis
          yield* Effect.logInfo(`syslog: delivering to ${where(c)} again after ${((now - outageStart) / 1000).toFixed(1)} s (${attempts} failed attempts)`)
        }
        return r.right
      }
      attempts++
      const now = yield* clock.currentTimeMillis
      const why = describeConnectError(c, r.left)
      outage.current = { since: outage.current?.since ?? now, why }
      if (outageStart === undefined) {
        outageStart = lastWarn = now
        yield* Effect.logWarning(`syslog: cannot deliver to ${where(c)}: ${why}; reconnecting with backoff (${waiting()} messages waiting)`)
      } else if (now - lastWarn >= OUTAGE_WARN_EVERY_MS) {
        lastWarn = now
        yield* Effect.logWarning(
          `syslog: still cannot deliver to ${where(c)} after ${Math.round((now - outageStart) / 1000)} s: ${why}; retrying every ${BACKOFF_MAX_MS / 1000} s (${waiting()} messages waiting)`
        )
      } else yield* Effect.logTrace(`syslog: attempt ${attempts} to reach ${where(c)} failed: ${why}`)
      yield* Effect.sleep(Duration.millis(delay))
      delay = Math.min(delay * 2, BACKOFF_MAX_MS)
    }
  })

/** Frames `lines` into chunks of about CHUNK_BYTES, formatting lazily (timestamps at send time). */
function* chunksOf(lines: ReadonlyArray<string>, formatter: Formatter): Generator<Chunk> {
  let parts: string[] = []
  let size = 0
  for (const line of lines) {
    const msg = formatter.format(line)
    parts.push(msg)
    size += msg.length
    if (size >= CHUNK_BYTES) {
      yield { data: Buffer.from(parts.join(""), "utf8"), messages: parts.length }
      parts = []
      size = 0
    }
  }
  if (parts.length > 0) yield { data: Buffer.from(parts.join(""), "utf8"), messages: parts.length }
}

/** `Transport.status` for /healthz: failing while an outage lasts (`now`: the runtime's Clock). */
const statusOf = (c: SyslogConfig, outage: Outage, now: () => number, idle: () => string) => () =>
  outage.current === undefined
    ? { ok: true, detail: idle() }
    : { ok: false, detail: `cannot deliver to ${where(c)} for ${Math.round((now() - outage.current.since) / 1000)} s: ${outage.current.why}; retrying` }

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve))

const makeStreamTransport = (c: SyslogConfig) =>
  Effect.gen(function* () {
    const tlsOptions = c.proto === "tls" ? yield* tlsOptionsFor(c) : undefined
    const outage: Outage = { current: undefined }
    const clock = yield* Effect.clock
    const now = () => clock.unsafeCurrentTimeMillis()
    const sender = new StreamSender({ proto: c.proto === "tls" ? "tls" : "tcp", host: c.host, port: c.port, tls: tlsOptions }, now)
    /** One connection attempt, abandoned after CONNECT_TIMEOUT_MS. */
    const connectOnce: Effect.Effect<void, Error> = Effect.tryPromise({ try: (signal) => sender.connect(signal), catch: (e) => e as Error }).pipe(
      Effect.timeoutFail({ duration: Duration.millis(CONNECT_TIMEOUT_MS), onTimeout: () => new Error(`no connection after ${CONNECT_TIMEOUT_MS} ms`) })
    )
    const connect = (reason: "Open" | "Health") =>
      Effect.mapError(
        connectOnce,
        (e) => new ExportError({ reason, transport: "syslog", detail: `cannot connect to the syslog server at ${where(c)}: ${describeConnectError(c, e)}`, cause: e })
      )

    /** Reconnects if needed, re-sends what the last connection may have lost, then writes `chunk`. */
    const attempt = (chunk: Chunk | undefined): Effect.Effect<void, Error> =>
      Effect.gen(function* () {
        if (!sender.isOpen) {
          const lost = sender.lossReason
          yield* connectOnce
          const n = sender.replayMessages
          yield* Effect.logInfo(`syslog: connected to ${where(c)} again${lost ? ` (the previous connection: ${lost.message})` : ""}${n > 0 ? `; re-sending the last ${n} messages` : ""}`)
        }
        for (let next = sender.nextReplay(); next !== undefined; next = sender.nextReplay()) {
          const replay = next
          yield* Effect.tryPromise({ try: () => sender.write(replay), catch: (e) => e as Error })
          sender.replayed()
        }
        if (chunk === undefined) return
        // Let pending socket events (a FIN, a reset) arrive, so a connection the server just closed is
        // seen before we write into it.
        yield* Effect.promise(nextTick)
        if (!sender.isOpen) return yield* Effect.fail(sender.lossReason ?? new Error("connection lost"))
        yield* Effect.tryPromise({ try: () => sender.write(chunk), catch: (e) => e as Error })
      })

    const close = Effect.gen(function* () {
      for (let round = 0; round < 3; round++) {
        if (!sender.isOpen) {
          if (sender.replayMessages === 0) return sender.drop()
          yield* untilDelivered(c, outage, attempt(undefined), () => sender.replayMessages)
        }
        const kept = sender.keptMessages
        const outcome = yield* Effect.promise((signal) => sender.end(signal)).pipe(
          Effect.timeoutTo({ duration: Duration.millis(CLOSE_TIMEOUT_MS), onTimeout: () => "timeout" as const, onSuccess: (o) => o })
        )
        if (outcome === "closed") return
        if (outcome === "timeout") {
          return yield* Effect.logWarning(
            `syslog: ${where(c)} did not close the connection within ${CLOSE_TIMEOUT_MS / 1000} s of the end of the output; its receipt of the last ${kept} messages is not confirmed`
          )
        }
        yield* Effect.logWarning(`syslog: ${where(c)} reset the connection while closing; re-sending the last ${sender.replayMessages} messages`)
      }
      yield* Effect.logError(`syslog: could not confirm that ${where(c)} received the last ${sender.replayMessages} messages`)
      sender.drop()
    })

    yield* Effect.acquireRelease(connect("Open"), () => close)

    const formatter = makeFormatter({
      hostname: c.source !== "" ? c.source : (sender.localAddress ?? "-"),
      appName: appNameOf(programName()),
      procId: process.pid,
      msgId: c.tag
    }, yield* messageClock)
    const lock = yield* Effect.makeSemaphore(1)
    const transport: Transport = {
      name: "syslog",
      send: (batch) =>
        lock.withPermits(1)(
          Effect.gen(function* () {
            for (const chunk of chunksOf(batch.lines, formatter)) {
              yield* untilDelivered(c, outage, attempt(chunk), () => sender.replayMessages + chunk.messages)
            }
            return 0
          })
        ),
      test: lock.withPermits(1)(Effect.suspend(() => (sender.isOpen ? Effect.void : connect("Health")))),
      status: statusOf(c, outage, now, () => (sender.isOpen ? `connected to ${where(c)}` : `not connected to ${where(c)} (reconnects at the next message)`))
    }
    return transport
  })

const makeUdpTransport = (c: SyslogConfig) =>
  Effect.gen(function* () {
    const resolve = (reason: "Open" | "Health") =>
      Effect.tryPromise({
        try: () => resolveHost(c.host),
        catch: (e) => new ExportError({ reason, transport: "syslog", detail: `cannot resolve syslog.host '${c.host}': ${(e as Error).message}`, cause: e })
      })
    const target = yield* resolve("Open")
    const sender = yield* Effect.acquireRelease(
      Effect.sync(() => new DatagramSender(target, c.port)),
      (s) => Effect.sync(() => s.close())
    )
    const formatter = makeFormatter({ hostname: c.source !== "" ? c.source : "-", appName: appNameOf(programName()), procId: process.pid, msgId: c.tag }, yield* messageClock)
    const lock = yield* Effect.makeSemaphore(1)
    const outage: Outage = { current: undefined }
    const clock = yield* Effect.clock

    /** Sends lines[from..] until one fails: the index reached and the error, if any. */
    const sendFrom = async (lines: ReadonlyArray<string>, from: number): Promise<{ next: number; error?: Error }> => {
      for (let i = from; i < lines.length; i++) {
        try {
          await sender.send(Buffer.from(formatter.format(lines[i]), "utf8"))
        } catch (e) {
          return { next: i, error: e as Error }
        }
      }
      return { next: lines.length }
    }

    const transport: Transport = {
      name: "syslog",
      send: (batch) =>
        lock.withPermits(1)(
          Effect.gen(function* () {
            let i = 0
            let dropped = 0
            let largest = 0
            while (i < batch.lines.length) {
              const r = yield* Effect.promise(() => sendFrom(batch.lines, i))
              if (r.error === undefined) break
              if (isOversize(r.error)) {
                dropped++
                largest = Math.max(largest, Buffer.byteLength(formatter.format(batch.lines[r.next])))
                i = r.next + 1
                continue
              }
              // Anything else (no route, no buffer space, ...): wait and send that message again.
              const at = r.next
              yield* untilDelivered(
                c,
                outage,
                Effect.tryPromise({ try: () => sender.send(Buffer.from(formatter.format(batch.lines[at]), "utf8")), catch: (e) => e as Error }).pipe(
                  Effect.catchIf(isOversize, () => Effect.sync(() => void dropped++))
                ),
                () => batch.lines.length - at
              )
              i = at + 1
            }
            if (dropped > 0) {
              yield* Effect.logWarning(
                `syslog: dropped ${dropped} messages too large for a UDP datagram (the largest was ${largest} bytes; at most ${target.family === 6 ? 65527 : 65507} fit); use tcp or tls for large records`
              )
            }
            return dropped
          })
        ),
      test: Effect.asVoid(resolve("Health")),
      status: statusOf(c, outage, () => clock.unsafeCurrentTimeMillis(), () => `sending to ${where(c)} (${target.address})`)
    }
    return transport
  })

export const makeSyslogTransport: TransportFactory = (attrs) =>
  Effect.gen(function* () {
    const config = yield* decodeSyslogConfig(attrs)
    for (const w of config.warnings) yield* Effect.logWarning(w)
    return config.proto === "udp" ? yield* makeUdpTransport(config) : yield* makeStreamTransport(config)
  })
