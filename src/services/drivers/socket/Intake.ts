/**
 * The socket driver's intake (pipeline.md §10.2, P21, P22, P28): the collector streams as the reader
 * thread (NativeIntakeWorker.ts, or IntakeWorker.ts with node-unix-socket) hands them over, in plain code (the worker's messages arrive as callbacks; the
 * driver's loop takes packets from here).
 *
 * * **One collector at a time (P22).** Every connection is accepted (the reader accepts and reads every
 *   connection at once, so that it notices a waiting collector's end), but only the oldest one
 *   is served. Later ones wait in arrival order; what they send meanwhile is kept (up to half the bounds,
 *   then dropped and counted, with a rate-limited warning) and decoded after the streams before them ended.
 * * **Backpressure (P21).** Packets handed over and not yet taken are counted in the shared flow state;
 *   the reader thread stops reading while they reach the bounds (`maxRecords`, `maxBytes`), so a slow
 *   pipeline makes the collector wait in `send()`. `release()` lowers the counts and wakes the reader.
 * * **Truncation (P28).** A packet that fills the read buffer may have been cut by the kernel (node-unix-socket
 *   reads with `read(2)`, so `MSG_TRUNC` is not visible; the native reader sees it, and treats it the same):
 *   the reader reports it; it is counted and logged.
 * * **End of a stream.** A zero-length packet and EOF look the same (`recv` returns 0 for both): the stream
 *   ends, the connection is closed, and the next collector is served.
 * * **Time** (the log rate limits) is read from Effect's `Clock`, captured by the driver: the worker's
 *   messages arrive outside any fiber, and TestClock drives the limits in tests.
 */
import type { Clock } from "effect"
import { Flow, type IntakeMessage } from "./IntakeProtocol.js"

export type IntakeLogLevel = "Info" | "Warn" | "Error" | "Health"
export type IntakeLog = (level: IntakeLogLevel, message: string) => void

export interface IntakeLimits {
  /** Packets handed over and not yet taken before the reader stops reading (P21); waiting collectors get half. */
  readonly maxRecords: number
  /** The same in bytes (bounds memory when packets are large). */
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
  /** Packets of waiting collectors dropped beyond their bound (P22). */
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

/** A batch of packets handed over by the reader thread: their bytes, end to end, and their lengths. */
interface Batch {
  readonly bytes: Buffer
  readonly lengths: Uint32Array
  next: number
  offset: number
}

/** One collector connection and the packets received from it that are not decoded yet. */
export class Session {
  readonly batches: Batch[] = []
  /** The stream has ended (EOF, empty packet, read error, or stop); no more packets will come. */
  ended = false
  endReason = ""
  /** Served (the `[Health]` accept line was logged). */
  announced = false
  firstRecordLogged = false
  readonly counts = { packets: 0, records: 0, malformed: 0, truncated: 0, dropped: 0 }

  constructor(readonly id: number) {}
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

/** The reader thread, as the intake drives it. */
export interface IntakeReader {
  /** The shared flow state (IntakeWorker.ts `Flow`). */
  readonly flow: Int32Array
  /** Asks the reader to close the listener and every connection, hand over what it has, and report `stopped`. */
  readonly stop: () => void
  /** Wakes the reader after the driver took packets, when it asked for that (`Flow.wakeOnTake`: the native reader). */
  readonly wake: () => void
}

export class Intake {
  /** The served session first, then the waiting ones. */
  readonly sessions: Session[] = []
  private readonly byId = new Map<number, Session>()
  readonly stats: SocketStats
  private takenPackets = 0
  private takenBytes = 0
  private waiter: (() => void) | undefined
  /** Bumped on every event, so the loop never misses a wake-up between its check and its wait. */
  version = 0
  private stopping = false
  /** The reader closed everything and handed over what it had: no more packets will come. */
  stopped = false
  /** Set when the listener failed (accept error) or the reader thread died: no new collector can connect. */
  failure: Error | undefined
  /** Drops since the last drop warning (P21). */
  private dropsUnreported = 0
  private lastDropWarning = -Infinity
  readonly truncatedLog: LogLimiter

  constructor(
    readonly limits: IntakeLimits,
    private readonly reader: IntakeReader,
    private readonly log: IntakeLog,
    private readonly clock: Clock.Clock,
    stats?: SocketStats,
    private readonly dropWarningIntervalMs = 5_000
  ) {
    this.stats = stats ?? makeSocketStats()
    this.truncatedLog = new LogLimiter(10_000, 10, clock)
  }

  get current(): Session | undefined {
    return this.sessions[0]
  }

  /** The next packet of a session (a view of its batch), or undefined when none is waiting. */
  take(s: Session): Buffer | undefined {
    const b = s.batches[0]
    if (b === undefined) return undefined
    const length = b.lengths[b.next]
    const p = b.bytes.subarray(b.offset, b.offset + length)
    b.offset += length
    if (++b.next === b.lengths.length) s.batches.shift()
    this.takenPackets++
    this.takenBytes += length
    return p
  }

