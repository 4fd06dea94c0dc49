/**
 * The main thread's side of a parallel file run (docs/parallel.md): starts the file workers, assigns
 * them the trace files in name order (each holds the file it reads and the next), and writes what they
 * send back in file order: a file's documents go to the pipeline's exporters (their batching and
 * transports, as in a one-thread run), then its log lines and counters are taken over; documents of a
 * file that is ahead wait until every file before it was written (at most `CREDIT` batches per worker).
 *
 * A stop (signal) asks every worker to end its file after the current chunk: files are written up to
 * and including the first one that was cut, so the output is a prefix of the whole run's output, as a
 * one-thread run's is. A worker that fails or dies fails the run, after what was written.
 */
import { Deferred, Effect, Fiber, LogLevel, Queue, type Scope } from "effect"
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads"
import { DriverError, type PipelineError } from "../../domain/errors.js"
import { reportFault, unreadableFiles } from "../drivers/FileDriver.js"
import { TextBatch } from "../export/ExportBatch.js"
import type { SomeChannel } from "../kernel/Channel.js"
import type { PipelineRun } from "../kernel/Runner.js"
import { withHealth } from "../metrics/Health.js"
import { type FlattenerDiagnostics } from "../reader/Flattener.js"
import { readerWarning } from "../reader/SysFlowReader.js"
import { addCounterDeltas } from "./CounterDeltas.js"
import { runFileWorker } from "./FileWorker.js"
import type { ParallelPlan } from "./ParallelPlan.js"
import { FILE_WORKER, type FromWorker, type LogItem, type ReaderDiagnostics, type ToWorker, type WorkerSetup } from "./WorkerProtocol.js"

/** Batches (chunks of one exporter) a worker may send ahead of what was written: about 10 MiB of JSON. */
export const CREDIT = 4

/**
 * Files a worker holds assigned: the one it reads and the next, which it starts at once. With one, a
 * worker that finished a file waited for the main thread (busy with a file of its own) to take the
 * message and hand it another: 20% of the worker thread's time on the ×155 replay (CPU profile), against
 * 7–9% with two.
 */
export const PREFETCH = 2

/** A worker's young generation: V8's default (48 MiB) costs RSS and bought no speed on the bench replay. */
const WORKER_YOUNG_GENERATION_MB = 16

type FileItem = Exclude<FromWorker, { t: "end" } | { t: "failed" } | { t: "block" }>

interface FileSlot {
  readonly worker: number
  readonly items: FileItem[]
}

const replayLog = (item: LogItem) =>
  Effect.logWithLevel(LogLevel.fromLiteral(item.level), item.message).pipe(Effect.annotateLogs(Object.fromEntries(item.annotations)))

const sumDiagnostics = (all: ReadonlyArray<ReadonlyArray<ReaderDiagnostics>>): ReadonlyArray<FlattenerDiagnostics> => {
  const sums: FlattenerDiagnostics[] = []
  for (const perWorker of all) {
    perWorker.forEach((d, i) => {
      const s = (sums[i] ??= { missingProcess: 0, missingContainer: 0, missingPod: 0, missingFile: 0 })
      for (const k of Object.keys(s) as Array<keyof FlattenerDiagnostics>) s[k] += d[k] ?? 0
    })
  }
  return sums
}

const workerFailure = (detail: string) => new DriverError({ reason: "Run", driver: "file", detail: `file worker: ${detail}` })

/**
 * Starts the workers (`entry`: the script that runs the CLI bundle) and the writer; `root` is the file
 * driver's channel, whose count of records sent is what progress lines and the summary read.
 */
