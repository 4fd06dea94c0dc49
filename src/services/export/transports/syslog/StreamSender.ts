/**
 * One TCP or TLS connection to a syslog server, with what it takes to lose nothing when the server goes
 * away (pipeline.md §11.4; the retry loop is in SyslogTransport):
 *
 * * **Prompt loss detection.** The socket is kept reading, so a server that closes the connection
 *   (`end`), resets it (`error`) or vanishes (`close`) marks it lost at once, not at the next write; the
 *   transport lets pending I/O events run before each write, and reconnects first when the link is lost.
 * * **A write counts only once the kernel took it** (the write callback), and only if the connection was
 *   not lost meanwhile; otherwise the caller gets an error and writes it again after reconnecting.
 * * **Replay window (at-least-once).** Bytes the kernel accepted can still be lost: they may sit in our
 *   send buffer or unread in the server's receive buffer when it closes or resets (syslog over TCP has no
 *   acknowledgements). So each accepted chunk is kept until it is *probably consumed*: either
 *   `replayMs` (1 s) passed since it was accepted *without backpressure* (the clock restarts whenever
 *   the kernel could not take a write at once, i.e. the socket buffers were full, or a write waited
 *   `stallMs`), or more bytes were accepted after it than the socket buffers on both ends can hold
 *   (`replayBytes`, see `kernelBufferBound`). When the connection is lost, the chunks still kept are
 *   re-sent, in order, right after reconnecting: messages near a failure may arrive twice (about the last
 *   second of traffic, or, when the server was not keeping up, up to `replayBytes`), none is silently
 *   dropped. The residual risks: a server that stops reading while the buffers still have room (so there
 *   is no backpressure to notice) for longer than `replayMs` and then dies without reading what it was
 *   sent; a server whose receive buffer is larger than ours.
 * * **Graceful close.** `end()` half-closes and waits for the server's own close: a server that read
 *   everything answers with FIN (the socket closes cleanly); one that closed with unread data resets the
 *   connection, which counts as a loss (the caller reconnects and re-sends the kept chunks).
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as tls from "node:tls"

/** Messages framed and concatenated, written with one `write`. */
export interface Chunk {
  readonly data: Buffer
  readonly messages: number
}

export interface StreamTarget {
  readonly proto: "tcp" | "tls"
  readonly host: string
  readonly port: number
  /** TLS options (trust store, verification, server name); only for `tls`. */
  readonly tls?: tls.ConnectionOptions
}

export interface ReplayTuning {
  readonly replayMs: number
  readonly replayBytes: number
  readonly stallMs: number
}

const MiB = 1024 * 1024

/**
 * How many bytes the kernel can hold between our write and the server's read: the largest send buffer
 * here plus the largest receive buffer (Linux TCP autotuning limits, `net.ipv4.tcp_wmem` and `tcp_rmem`;
 * the server's own limit is not knowable, ours stands for it), at least 8 MiB and at most 64 MiB;
 * 64 MiB where /proc does not say.
 */
export const kernelBufferBound = (read: (file: string) => string = (f) => fs.readFileSync(f, "utf8")): number => {
  try {
    const max = (file: string) => {
      const n = Number(read(file).trim().split(/\s+/)[2])
      if (!Number.isFinite(n) || n <= 0) throw new Error(`bad ${file}`)
      return n
    }
    const sum = max("/proc/sys/net/ipv4/tcp_wmem") + max("/proc/sys/net/ipv4/tcp_rmem")
    return Math.min(64 * MiB, Math.max(8 * MiB, sum))
  } catch {
    return 64 * MiB
  }
}

export const defaultTuning = (): ReplayTuning => ({ replayMs: 1000, replayBytes: kernelBufferBound(), stallMs: 100 })

/** The error a lost connection reports, with how it was lost. */
export class ConnectionLost extends Error {
  constructor(
    readonly how: "closed" | "reset" | "error",
    message: string,
    override readonly cause?: unknown
  ) {
    super(message)
  }
}

