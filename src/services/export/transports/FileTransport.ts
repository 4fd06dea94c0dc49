/**
 * `export: file`: JSON lines appended to `file.path` (pipeline.md §11.3). A regular file is deleted at
 * init so each run starts empty; anything else at the path (a FIFO, `/dev/stdout`, a device) is only
 * opened, never removed. Opened for append with mode 0644, closed when the exporter's scope ends.
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import { ExportError } from "../../../domain/errors.js"
import { jsonLinesOf } from "../ExportBatch.js"
import type { TransportFactory } from "../Transport.js"

const fail = (path: string, reason: "Open" | "Write", what: string) => (e: unknown) =>
  new ExportError({ reason, transport: "file", detail: `${what} ${path}: ${(e as Error).message}`, cause: e })

export const makeFileTransport: TransportFactory = (_attrs, config) =>
  Effect.gen(function* () {
    const path = config.filePath
    const existing = yield* Effect.promise(() => fs.lstat(path).catch(() => undefined))
    if (existing?.isDirectory()) return yield* Effect.fail(fail(path, "Open", "cannot write to")(new Error("it is a directory")))
    if (existing?.isFile() || existing?.isSymbolicLink()) {
      yield* Effect.tryPromise({ try: () => fs.rm(path, { force: true }), catch: fail(path, "Open", "cannot remove the previous") })
    }
    const handle = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => fs.open(path, "a", 0o644), catch: fail(path, "Open", "cannot open") }),
      (h) => Effect.promise(() => h.close())
    )
    return {
      name: "file",
      send: (batch) =>
        Effect.tryPromise({ try: () => handle.writeFile(jsonLinesOf(batch)), catch: fail(path, "Write", "cannot write to") }).pipe(Effect.as(0)),
      test: Effect.void
    }
  })
