/**
 * The `file` driver (pipeline.md §10.1): reads a trace file, or every file of a directory in name order,
 * into the pipeline's root channel. A corrupt or truncated file is reported with its byte offset; what
 * was decoded before the fault is kept, the rest of that file skipped and the next file read; the run
 * then ends with the error (exit 1). A file whose header cannot be read stops the driver (P16: after
 * draining what was accepted).
 */
import { Effect, Ref, Stream } from "effect"
import { DriverError, type TraceError } from "../../domain/errors.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { add, decodeErrors } from "../metrics/Metrics.js"
import { type Channel, send } from "../pipeline/Channel.js"
import { listTraceFiles, readTraceFile } from "./TraceFiles.js"

/** Faults after which the next file of a directory is still read (the reference's "Datum reading error"). */
const recoverable = (e: TraceError): boolean => e.reason === "Block" || e.reason === "Datum"

export const runFileDriver = (
  input: string,
  output: Channel<SysFlowDatum>
): Effect.Effect<void, DriverError> =>
  Effect.gen(function* () {
    const files = yield* listTraceFiles(input)
    const faults = yield* Ref.make<ReadonlyArray<TraceError>>([])
    for (const file of files) {
      yield* Effect.logInfo(`Reading trace file ${file}`).pipe(Effect.annotateLogs("component", "file"))
      const result = yield* readTraceFile(file).pipe(
        Stream.runForEach((chunk) => send(output, chunk)),
        Effect.either
      )
      if (result._tag === "Left") {
        const e = result.left
        if (!recoverable(e)) {
          return yield* new DriverError({ reason: "Run", driver: "file", detail: `Reader error: ${e.message}`, cause: e })
        }
        yield* Effect.logError(`Datum reading error: ${e.message}`)
        yield* add(decodeErrors, 1, { driver: "file" })
        yield* Ref.update(faults, (fs) => [...fs, e])
      }
    }
    const all = yield* Ref.get(faults)
    if (all.length > 0) {
      return yield* new DriverError({
        reason: "Run",
        driver: "file",
        detail: `${all.length} trace file(s) could not be read completely: ${all.map((e) => e.message).join("; ")}`
      })
    }
  })
