/**
 * What the main thread and a file worker say to each other (docs/parallel.md). A worker runs the
 * pipeline's stages on whole trace files and sends back, per file and in order, the exporters' encoded
 * bytes, its log lines and its counters; the main thread writes them in file order.
 */
import type { LogLevel } from "effect"

/** Marks a worker started by the parallel file run (`workerData.sfprocessor`). */
export const FILE_WORKER = "file-worker"

/** A stage of the pipeline graph as a worker rebuilds it: processor, attributes, channel names. */
export interface StageSpec {
  readonly processor: string
  readonly attributes: Readonly<Record<string, unknown>>
  readonly input: string
  readonly outputs: ReadonlyArray<string>
}

export interface WorkerSetup {
  readonly sfprocessor: typeof FILE_WORKER
  /** Stages in the graph's order; exporters are numbered by their position among the exporter stages. */
  readonly stages: ReadonlyArray<StageSpec>
  /** The channel the file driver writes. */
  readonly root: string
  /** Batches a worker may have sent and the main thread not yet written (its memory bound). */
  readonly credit: number
  /** `-log trace`: a worker sends trace lines too (otherwise nobody shows them). */
  readonly trace: boolean
  /** `-perflog` (the policy engine's `bench.*` keys). */
  readonly perflog: boolean
}

export type ToWorker =
  | { readonly t: "file"; readonly file: number; readonly path: string }
  /** Batches the main thread has written: the worker may send as many more. */
  | { readonly t: "credit"; readonly n: number }
  /** Block `block` was written: the worker may copy another batch into it. */
  | { readonly t: "free"; readonly block: number }
  /** Stop after the current chunk (a signal asked for a drain). */
  | { readonly t: "stop" }
  /** No more files: send the end-of-run diagnostics and exit. */
  | { readonly t: "end" }

/** A counter's increase over one file, as the `Metrics.ts` counter it belongs to. */
export interface CounterDelta {
  readonly name: string
  readonly tags: ReadonlyArray<readonly [string, string]>
  readonly delta: number
}

export interface LogItem {
  readonly level: LogLevel.Literal
  readonly message: string
  readonly annotations: ReadonlyArray<readonly [string, string]>
}

/** Records the flattener could not join, per reader stage (summed over workers at the end). */
export type ReaderDiagnostics = Readonly<Record<string, number>>

export type FromWorker =
  /** A new shared block, numbered `block`, that batches name from now on. */
  | { readonly t: "block"; readonly block: number; readonly shared: SharedArrayBuffer }
  /**
   * One chunk's documents for exporter `exporter`: the first `length` bytes of block `block` (`read`:
   * datums read since the previous message).
   */
  | {
      readonly t: "batch"
      readonly file: number
      readonly exporter: number
      readonly block: number
      readonly length: number
      readonly ends: Uint32Array
      readonly ids: ReadonlyArray<string> | undefined
      readonly read: number
    }
  | { readonly t: "log"; readonly file: number; readonly item: LogItem }
  /**
   * The file is finished: `fault` is the message of a read fault that ended it early (the rest of the
   * file was skipped, as the file driver does); `stopped` when a stop ended it.
   */
  | {
      readonly t: "done"
      readonly file: number
      readonly read: number
      readonly counters: ReadonlyArray<CounterDelta>
      readonly fault: { readonly reason: string; readonly message: string } | undefined
      readonly stopped: boolean
    }
  | { readonly t: "end"; readonly diagnostics: ReadonlyArray<ReaderDiagnostics> }
  /** The worker could not go on (its stages failed to build or to run). */
  | { readonly t: "failed"; readonly message: string }