interface Accepted {
  readonly chunk: Chunk
  readonly at: number
}

export type EndOutcome = "closed" | "lost" | "timeout"

export class StreamSender {
  private socket: net.Socket | undefined
  private lostWith: ConnectionLost | undefined
  private closing = false
  private kept: Accepted[] = []
  private keptBytes = 0
  private toReplay: Chunk[] = []
  private lastStallAt = 0
  private writeStartedAt: number | undefined

  constructor(
    readonly target: StreamTarget,
    /** Milliseconds now: the transport passes Effect's Clock (so tests can drive it with TestClock). */
    private readonly clock: () => number,
    private readonly tuning: ReplayTuning = defaultTuning()
  ) {}

  /** Connected and not lost. */
  get isOpen(): boolean {
    return this.socket !== undefined && this.lostWith === undefined
  }

  /** Why the last connection ended (undefined while open or before the first connect). */
  get lossReason(): ConnectionLost | undefined {
    return this.lostWith
  }

  /** Messages waiting to be re-sent after a reconnect. */
  get replayMessages(): number {
    return this.toReplay.reduce((n, c) => n + c.messages, 0)
  }

  /** Messages accepted by the kernel and still kept for a possible replay. */
  get keptMessages(): number {
    return this.kept.reduce((n, a) => n + a.chunk.messages, 0)
  }

  get localAddress(): string | undefined {
    return this.socket?.localAddress
  }

  /**
   * One connection attempt (TCP connect, or TCP connect + TLS handshake with verification). Aborting
   * `signal` (the caller's timeout) destroys the half-open socket and rejects.
   */
  connect(signal?: AbortSignal): Promise<void> {
    this.drop()
    const { host, port, proto } = this.target
    return new Promise<void>((resolve, reject) => {
      const sock: net.Socket =
        proto === "tls" ? tls.connect({ ...this.target.tls, host, port }) : net.connect({ host, port })
      let settled = false
      const fail = (e: Error) => {
        if (settled) return
        settled = true
        signal?.removeEventListener("abort", onAbort)
        sock.on("error", () => {}) // a late second error must not go unhandled
        sock.destroy()
        reject(e)
      }
      const onClose = () => fail(new Error("the server closed the connection during the handshake"))
      const onAbort = () => fail(new Error("connection attempt abandoned"))
      if (signal?.aborted === true) return onAbort()
      signal?.addEventListener("abort", onAbort, { once: true })
      sock.once("error", fail)
      sock.once("close", onClose)
      sock.once(proto === "tls" ? "secureConnect" : "connect", () => {
        if (settled) return
        settled = true
        signal?.removeEventListener("abort", onAbort)
        sock.off("error", fail)
        sock.off("close", onClose)
        sock.setNoDelay(true) // as Go's net.Dial
        sock.setKeepAlive(true, 15_000) // as Go's net.Dialer default
        this.attach(sock)
        resolve()
      })
    })
  }

  private attach(sock: net.Socket): void {
    this.socket = sock
    this.lostWith = undefined
    this.closing = false
    // Syslog servers send nothing; reading keeps the socket flowing so a FIN or RST is seen at once.
    sock.on("data", () => {})
    sock.on("end", () => this.lose(sock, new ConnectionLost("closed", "the server closed the connection")))
    sock.on("error", (e) => this.lose(sock, new ConnectionLost(resetCodes.has(errCode(e)) ? "reset" : "error", e.message, e)))
    sock.on("close", () => this.lose(sock, new ConnectionLost("closed", "the connection was closed")))
  }

  /** Marks `sock` lost: everything kept since it was accepted goes to the replay queue. */
  private lose(sock: net.Socket, why: ConnectionLost): void {
    if (sock !== this.socket || this.lostWith !== undefined) return
    // During a graceful close the server's FIN and the close are the expected answer; only an error is a loss.
    if (this.closing && why.how === "closed") return
    this.lostWith = why
    const now = this.clock()
    if (this.writeStartedAt !== undefined) this.lastStallAt = now // a write was waiting for the kernel
    this.prune(now)
    this.toReplay = [...this.kept.map((a) => a.chunk), ...this.toReplay]
    this.kept = []
    this.keptBytes = 0
    sock.destroy()
  }

