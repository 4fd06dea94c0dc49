/**
 * The CLI bundle started as a file worker (docs/parallel.md): builds the pipeline's stages with the
 * application's layers and serves the main thread's files until it says end.
 */
import { Effect, Logger, LogLevel } from "effect"
import type { MessagePort } from "node:worker_threads"
import { hashingReady } from "../domain/xxhash.js"
import { FileWorkerLive } from "../layers/MainLive.js"
import { buildNodes, runFileWorker } from "../services/parallel/FileWorker.js"
import { FILE_WORKER, type WorkerSetup } from "../services/parallel/WorkerProtocol.js"

export const isFileWorkerSetup = (data: unknown): data is WorkerSetup =>
  typeof data === "object" && data !== null && (data as { sfprocessor?: unknown }).sfprocessor === FILE_WORKER

export const runFileWorkerThread = (setup: WorkerSetup, port: MessagePort): void => {
  Effect.runFork(
    Effect.promise(() => hashingReady).pipe(
      Effect.zipRight(Effect.scoped(runFileWorker(setup, port, buildNodes(setup), true))),
      Effect.provide(FileWorkerLive),
      Effect.provide(Logger.minimumLogLevel(setup.trace ? LogLevel.Trace : LogLevel.Info))
    )
  )
}
