/**
 * The `socket` driver (pipeline.md §10.2, data-model.md §1.5): a unix `SOCK_SEQPACKET` server at the
 * given path that receives the collector's stream, one raw Avro binary `SysFlow` datum per packet (v4
 * layout as writer and reader; no OCF header, no length prefix), and feeds the root channel in chunks.
 *
 * * Path (P20, P25): missing parent directories are created with mode 0o700; a stale socket file is
 *   replaced; a directory, regular file or anything else at the path is an init error. The socket file
 *   is created owner-only (0600) and removed when the driver stops.
 * * One collector at a time (P22); after a disconnect the driver waits for the next one. A zero-length
 *   packet or EOF ends a stream; a read error ends it with a `Read error:` line.
 * * Each packet is decoded on its own bytes (P10); a packet that does not decode is logged with its
 *   size (never its content), counted and skipped, and the stream goes on. A packet that fills the read
 *   buffer (256 KiB) is treated as truncated and dropped (P28).
 * * Reading (issue 15) happens on a worker thread that owns the listener and the connections and hands
 *   packets over in batches: reading the socket overlaps decoding and evaluating here. The thread reads
 *   through our native addon (socket/NativeIntakeWorker.ts, native/seqpacket.c: every packet the socket
 *   holds per call, no JavaScript per packet) when it is built, else through node-unix-socket
 *   (socket/IntakeWorker.ts, one callback per packet), saying so in one line; `SF_SOCKET_READER`
 *   (`native`, `js`, `auto`) chooses.
 * * Overload (P21): real backpressure. At most `queue.size` records (default 65536, and 64 MiB) wait
 *   between the reader and this loop; beyond that the reader stops reading, the kernel's socket buffer
 *   fills and the collector blocks in `send()`, as with the reference. Only a waiting collector's
 *   packets (P22) can be dropped, beyond half the bound, counted with a warning at most every 5 s and a
 *   metric (`socketMetrics`).
 * * Chunks: no batching delay. Each time packets arrive, the loop decodes what the intake holds (up to
 *   CHUNK_SIZE records a chunk) and sends it, and it never holds a chunk while the socket is quiet: at
 *   1 event/s every record goes out alone at once; under load packets pile up while the pipeline works,
 *   so chunks grow. A chunk is decoded in one go (a few ms at most) and the loop then waits on the
 *   channel or the intake, so the event loop keeps turning.
 * * Time (the log rate limits) comes from Effect's Clock; nothing in the driver waits for time to pass.
 * * Stop (the runner interrupts the driver: first SIGINT/SIGTERM or a failing stage): the reader closes
 *   the listener and every connection and hands over what it read; everything received is decoded and
 *   sent, the socket file is removed; the runner then closes the channel and the pipeline drains. Packets
 *   still in the kernel's socket buffer at that moment are not read (the collector sees its connection
 *   closed).
 */
import { type Clock, Effect, Fiber, Runtime } from "effect"
import * as fs from "node:fs"
import { Worker } from "node:worker_threads"
import { SysFlowSchemaV4 } from "../../domain/avroSchema.js"
import { DriverError } from "../../domain/errors.js"
import { optionalKey, WholeNumber } from "../../domain/configValues.js"
import type { DriverEntry } from "../../domain/pipelineConfig.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { DatumError, makeSysFlowDecoder } from "../avro/SysFlowDecoder.js"
import { logHealth } from "../logging/SfLogger.js"
import { decodeDriverAttributes } from "../kernel/AttributeDecoder.js"
import { CHUNK_SIZE, type Channel, send } from "../kernel/Channel.js"
import type { DriverDefinition } from "../kernel/DriverRegistry.js"
import { stopPretenuring } from "../kernel/Pretenuring.js"
import { addNow, counter } from "../metrics/Metrics.js"
import { Intake, type IntakeLimits, type IntakeLog, type IntakeReader, LogLimiter, type Session, type SocketStats, makeSocketStats } from "./socket/Intake.js"
import {
  Flow,
  FLOW_SLOTS,
  FLUSH_BYTES,
  FLUSH_PACKETS,
  type IntakeCommand,
  type IntakeMessage,
  type IntakeWorkerData
} from "./socket/IntakeProtocol.js"
import { intakeWorkerSource } from "./socket/IntakeWorker.js"
import { nativeIntakeWorkerSource } from "./socket/NativeIntakeWorker.js"
import { loadNativeReader, type NativeReader, READER_VARIABLE, type ReaderChoice, readerChoice } from "./socket/NativeReader.js"
import {
  checkSocketPath,
  prepareSocketPath,
  refuseLiveSocket,
  removeSocketFile,
  type SocketFileId,
  socketFileId
} from "./socket/SocketPath.js"
import { importModule, resolveModule } from "../importModule.js"