  /** Forgets chunks that are probably consumed (see the module comment). */
  private prune(now: number): void {
    const { replayMs, replayBytes } = this.tuning
    let i = 0
    while (i < this.kept.length) {
      const head = this.kept[i]
      const bytesAfter = this.keptBytes - head.chunk.data.length
      if (bytesAfter < replayBytes && now - Math.max(head.at, this.lastStallAt) < replayMs) break
      this.keptBytes -= head.chunk.data.length
      i++
    }
    if (i > 0) this.kept = this.kept.slice(i)
  }

  /** The next chunk to re-send after a reconnect, if any (`replayed()` removes it once written). */
  nextReplay(): Chunk | undefined {
    return this.toReplay[0]
  }

  replayed(): void {
    this.toReplay.shift()
  }

  /**
   * Writes a chunk; resolves once the kernel accepted all of it on a connection that is still open.
   * Rejects (with the loss) when the connection is or gets lost before that.
   */
  write(chunk: Chunk): Promise<void> {
    const sock = this.socket
    if (sock === undefined || this.lostWith !== undefined) return Promise.reject(this.lostWith ?? new Error("not connected"))
    return new Promise<void>((resolve, reject) => {
      const started = this.clock()
      this.writeStartedAt = started
      let done = false
      const finish = (err?: Error | null) => {
        if (done) return
        done = true
        sock.off("close", onClose)
        this.writeStartedAt = undefined
        if (err) this.lose(sock, new ConnectionLost(resetCodes.has(errCode(err)) ? "reset" : "error", err.message, err))
        // Accepted into a connection that was lost meanwhile: it is as good as lost, write it again.
        if (this.lostWith !== undefined || sock !== this.socket) return reject(this.lostWith ?? err ?? new Error("connection lost"))
        const now = this.clock()
        if (now - started >= this.tuning.stallMs || this.lastStallAt >= started) this.lastStallAt = now
        this.kept.push({ chunk, at: now })
        this.keptBytes += chunk.data.length
        this.prune(now)
        resolve()
      }
      const onClose = () => finish(this.lostWith ?? new ConnectionLost("closed", "the connection was closed"))
      sock.once("close", onClose)
      sock.write(chunk.data, (err) => finish(err))
      // The kernel did not take it all at once: the socket buffers are full (the server is behind).
      if (!done && sock.writableLength > 0) this.lastStallAt = this.clock()
    })
  }

  /**
   * Graceful close: half-close and wait for the server to close its side. `closed`: it did, having read
   * everything (nothing is kept any more). `lost`: it reset the connection (the kept chunks are queued
   * for replay). `timeout`: the caller gave up waiting (aborted `signal`); the socket is destroyed and
   * nothing more can be known.
   */
  end(signal?: AbortSignal): Promise<EndOutcome> {
    const sock = this.socket
    if (sock === undefined || this.lostWith !== undefined) return Promise.resolve(this.toReplay.length > 0 ? "lost" : "closed")
    this.closing = true
    return new Promise<EndOutcome>((resolve) => {
      const forget = () => {
        this.socket = undefined
        this.kept = []
        this.keptBytes = 0
      }
      const onAbort = () => {
        sock.destroy()
        forget()
        resolve("timeout")
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      sock.once("close", () => {
        signal?.removeEventListener("abort", onAbort)
        if (this.lostWith !== undefined) return resolve("lost")
        forget()
        resolve("closed")
      })
      sock.end()
    })
  }

  /** Drops the current socket (if any) without a loss (used before reconnecting and at the very end). */
  drop(): void {
    const sock = this.socket
    this.socket = undefined
    this.closing = false
    // Its listeners see a socket that is no longer current and ignore its close.
    sock?.destroy()
  }
}

const resetCodes = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"])
const errCode = (e: unknown): string => (typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : "")
