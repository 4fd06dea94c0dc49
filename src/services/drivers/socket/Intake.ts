/**
 * The socket driver's intake (pipeline.md §10.2, P21, P22, P28): the collector connections and the
 * bounded queue of packets received from them, in plain code (the library delivers packets through
 * event callbacks; the driver's loop takes them from here).
 *
 * * **One collector at a time (P22).** Every connection is accepted (node-unix-socket accepts and starts
 *   reading at once; it cannot leave a connection in the kernel's accept queue), but only the oldest one
 *   is served. Later ones wait in arrival order; what they send meanwhile is kept, within the same bound,
 *   and decoded after the streams before them have ended.
 * * **Bounded (P21).** node-unix-socket has no pause/resume, so a slow pipeline cannot make the collector
 *   block. At most `maxRecords` packets (and `maxBytes` bytes) wait here; a packet arriving when the queue
 *   is full is dropped and counted, with a rate-limited warning.
 * * **Truncation (P28).** A packet that fills the read buffer may have been cut by the kernel (the library
 *   reads with `read(2)`, so `MSG_TRUNC` is not visible): it is counted, logged and dropped.
 * * **End of a stream.** A zero-length packet and EOF look the same (the library's `'end'`): the stream
 *   ends, the connection is closed, and the next collector is served.
 * * **Time** (the log rate limits) is read from Effect's `Clock`, captured by the driver: the library's
 *   callbacks run outside any fiber, and TestClock drives the limits in tests.
 */
import type { Clock } from "effect"
import type { SeqpacketServer, SeqpacketSocket } from "node-unix-socket"

export type IntakeLogLevel = "Info" | "Warn" | "Error" | "Health"
export type IntakeLog = (level: IntakeLogLevel, message: string) => void

export interface IntakeLimits {
  /** Packets the queue holds before it drops (P21). */
  readonly maxRecords: number
  /** Bytes the queue holds before it drops (bounds memory when packets are large). */
  readonly maxBytes: number
  /** The library's read buffer per `read(2)`; a packet of this size is treated as truncated (P28). */
  readonly readBufferSize: number
  /** Connections waiting behind the served one; more are closed at once. */
  readonly maxWaiting: number
}

/** Counters of the whole run (metric-ready; the driver mirrors them into Effect metrics). */
export interface SocketStats {
  /** Connections accepted. */
  connections: number
  /** Non-empty packets received. */
  packets: number
  /** Packets decoded and sent on. */
  records: number
  /** Packets that failed to decode (P10). */
  malformed: number
  /** Packets that filled the read buffer (P28). */
  truncated: number
  /** Packets dropped because the queue was full (P21). */
  dropped: number
}

export const makeSocketStats = (): SocketStats => ({
  connections: 0,
  packets: 0,
  records: 0,
  malformed: 0,
  truncated: 0,
  dropped: 0
})

/** One collector connection and the packets received from it that are not decoded yet. */
export class Session {
  readonly packets: Buffer[] = []
  head = 0
  /** The stream has ended (EOF, empty packet, read error, or stop); no more packets will come. */
  ended = false
  endReason = ""
  /** Served (the `[Health]` accept line was logged). */
  announced = false
  firstRecordLogged = false
  readonly counts = { packets: 0, records: 0, malformed: 0, truncated: 0, dropped: 0 }

  constructor(
    readonly id: number,
    readonly socket: SeqpacketSocket
  ) {}

  get pending(): number {
    return this.packets.length - this.head
  }
}

/**
 * Allows a burst of log lines per window (on `clock`'s time) and counts the rest, so a flood of bad
 * packets cannot flood the log. `take()` says whether to log now and how many were held back since the
 * last line.
 */
export class LogLimiter {
  private windowStart = -Infinity
  private inWindow = 0
  private held = 0

  constructor(
    private readonly windowMs: number,
    private readonly burst: number,
    private readonly clock: Clock.Clock
  ) {}

