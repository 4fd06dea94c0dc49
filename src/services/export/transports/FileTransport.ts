/**
 * `export: file`: JSON lines appended to `file.path` (pipeline.md §11.3). Creating the transport only
 * validates the path, so a run that fails to load leaves the previous export as it was. `open` (once
 * the whole pipeline loaded, never under `-test`) keeps the previous run's output by renaming a
 * non-empty regular file to `<file>.1` (replacing an older one; the reference deletes it), then opens
 * the file for append with mode 0644. Symlinks are followed: the file they reach is rotated, beside
 * itself, and the link kept. A device, a FIFO or a file reached through /proc (`/dev/stdout`) is only
 * opened. The file never ends inside a line (see LineFile); closed when the exporter's scope ends.
 */
import { Effect, Scope } from "effect"
import { ExportError } from "../../../domain/errors.js"
import { batchSize, textOf } from "../ExportBatch.js"
import type { TransportFactory } from "../Transport.js"
import { checkWritable, resolveFileTarget, rotatePrevious, rotatedPath } from "./FileTarget.js"
import { LineFile, WriteFailure } from "./LineFile.js"

const fail = (path: string, reason: "Open" | "Write", what: string) => (e: unknown) =>
  new ExportError({ reason, transport: "file", detail: `${what} ${path}: ${(e as Error).message}`, cause: e })

/** The write error, with how much of the batch reached the file (those records count as exported). */
const writeError = (path: string, records: number) => (e: unknown) => {
  if (!(e instanceof WriteFailure)) return fail(path, "Write", "cannot write to")(e)
  const kept = e.truncateError === undefined
    ? `${e.delivered} of ${records} records written whole`
    : `${e.delivered} of ${records} records written whole, and the partial last line could not be removed: ${e.truncateError.message}`
  return new ExportError({ reason: "Write", transport: "file", detail: `cannot write to ${path}: ${e.message} (${kept})`, cause: e.reason, delivered: e.delivered })
}

export const makeFileTransport: TransportFactory = (_attrs, config) =>
  Effect.gen(function* () {
    const path = config.filePath
    const target = yield* Effect.tryPromise({ try: () => resolveFileTarget(path), catch: fail(path, "Open", "cannot open") })
    if (target.stat?.isDirectory()) return yield* Effect.fail(fail(path, "Open", "cannot write to")(new Error("it is a directory")))
    yield* Effect.tryPromise({ try: () => checkWritable(target), catch: fail(path, "Open", "cannot open") })

    const scope = yield* Effect.scope
    let file: LineFile | undefined
    const open = Effect.suspend(() =>
      file !== undefined
        ? Effect.void
        : Effect.gen(function* () {
            const rotated = yield* Effect.tryPromise({
              try: () => rotatePrevious(target),
              catch: fail(path, "Open", `cannot keep the previous export (rename to ${rotatedPath(target)})`)
            })
            if (rotated !== undefined) yield* Effect.logInfo(`Previous export ${path} kept as ${rotated}`)
            const opened = yield* Effect.tryPromise({ try: () => LineFile.open(target), catch: fail(path, "Open", "cannot open") })
            file = opened
            yield* Scope.addFinalizer(scope, Effect.promise(() => opened.close().catch(() => undefined)))
          })
    )
    return {
      name: "file",
      open,
      // Opens on first use too, for callers that run a pipeline without its start step.
      send: (batch) =>
        Effect.zipRight(
          open,
          Effect.tryPromise({ try: () => file!.append(textOf(batch)), catch: writeError(path, batchSize(batch)) })
        ).pipe(Effect.as(0)),
      test: Effect.void
    }
  })