export { type SocketStats, makeSocketStats } from "./socket/Intake.js"

const DRIVER = "socket"

/** Default bound of the intake queue, in records (P21). */
export const DEFAULT_QUEUE_SIZE = 65_536
/** Bound of the intake queue in bytes, whatever the record count. */
export const DEFAULT_QUEUE_BYTES = 64 * 1024 * 1024
/** The read buffer per packet (node-unix-socket's default); a packet this long is treated as truncated (P28). */
export const READ_BUFFER_SIZE = 256 * 1024
/** Connections that may wait behind the served one (P22). */
export const MAX_WAITING = 8
/** Listen backlog. */
const BACKLOG = 16

export interface SocketDriverOptions {
  /** Intake queue bound in records (`queue.size` in the driver's config block). */
  readonly queueSize?: number
  /** Intake queue bound in bytes. */
  readonly queueBytes?: number
  /** Read buffer size; a packet of this size or more is dropped as truncated. */
  readonly readBufferSize?: number
  /** Interval between two drop warnings. */
  readonly dropWarningMs?: number
  /** Counters to fill (for tests and metrics); a fresh set otherwise. */
  readonly stats?: SocketStats
  /** Which reader reads the socket (default `SF_SOCKET_READER`, else `auto`: the native one when it is built). */
  readonly reader?: ReaderChoice
}

/** Run-wide counters as Effect metrics (updated in batches by the driver loop). */
export const socketMetrics = {
  connections: counter("sfprocessor_socket_connections", "collector connections accepted"),
  records: counter("sfprocessor_socket_records", "records received and decoded"),
  malformed: counter("sfprocessor_socket_malformed", "packets that failed to decode (dropped)"),
  truncated: counter("sfprocessor_socket_truncated", "packets that filled the read buffer (dropped)"),
  dropped: counter("sfprocessor_socket_dropped", "packets dropped because the intake queue was full")
} as const

const METRIC_KEYS = Object.keys(socketMetrics) as ReadonlyArray<keyof typeof socketMetrics>

type NodeUnixSocket = typeof import("node-unix-socket")

let nodeUnixSocket: NodeUnixSocket | undefined

/** Loads node-unix-socket's native binding (only when the socket driver reads with it). */
const loadNodeUnixSocket: Effect.Effect<NodeUnixSocket, DriverError> = Effect.suspend(() =>
  nodeUnixSocket !== undefined
    ? Effect.succeed(nodeUnixSocket)
    : Effect.tryPromise({
        try: async () => (nodeUnixSocket = await importModule<NodeUnixSocket>("node-unix-socket")),
        catch: (e) =>
          new DriverError({
            reason: "Init",
            driver: DRIVER,
            detail: `the socket driver needs node-unix-socket's native binding (Linux): ${(e as Error).message}`,
            cause: e
          })
      })
)

const OptionKeys = { "queue.size": optionalKey(WholeNumber({ min: 1 })) }

/** The driver's config block; a bad value is an init error naming the entry. */
const decodeOptions = (config: DriverEntry): Effect.Effect<SocketDriverOptions, DriverError> =>
  Effect.map(decodeDriverAttributes(DRIVER, OptionKeys, config), (keys) =>
    keys["queue.size"] === undefined ? {} : { queueSize: keys["queue.size"] }
  )

/** What reads the socket: the native addon, or node-unix-socket (with the reason, logged once at start). */
type Reader = { readonly native: NativeReader } | { readonly module: string; readonly why: string }

