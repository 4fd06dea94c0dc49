/**
 * A file worker (docs/parallel.md): a worker thread that runs the pipeline's stages on the trace files
 * the main thread assigns, one after another, and sends back each exporter's encoded documents chunk by
 * chunk, the file's log lines and its counters. The stages are the pipeline's own (built from the same
 * entries), called chunk by chunk in graph order; exporters only encode here: batching and transports
 * stay on the main thread, which writes the files' documents in file order.
 *
 * Memory is bounded by credits: a worker sends at most `credit` batches the main thread has not written
 * yet, then waits (a worker ahead of the file being written stops there).
 */
import { Cause, Deferred, Effect, FiberRef, HashSet, Logger, Queue, type Scope, Stream } from "effect"
import type { MessagePort } from "node:worker_threads"
import { errorText, TraceError } from "../../domain/errors.js"
import { logReading } from "../drivers/FileDriver.js"
import { readTraceFile } from "../drivers/TraceFiles.js"
import { type Encoder, EncoderRegistry } from "../export/Encoder.js"
import { textOf } from "../export/ExportBatch.js"
import { asEvents, type ExporterInput } from "../export/Exporter.js"
import { decodeExporterConfig } from "../export/ExporterConfig.js"
import { TransportRegistry } from "../export/Transport.js"
import { ProcessorRegistry } from "../kernel/ProcessorRegistry.js"
import { RunOptions } from "../kernel/RunOptions.js"
import { pipelineScheduler } from "../kernel/TurnTakingScheduler.js"
import type { SomeStage } from "../kernel/Stage.js"
import { messageText } from "../logging/SfLogger.js"
import { add, recordsIn, recordsOut } from "../metrics/Metrics.js"
import type { SysFlowReaderStage } from "../reader/SysFlowReader.js"
import { makeCounterDeltas } from "./CounterDeltas.js"
import type { FromWorker, ReaderDiagnostics, ToWorker, WorkerSetup } from "./WorkerProtocol.js"

/** The smallest block a batch is copied into (a chunk of JSON documents is about 2.5 MiB). */
const MIN_BLOCK = 4 * 1024 * 1024

/** A stage as a file worker runs it: a processor and its output channels, or an exporter's encoder. */
export type WorkerNode =
  | { readonly kind: "stage"; readonly stage: SomeStage; readonly outputs: ReadonlyArray<string> }
  | { readonly kind: "exporter"; readonly encoder: Encoder; readonly index: number }

/** Log lines go to the main thread as part of the current file; lines before the first file (the build) are the main thread's too, which logged them already. */
const forwardingLogger = (post: (m: FromWorker) => void, current: () => number, trace: boolean) =>
  Logger.make(({ annotations, cause, logLevel, message }) => {
    const file = current()
    if (file < 0 || (!trace && (logLevel._tag === "Debug" || logLevel._tag === "Trace"))) return
    const pairs: Array<readonly [string, string]> = []
    for (const [k, v] of annotations) pairs.push([k, String(v)])
    post({ t: "log", file, item: { level: logLevel._tag, message: messageText(message, cause), annotations: pairs } })
  })

/**
 * Serves files on `port` with the stages `nodes` builds. `carryCounters`: send the counters' growth with
 * each file (a worker thread, whose counters the main thread does not see); the main thread's own file
 * worker counts into the main thread's counters directly.
 */