  /** Gives the packets taken since the last call back to the flow bound, and wakes the reader if it waits. */
  release(): void {
    if (this.takenPackets === 0) return
    this.giveBack(this.takenPackets, this.takenBytes)
    this.takenPackets = 0
    this.takenBytes = 0
  }

  private giveBack(packets: number, bytes: number): void {
    const flow = this.reader.flow
    Atomics.sub(flow, Flow.packets, packets)
    Atomics.sub(flow, Flow.bytes, bytes)
    Atomics.add(flow, Flow.taken, 1)
    Atomics.notify(flow, Flow.taken)
    if (Atomics.load(flow, Flow.wakeOnTake) === 1 && Atomics.exchange(flow, Flow.wakeOnTake, 0) === 1) this.reader.wake()
  }

  /** Removes the served session once its stream ended and its packets were taken; the next one is served. */
  finish(s: Session): void {
    if (this.sessions[0] === s) this.sessions.shift()
    this.byId.delete(s.id)
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

  /** Stops: the reader closes the listener and every connection and hands over what it received; the loop decodes it. */
  stop(): void {
    if (this.stopping) return
    this.stopping = true
    Atomics.store(this.reader.flow, Flow.stop, 1)
    Atomics.notify(this.reader.flow, Flow.taken)
    this.reader.stop()
  }

  /** The reader thread died: every stream ends with what was handed over. */
  readerFailed(e: Error): void {
    if (this.stopped) return
    this.failure ??= e
    for (const s of this.sessions) this.end(s, `reader failed: ${e.message}`)
    this.stopped = true
    this.bump()
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
      `A waiting collector sent more than its queue holds (${Math.floor(this.limits.maxRecords / 2)} records): ${plural(n, "record")} dropped, ` +
        `${this.stats.dropped} since the start; only the served collector is made to wait`
    )
  }

  /** A message of the reader thread. */
  onMessage(m: IntakeMessage): void {
    switch (m.t) {
      case "connection": {
        this.stats.connections++
        if (this.stopping) return
        const s = new Session(m.id)
        if (this.sessions.length > 0) {
          this.log("Info", "A collector connected while another one is being served: its stream waits until the current one ends")
        }
        this.sessions.push(s)
        this.byId.set(m.id, s)
        return this.bump()
      }
      case "refused":
        this.stats.connections++
        return this.log("Warn", `A collector connected while ${plural(m.waiting, "other")} are connected or waiting: closing its connection`)
      case "data":
        return this.onData(m.id, Buffer.from(m.bytes), new Uint32Array(m.lengths))
      case "truncated":
        return this.onTruncated(m.id, m.size)
      case "dropped":
        return this.onDropped(m.id, m.count)
      case "end": {
        const s = this.byId.get(m.id)
        if (s === undefined || s.ended) return
        if (m.reason.startsWith("read error: ")) this.log("Error", `Read error: ${m.reason.slice("read error: ".length)}`)
        return this.end(s, m.reason)
      }
      case "serverError":
        if (this.failure !== undefined || this.stopping) return
        this.failure = new Error(m.message)
        this.log("Error", `Accept error: ${m.message}`)
        return this.bump()
      case "stopped":
        this.stopped = true
        return this.bump()
      case "ready":
      case "listenError":
        return
    }
  }

  private bump(): void {
    this.version++
    const w = this.waiter
    if (w !== undefined) {
      this.clearWake()
      w()
    }
  }

  private onData(id: number, bytes: Buffer, lengths: Uint32Array): void {
    const s = this.byId.get(id)
    if (s === undefined || s.ended) {
      // Nobody will take these: give their share of the bound back at once.
      this.giveBack(lengths.length, bytes.length)
      return
    }
    this.stats.packets += lengths.length
    s.counts.packets += lengths.length
    s.batches.push({ bytes, lengths, next: 0, offset: 0 })
    this.bump()
  }

  private onTruncated(id: number, size: number): void {
    const s = this.byId.get(id)
    this.stats.packets++
    this.stats.truncated++
    if (s !== undefined) {
      s.counts.packets++
      s.counts.truncated++
    }
    const { log, held } = this.truncatedLog.take()
    if (log) {
      this.log(
        "Error",
        `Dropped a packet of ${size} bytes: it fills the ${this.limits.readBufferSize}-byte read buffer and may be truncated` +
          (held > 0 ? ` (${plural(held, "similar message")} suppressed)` : "")
      )
    }
  }

  private onDropped(id: number, count: number): void {
    const s = this.byId.get(id)
    this.stats.packets += count
    this.stats.dropped += count
    if (s !== undefined) {
      s.counts.packets += count
      s.counts.dropped += count
    }
    this.dropsUnreported += count
    this.reportDrops()
  }

  private end(s: Session, reason: string): void {
    if (s.ended) return
    s.ended = true
    s.endReason = reason
    this.bump()
  }
}