/** The reader `options` (or `SF_SOCKET_READER`) ask for; node-unix-socket when the native one is not built, unless `native` is demanded. */
const selectReader = (options: SocketDriverOptions): Effect.Effect<Reader, DriverError> =>
  Effect.gen(function* () {
    const choice = options.reader ?? readerChoice(process.env[READER_VARIABLE])
    if (typeof choice !== "string") return yield* new DriverError({ reason: "Init", driver: DRIVER, detail: choice.error })
    const native = choice === "js" ? undefined : loadNativeReader()
    if (native !== undefined && "addon" in native) return { native }
    if (choice === "native") {
      return yield* new DriverError({
        reason: "Init",
        driver: DRIVER,
        detail: `${READER_VARIABLE}=native, but the native socket reader is not available: ${native?.unavailable}`
      })
    }
    yield* loadNodeUnixSocket
    const why =
      native === undefined
        ? `Reading the socket with node-unix-socket (${READER_VARIABLE}=js), which is slower than the native reader (about 80,000 packets/s at most)`
        : `The native socket reader is not available (${native.unavailable}); reading the socket with node-unix-socket, which is slower (about 80,000 packets/s at most)`
    return { module: resolveModule("node-unix-socket"), why }
  })

/**
 * The driver's init step: checks the path (P25: a directory or a non-socket file is an init error), reads
 * the config block (`queue.size`) and loads the reader (the native one, or node-unix-socket). Listening
 * happens in `runSocketDriver`.
 */
export const initSocketDriver = (
  input: string,
  config?: DriverEntry
): Effect.Effect<SocketDriverOptions, DriverError> =>
  Effect.gen(function* () {
    const state = checkSocketPath(input)
    if (state instanceof DriverError) return yield* state
    if (state === "socket") yield* refuseLiveSocket(input) // before any output is touched
    const options = config === undefined ? {} : yield* decodeOptions(config)
    yield* selectReader(options)
    return options
  })

/** The reader thread and the intake it feeds, listening on the path with an owner-only socket file. */
interface Listening {
  readonly intake: Intake
  readonly worker: Worker
  readonly id: SocketFileId | undefined
  /** Closes the native reader's wake-up descriptor, once the worker is gone. */
  readonly closeWake: () => void
}

/** The worker's next message of kind `t` (its first `ready`, a `listenError` after a failed listen). */
const nextMessage = <T extends IntakeMessage["t"]>(worker: Worker, t: T): Effect.Effect<Extract<IntakeMessage, { t: T }>, DriverError> =>
  Effect.async((resume) => {
    const onMessage = (m: IntakeMessage) => {
      if (m.t !== t) return
      off()
      resume(Effect.succeed(m as Extract<IntakeMessage, { t: T }>))
    }
    const onError = (e: Error) => {
      off()
      resume(Effect.fail(new DriverError({ reason: "Run", driver: DRIVER, detail: `the socket reader thread failed: ${e.message}`, cause: e })))
    }
    const off = () => {
      worker.off("message", onMessage)
      worker.off("error", onError)
    }
    worker.on("message", onMessage)
    worker.on("error", onError)
    return Effect.sync(off)
  })

/**
 * Starts the reader thread and has it listen on the path. Owner-only from the start (no window in which
 * others could connect): the process umask is 0177 while the worker binds, and this thread waits for it
 * (a few hundred microseconds); then chmod to be sure.
 */