export const runFileWorker = <R>(
  setup: WorkerSetup,
  port: MessagePort,
  nodes: Effect.Effect<ReadonlyArray<WorkerNode>, unknown, R>,
  carryCounters: boolean
): Effect.Effect<void, never, R> =>
  Effect.gen(function* () {
    const post = (m: FromWorker) => port.postMessage(m)
    let current = -1
    const inbox = yield* Queue.unbounded<ToWorker>()
    const credits = yield* Effect.makeSemaphore(setup.credit)
    // A stop ends the file at once, also while its read waits (a FIFO nobody writes to); a chunk already read is finished.
    const stop = yield* Deferred.make<void>()
    // Documents travel in shared blocks: a worker copies a chunk's bytes into a free one and names it; the
    // main thread says when it is free again. Moving (transferring) a fresh buffer per chunk instead made
    // each side count megabytes of new external memory per chunk, which brought a full GC every few
    // chunks (4x the mark-compacts of a one-thread run).
    const blocks: Uint8Array[] = []
    const free: number[] = []
    const blockFor = (n: number): number => {
      const i = free.findIndex((b) => blocks[b].length >= n)
      if (i >= 0) return free.splice(i, 1)[0]
      const shared = new SharedArrayBuffer(Math.max(n, MIN_BLOCK))
      blocks.push(new Uint8Array(shared))
      post({ t: "block", block: blocks.length - 1, shared })
      return blocks.length - 1
    }
    port.on("message", (m: ToWorker) => {
      if (m.t === "credit") Effect.runSync(credits.release(m.n))
      else if (m.t === "free") free.push(m.block)
      else if (m.t === "stop") Deferred.unsafeDone(stop, Effect.void)
      else Queue.unsafeOffer(inbox, m)
    })

    const work = Effect.gen(function* () {
      const built = yield* nodes
      const readers = new Map<string, WorkerNode[]>()
      for (const [i, s] of setup.stages.entries()) readers.set(s.input, [...(readers.get(s.input) ?? []), built[i]])
      const counters = carryCounters ? makeCounterDeltas() : Effect.succeed([])
      let read = 0

      const sendBatch = (node: Extract<WorkerNode, { kind: "exporter" }>, chunk: ReadonlyArray<ExporterInput>) =>
        Effect.suspend(() => {
          const batch = node.encoder.encode(asEvents(chunk))
          const text = textOf(batch)
          if (text.ends.length === 0) return Effect.void
          // Copies: the encoder's block goes back to its pool, the copy moves to the main thread.
          const block = blockFor(text.bytes.length)
          blocks[block].set(text.bytes)
          const length = text.bytes.length
          const ends = new Uint32Array(text.ends)
          const ids = batch.ids
          return Effect.zipRight(
            credits.take(1),
            Effect.sync(() => {
              // Posting copies `ends` and `ids`; the encoder may then reuse its block.
              post({ t: "batch", file: current, exporter: node.index, block, length, ends, ids, read })
              node.encoder.release?.(batch)
              read = 0
            })
          )
        })

      const deliver = (channel: string, chunk: ReadonlyArray<unknown>): Effect.Effect<void, unknown> =>
        chunk.length === 0
          ? Effect.void
          : Effect.forEach(
              readers.get(channel) ?? [],
              (node) =>
                node.kind === "exporter"
                  ? sendBatch(node, chunk as ReadonlyArray<ExporterInput>)
                  : Effect.gen(function* () {
                      yield* add(recordsIn, chunk.length, { stage: node.stage.name })
                      const out = yield* node.stage.onChunk(chunk)
                      if (out.length === 0) return
                      yield* add(recordsOut, out.length, { stage: node.stage.name })
                      yield* Effect.forEach(node.outputs, (o) => deliver(o, out), { discard: true })
                    }),
              { discard: true }
            )

      const runFile = (file: number, path: string) =>
        Effect.gen(function* () {
          current = file
          // A file assigned ahead (PREFETCH) that a stop came before: not read, not logged, as on one thread.
          if (yield* Deferred.isDone(stop)) return post({ t: "done", file, read: 0, counters: yield* counters, fault: undefined, stopped: true })
          yield* logReading(path)
          const result = yield* readTraceFile(path).pipe(
            Stream.interruptWhen(Deferred.await(stop)),
            Stream.runForEach((chunk) => {
              read += chunk.length
              return Effect.uninterruptible(deliver(setup.root, chunk))
            }),
            Effect.either
          )
          const fault = result._tag === "Left" && result.left instanceof TraceError ? { reason: result.left.reason, message: result.left.message } : undefined
          if (result._tag === "Left" && fault === undefined) return yield* Effect.fail(result.left)
          post({ t: "done", file, read, counters: yield* counters, fault, stopped: yield* Deferred.isDone(stop) })
          read = 0
        })

      while (true) {
        const m = yield* Queue.take(inbox)
        if (m.t === "end") break
        if (m.t === "file") yield* runFile(m.file, m.path)
      }
      const diagnostics: ReaderDiagnostics[] = built.flatMap((n) =>
        n.kind === "stage" && n.stage.name === "sysflowreader" ? [{ ...(n.stage as unknown as SysFlowReaderStage).diagnostics }] : []
      )
      post({ t: "end", diagnostics })
    })

    // Turn-taking, as the main thread's pipeline: a stop or a credit is a message, served between turns.
    yield* work.pipe(
      Effect.withScheduler(pipelineScheduler),
      Effect.provideService(RunOptions, { test: false, perflog: setup.perflog }),
      // Every line goes to the main thread's logger through the file's items (also on the main thread itself).
      Effect.locally(FiberRef.currentLoggers, HashSet.make(forwardingLogger(post, () => current, setup.trace))),
      Effect.catchAllCause((cause) => Effect.sync(() => post({ t: "failed", message: errorText(Cause.squash(cause)) })))
    )
    port.close()
  })

/** The pipeline's stages built anew (a worker thread): built-in processors from the registry, exporters as their encoders. */
export const buildNodes = (setup: WorkerSetup) =>
  Effect.gen(function* () {
    const processors = yield* ProcessorRegistry
    const encoders = yield* EncoderRegistry
    const transports = yield* TransportRegistry
    let exporters = 0
    return yield* Effect.forEach(setup.stages, (s): Effect.Effect<WorkerNode, unknown, Scope.Scope> => {
      if (s.processor !== "exporter") return Effect.map(processors.get(s.processor)!.make(s.attributes), (stage) => ({ kind: "stage", stage, outputs: s.outputs }))
      const index = exporters++
      return Effect.gen(function* () {
        const config = yield* decodeExporterConfig(s.attributes, [...transports.keys()], [...encoders.keys()])
        const encoder = yield* encoders.get(config.format)!(s.attributes, config)
        return { kind: "exporter", encoder, index }
      })
    })
  })