export const startParallelFiles = (
  plan: ParallelPlan,
  entry: string,
  root: SomeChannel,
  options: { readonly trace: boolean; readonly perflog: boolean }
): Effect.Effect<PipelineRun, never, Scope.Scope> =>
  Effect.gen(function* () {
    const setup: WorkerSetup = { sfprocessor: FILE_WORKER, stages: plan.stages, root: plan.root, credit: CREDIT, trace: options.trace, perflog: options.perflog }
    const wake = yield* Queue.sliding<void>(1)
    const slots = new Map<number, FileSlot>()
    const diagnostics: Array<ReadonlyArray<ReaderDiagnostics>> = []
    let next = 0
    /** Workers told that no file is left. */
    const told = new Set<number>()
    let stopping = false
    let failure: string | undefined
    let ended = 0
    const allEnded = yield* Deferred.make<void>()

    /** Each worker's shared blocks, by number. */
    const shared: Array<Uint8Array[]> = Array.from({ length: plan.workers }, () => [])
    /** The main thread's own file worker (0), then the worker threads. */
    const workers: Array<Worker | MessagePort> = []
    const assign = (w: number) => {
      const worker = workers[w]
      if (told.has(w)) return
      if (!stopping && failure === undefined && next < plan.files.length) {
        const file = next++
        slots.set(file, { worker: w, items: [] })
        worker.postMessage({ t: "file", file, path: plan.files[file] } satisfies ToWorker)
      } else {
        told.add(w)
        worker.postMessage({ t: "end" } satisfies ToWorker)
      }
    }
    /** Asks every worker to end its file after the current chunk, and wakes the writer to see why. */
    const stopWorkers = () => {
      for (const w of workers) w.postMessage({ t: "stop" } satisfies ToWorker)
      Queue.unsafeOffer(wake, undefined)
    }
    const fail = (detail: string) => {
      failure ??= detail
      stopWorkers()
    }
    const finished = () => {
      if (++ended === workers.length) Deferred.unsafeDone(allEnded, Effect.void)
    }

    const receive = (w: number, m: FromWorker, gone: () => void) => {
      switch (m.t) {
        case "failed":
          gone()
          fail(m.message)
          return finished()
        case "end":
          gone()
          diagnostics.push(m.diagnostics)
          return finished()
        case "block":
          shared[w][m.block] = new Uint8Array(m.shared)
          return
        default:
          slots.get(m.file)?.items.push(m)
          if (m.t === "done") assign(w)
          Queue.unsafeOffer(wake, undefined)
      }
    }

    // The main thread is a file worker too (it is otherwise idle between writes), over a channel to itself,
    // with the stages it already built: one isolate fewer than a thread per core.
    const local = new MessageChannel()
    local.port2.on("message", (m: FromWorker) => receive(0, m, () => local.port2.close()))
    workers.push(local.port2)
    yield* Effect.forkScoped(Effect.interruptible(runFileWorker(setup, local.port1, Effect.succeed(plan.localNodes), false)))

    const threads: Worker[] = []
    for (let w = 1; w < plan.workers; w++) {
      const worker = new Worker(entry, { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } })
      let gone = false
      worker.on("message", (m: FromWorker) => receive(w, m, () => void (gone = true)))
      worker.on("error", (e) => fail(e.message))
      worker.on("exit", (code) => {
        if (gone) return
        gone = true
        fail(`worker thread exited with code ${code} before the end of the run`)
        finished()
      })
      workers.push(worker)
      threads.push(worker)
    }
    yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all(threads.map((w) => w.terminate()))))
    for (let k = 0; k < PREFETCH; k++) for (let w = 0; w < workers.length; w++) assign(w)

    /** A written batch's block is free again for the worker that filled it. */
    const giveBack = (w: number, block: number) => () => workers[w].postMessage({ t: "free", block } satisfies ToWorker)

    /** Writes the files' items in file order; ends after the last file, a file cut by a stop, or a failure. */
    const write = Effect.gen(function* () {
      const faults: string[] = []
      let head = 0
      while (head < plan.files.length && failure === undefined) {
        const slot = slots.get(head)
        if (slot === undefined && (stopping || head >= next)) break
        const item = slot?.items.shift()
        if (item === undefined) {
          yield* Queue.take(wake)
          continue
        }
        switch (item.t) {
          case "batch":
            root.state.sent += item.read
            const bytes = shared[slot!.worker][item.block].subarray(0, item.length)
            yield* plan.exporters[item.exporter].sendEncoded(new TextBatch({ bytes, ends: item.ends }, item.ids), giveBack(slot!.worker, item.block))
            workers[slot!.worker].postMessage({ t: "credit", n: 1 } satisfies ToWorker)
            break
          case "log":
            yield* replayLog(item.item)
            break
          case "done":
            root.state.sent += item.read
            yield* addCounterDeltas(item.counters)
            if (item.fault !== undefined) {
              yield* reportFault(item.fault).pipe(Effect.annotateLogs("component", "file"))
              faults.push(item.fault.message)
            }
            slots.delete(head++)
            if (item.stopped) return faults
        }
      }
      return faults
    })

    // The writer is a fiber of the run's scope, as the runner's stages are: a signal interrupts the wait
    // for it (`done`), never a write under way.
    const finish: Effect.Effect<void, PipelineError> = Effect.gen(function* () {
      const written = yield* Effect.either(write)
      if (written._tag === "Left") fail(written.left.message)
      // Whatever is still running was cut by a stop or a failure: let it finish without waiting for the
      // writer (its documents are not written).
      stopWorkers()
      for (const w of workers) w.postMessage({ t: "credit", n: Number.MAX_SAFE_INTEGER } satisfies ToWorker)
      yield* Deferred.await(allEnded)
      if (written._tag === "Left") return yield* Effect.fail(written.left)
      if (failure !== undefined) return yield* workerFailure(failure)
      for (const d of sumDiagnostics(diagnostics)) {
        const warning = readerWarning(d)
        if (warning !== undefined) yield* Effect.logWarning(warning).pipe(Effect.annotateLogs("component", "sysflowreader"))
      }
      for (const e of plan.exporters) yield* e.onEnd.pipe(Effect.annotateLogs("component", "exporter"))
      if (written.right.length > 0) return yield* unreadableFiles(written.right)
    }).pipe(Effect.tapError((e) => withHealth((h) => h.set("driver file", false, e.message))))

    yield* withHealth((h) => h.set("driver file", true))
    const writer = yield* Effect.forkScoped(Effect.interruptible(finish))
    const done = Fiber.join(writer)
    return {
      stop: Effect.sync(() => {
        stopping = true
        stopWorkers()
      }),
      done
    }
  })