const listen = (
  socketPath: string,
  limits: IntakeLimits,
  reader: Reader,
  makeIntake: (reader: IntakeReader) => Intake
): Effect.Effect<Listening, DriverError> =>
  Effect.gen(function* () {
    // A live stream's records are short-lived: keep them in the young generation (Pretenuring.ts).
    stopPretenuring()
    const shared = new SharedArrayBuffer(FLOW_SLOTS * Int32Array.BYTES_PER_ELEMENT)
    const flow = new Int32Array(shared)
    const addon = "native" in reader ? reader.native.addon : undefined
    // The native reader's wake-up: created and closed here, so that no wake can reach a reused descriptor.
    const wakeFd = addon === undefined ? -1 : addon.eventfd()
    const wake = addon === undefined ? () => {} : () => addon.wake(wakeFd)
    const workerData: IntakeWorkerData = {
      module: "native" in reader ? reader.native.file : reader.module,
      wakeFd,
      socketPath,
      backlog: BACKLOG,
      readBufferSize: limits.readBufferSize,
      maxRecords: limits.maxRecords,
      maxBytes: limits.maxBytes,
      maxWaiting: limits.maxWaiting,
      flow: shared,
      slots: Flow,
      flushBytes: FLUSH_BYTES,
      flushPackets: FLUSH_PACKETS
    }
    const worker = new Worker(addon === undefined ? intakeWorkerSource() : nativeIntakeWorkerSource(), { eval: true, workerData })
    const command = (c: IntakeCommand) => worker.postMessage(c)
    // A reader blocked in poll(2) would hold up process.exit (Node joins its worker threads): stop it first.
    const onExit = () => {
      Atomics.store(flow, Flow.stop, 1)
      wake()
    }
    if (addon !== undefined) process.once("exit", onExit)
    const closeWake = () => {
      process.off("exit", onExit)
      addon?.close(wakeFd)
    }
    const fail = (detail: string, cause?: unknown) => {
      void worker.terminate().finally(closeWake)
      return new DriverError({ reason: "Run", driver: DRIVER, detail: `listen error: ${socketPath}: ${detail}`, cause })
    }
    yield* nextMessage(worker, "ready").pipe(Effect.mapError((e) => fail(e.detail, e)))
    const umask = process.umask(0o177)
    try {
      command({ t: "listen" })
      Atomics.wait(flow, Flow.listened, 0, 10_000)
    } finally {
      process.umask(umask)
    }
    const listened = Atomics.load(flow, Flow.listened)
    if (listened !== 1) {
      const detail = listened === 2 ? (yield* nextMessage(worker, "listenError").pipe(Effect.mapError((e) => fail(e.detail, e)))).message : "the reader thread did not listen within 10 s"
      return yield* Effect.fail(fail(detail))
    }
    const intake = makeIntake({
      flow,
      stop: () => {
        command({ t: "stop" })
        wake()
      },
      wake
    })
    worker.on("message", (m: IntakeMessage) => intake.onMessage(m))
    worker.on("error", (e: Error) => intake.readerFailed(e))
    worker.on("exit", (code) => intake.readerFailed(new Error(`the reader thread exited (code ${code})`)))
    const id = socketFileId(socketPath)
    try {
      fs.chmodSync(socketPath, 0o600)
    } catch (e) {
      intake.stop()
      removeSocketFile(socketPath, id)
      return yield* Effect.fail(fail((e as Error).message, e))
    }
    return { intake, worker, id, closeWake }
  })

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/**
 * Serves collectors on `input` until interrupted, feeding `output`. Same shape as `runFileDriver`;
 * `options` come from `initSocketDriver`.
 */
export const runSocketDriver = (
  input: string,
  output: Channel<SysFlowDatum>,
  options: SocketDriverOptions = {}
): Effect.Effect<void, DriverError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const reader = yield* selectReader(options)
      const limits: IntakeLimits = {
        maxRecords: options.queueSize ?? DEFAULT_QUEUE_SIZE,
        maxBytes: options.queueBytes ?? DEFAULT_QUEUE_BYTES,
        readBufferSize: options.readBufferSize ?? READ_BUFFER_SIZE,
        maxWaiting: MAX_WAITING
      }
      const runSync = Runtime.runSync(yield* Effect.runtime<never>())
      const log: IntakeLog = (level, message) =>
        runSync(
          level === "Info"
            ? Effect.logInfo(message)
            : level === "Warn"
              ? Effect.logWarning(message)
              : level === "Error"
                ? Effect.logError(message)
                : logHealth(message)
        )
      const clock = yield* Effect.clock
      const stats = options.stats ?? makeSocketStats()

      if ("why" in reader) yield* Effect.logInfo(reader.why)
      yield* prepareSocketPath(input)
      // Released last: the reader thread ends once the loop below took everything it handed over.
      const { intake } = yield* Effect.acquireRelease(
        listen(input, limits, reader, (intakeReader) => new Intake(limits, intakeReader, log, clock, stats, options.dropWarningMs)),
        ({ intake, worker, id, closeWake }) =>
          Effect.promise(() => {
            intake.stop()
            removeSocketFile(input, id)
            return worker.terminate().finally(closeWake)
          })
      )
      yield* Effect.logInfo(`Listening for a collector on ${input}`)

      // The loop is never interrupted: a stop closes the intake, and the loop sends what was received.
      // Forked with its finalizer in one uninterruptible step, so a stop can never orphan it.
      const loop = yield* Effect.uninterruptible(
        Effect.tap(Effect.forkDaemon(serve(intake, output, clock, log)), (fiber) =>
          Effect.addFinalizer(() => Effect.sync(() => intake.stop()).pipe(Effect.zipRight(Fiber.await(fiber))))
        )
      )
      yield* Fiber.join(loop)
    })
  )