  take(): { readonly log: boolean; readonly held: number } {
    const now = this.clock.unsafeCurrentTimeMillis()
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now
      this.inWindow = 0
    }
    if (this.inWindow < this.burst) {
      this.inWindow++
      const held = this.held
      this.held = 0
      return { log: true, held }
    }
    this.held++
    return { log: false, held: 0 }
  }

  /** Occurrences not yet reported; resets the count. */
  drainHeld(): number {
    const held = this.held
    this.held = 0
    return held
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

export class Intake {
  /** The served session first, then the waiting ones. */
  readonly sessions: Session[] = []
  readonly stats: SocketStats
  private queuedRecords = 0
  private queuedBytes = 0
  private nextId = 1
  private server: SeqpacketServer | undefined
  private waiter: (() => void) | undefined
  /** Bumped on every event, so the loop never misses a wake-up between its check and its wait. */
  version = 0
  stopped = false
  /** Set when the listener failed (accept error): no new collector can connect. */
  failure: Error | undefined
  /** Drops since the last drop warning (P21). */
  private dropsUnreported = 0
  private lastDropWarning = -Infinity
  readonly truncatedLog: LogLimiter

  constructor(
    readonly limits: IntakeLimits,
    private readonly log: IntakeLog,
    private readonly clock: Clock.Clock,
    stats?: SocketStats,
    private readonly dropWarningIntervalMs = 5_000
  ) {
    this.stats = stats ?? makeSocketStats()
    this.truncatedLog = new LogLimiter(10_000, 10, clock)
  }

  /** Serves connections of a listening server. */
  attach(server: SeqpacketServer): void {
    this.server = server
    server.on("connection", (socket: SeqpacketSocket) => this.onConnection(socket))
    server.on("error", (e: Error) => this.onServerError(e))
  }

  get current(): Session | undefined {
    return this.sessions[0]
  }

  get queued(): number {
    return this.queuedRecords
  }

  /** The next packet of a session, or undefined when none is waiting. */
  take(s: Session): Buffer | undefined {
    if (s.head >= s.packets.length) return undefined
    const p = s.packets[s.head]
    s.packets[s.head++] = undefined as unknown as Buffer
    if (s.head === s.packets.length) {
      s.packets.length = 0
      s.head = 0
    } else if (s.head >= 4096 && s.head * 2 >= s.packets.length) {
      s.packets.splice(0, s.head)
      s.head = 0
    }
    this.queuedRecords--
    this.queuedBytes -= p.length
    return p
  }

  /** Removes the served session once its stream ended and its packets were taken; the next one is served. */
  finish(s: Session): void {
    if (this.sessions[0] === s) this.sessions.shift()
    this.reportDrops(true)
    this.bump()
  }

  /** Registers the loop's wake-up (for the next event: packet, connection, end, stop); called at once if something happened since `since`. */
  onWake(since: number, wake: () => void): void {
    if (this.version !== since) {
      wake()
      return
    }
    this.waiter = wake
  }

  clearWake(): void {
    this.waiter = undefined
  }

  /** Stops: no new connections, every connection closed; what was received stays queued for the loop. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.closeServer()
    for (const s of this.sessions) this.endSession(s, "stopped")
    this.bump()
  }

  /** Closes the listener (idempotent). */
  closeServer(): void {
    const server = this.server
    this.server = undefined
    if (server === undefined) return
    try {
      server.close()
    } catch {
      // Already closed.
    }
  }

  /** Logs the drops not reported yet: at once when `final` (end of a stream), else at most once per interval. */
  reportDrops(final = false): void {
    if (this.dropsUnreported === 0) return
    const now = this.clock.unsafeCurrentTimeMillis()
    if (!final && now - this.lastDropWarning < this.dropWarningIntervalMs) return
    this.lastDropWarning = now
    const n = this.dropsUnreported
    this.dropsUnreported = 0
    this.log(
      "Warn",
      `Input queue full (${this.limits.maxRecords} records): ${plural(n, "record")} dropped, ` +
        `${this.stats.dropped} since the start; the pipeline is slower than the collector`
    )
  }

  private bump(): void {
    this.version++
    const w = this.waiter
    if (w !== undefined) {
      this.clearWake()
      w()
    }
  }

  private onConnection(socket: SeqpacketSocket): void {
    if (this.stopped) {
      socket.on("error", () => {})
      socket.destroy()
      return
    }
    socket.setInternalReadBufferSize(this.limits.readBufferSize)
    this.stats.connections++
    const s = new Session(this.nextId++, socket)
    socket.on("data", (buf: Buffer) => this.onData(s, buf))
    socket.on("end", () => this.endSession(s, "end of stream"))
    socket.on("error", (e: Error) => {
      if (!s.ended) this.log("Error", `Read error: ${e.message}`)
      this.endSession(s, `read error: ${e.message}`)
    })
    socket.on("close", () => this.endSession(s, "connection closed"))
    if (this.sessions.length > this.limits.maxWaiting) {
      this.log("Warn", `A collector connected while ${plural(this.sessions.length, "other")} are connected or waiting: closing its connection`)
      s.ended = true
      socket.destroy()
      return
    }
    if (this.sessions.length > 0) {
      this.log("Info", "A collector connected while another one is being served: its stream waits until the current one ends")
    }
    this.sessions.push(s)
    this.bump()
  }

  private onData(s: Session, buf: Buffer): void {
    if (s.ended) return
    this.stats.packets++
    s.counts.packets++
    if (buf.length >= this.limits.readBufferSize) {
      this.stats.truncated++
      s.counts.truncated++
      const { log, held } = this.truncatedLog.take()
      if (log) {
        this.log(
          "Error",
          `Dropped a packet of ${buf.length} bytes: it fills the ${this.limits.readBufferSize}-byte read buffer and may be truncated` +
            (held > 0 ? ` (${plural(held, "similar message")} suppressed)` : "")
        )
      }
      return
    }
    if (this.queuedRecords >= this.limits.maxRecords || this.queuedBytes + buf.length > this.limits.maxBytes) {
      this.stats.dropped++
      s.counts.dropped++
      this.dropsUnreported++
      this.reportDrops()
      return
    }
    s.packets.push(buf)
    this.queuedRecords++
    this.queuedBytes += buf.length
    this.bump()
  }

  private endSession(s: Session, reason: string): void {
    if (s.ended) return
    s.ended = true
    s.endReason = reason
    try {
      s.socket.destroy()
    } catch {
      // Already destroyed.
    }
    // A connection that was refused or never served and sent nothing leaves no trace.
    this.bump()
  }

  private onServerError(e: Error): void {
    if (this.failure !== undefined || this.stopped) return
    this.failure = e
    this.log("Error", `Accept error: ${e.message}`)
    this.closeServer()
    this.bump()
  }
}