/** Takes packets from the intake, decodes them and sends chunks until stopped (or the listener failed). */
const serve = (
  intake: Intake,
  output: Channel<SysFlowDatum>,
  clock: Clock.Clock,
  log: IntakeLog
): Effect.Effect<void, DriverError> =>
  Effect.gen(function* () {
    const decoder = makeSysFlowDecoder(SysFlowSchemaV4)
    const malformedLog = new LogLimiter(10_000, 10, clock)
    const stats = intake.stats
    const reported = { connections: 0, records: 0, malformed: 0, truncated: 0, dropped: 0 }
    let batch: SysFlowDatum[] = []

    const syncMetrics = Effect.sync(() => {
      for (const key of METRIC_KEYS) {
        const delta = stats[key] - reported[key]
        if (delta > 0) {
          reported[key] = stats[key]
          addNow(socketMetrics[key], delta)
        }
      }
    })

    const flush = Effect.suspend(() => {
      if (batch.length === 0) return Effect.void
      const chunk = batch
      batch = []
      return send(output, chunk).pipe(Effect.zipRight(syncMetrics))
    })

    /** Decodes what the session has queued into the batch, up to a full chunk; the reader may then read more. */
    const decodeQueued = (s: Session): void => {
      for (let p = intake.take(s); p !== undefined; p = batch.length >= CHUNK_SIZE ? undefined : intake.take(s)) {
        let datum: SysFlowDatum
        try {
          datum = decoder.decodeOne(p)
        } catch (e) {
          stats.malformed++
          s.counts.malformed++
          const { log: now, held } = malformedLog.take()
          if (now) {
            const where = e instanceof DatumError ? ` at byte ${e.bytePos}` : ""
            log(
              "Error",
              `Deserialization error: ${(e as Error).message}${where}; packet of ${p.length} bytes dropped` +
                (held > 0 ? ` (${plural(held, "similar message")} suppressed)` : "")
            )
          }
          continue
        }
        batch.push(datum)
        stats.records++
        s.counts.records++
        if (!s.firstRecordLogged) {
          s.firstRecordLogged = true
          log("Health", "Successfully read first record from input stream")
        }
      }
      intake.release()
    }

    const endStream = (s: Session): void => {
      const held = malformedLog.drainHeld() + intake.truncatedLog.drainHeld()
      const c = s.counts
      log(
        "Info",
        `Input stream ended (${s.endReason}): ${plural(c.records, "record")}, ${c.malformed} malformed, ` +
          `${c.truncated} truncated, ${c.dropped} dropped` + (held > 0 ? ` (${plural(held, "log line")} suppressed)` : "")
      )
      intake.finish(s)
    }

    // Decode what is there, send it, and wait only when the intake is empty: a chunk is never held.
    for (;;) {
      const since = intake.version
      const s = intake.current
      if (s === undefined) {
        if (intake.stopped || intake.failure !== undefined) break
        yield* waitFor(intake, since)
        continue
      }
      if (!s.announced) {
        s.announced = true
        log("Health", "Successfully accepted new input stream")
      }
      decodeQueued(s)
      if (batch.length > 0) {
        yield* flush // packets that arrive meanwhile make the next chunk
        continue
      }
      if (s.ended) {
        endStream(s)
        if (intake.current === undefined && !intake.stopped && intake.failure === undefined) {
          log("Info", "Waiting for the next collector")
        }
        continue
      }
      yield* waitFor(intake, since)
    }
    intake.reportDrops(true)
    yield* syncMetrics
    if (intake.failure !== undefined) {
      return yield* new DriverError({ reason: "Run", driver: DRIVER, detail: `accept error: ${intake.failure.message}`, cause: intake.failure })
    }
  })

/**
 * Waits until the intake changes after `since` (a packet, a connection, an end, a stop, a failure). No
 * canceler: the loop that waits is never interrupted (it is forked uninterruptible), and an `Effect.async`
 * with one leaves objects that outlive two scavenges on every wait (kernel/Channel.ts).
 */
const waitFor = (intake: Intake, since: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    intake.onWake(since, () => resume(Effect.void))
  })

export const socketDriver: DriverDefinition = {
  spec: { name: DRIVER, emits: "sysflowchan", output: "out" },
  init: (input, config) => Effect.map(initSocketDriver(input, config), (options) => (output) => runSocketDriver(input, output, options))
}
