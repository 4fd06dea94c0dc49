/**
 * The `file` driver (pipeline.md §10.1): reads a trace file, or every file of a directory in name order,
 * into the pipeline's root channel.
 *
 * The input is listed when the driver is initialised (`initFileDriver`), so a missing path or an empty
 * directory is a load error, found before any output is touched. A file that cannot be read (it cannot
 * be opened, is not an Avro container, has a schema we cannot read, or a corrupt or truncated block) is
 * reported with its name and byte offset and counted as a decode error; what was decoded before the
 * fault is kept, the rest of that file skipped and the next file read (P16, X1); the run then ends with
 * the error (exit 1).
 */
import { Effect, Stream } from "effect"
import { Text, withDefault } from "../../domain/configValues.js"
import { DriverError, type TraceError } from "../../domain/errors.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { add, decodeErrors } from "../metrics/Metrics.js"
import { decodeDriverAttributes } from "../kernel/AttributeDecoder.js"
import { type Channel, send } from "../kernel/Channel.js"
import type { DriverDefinition } from "../kernel/DriverRegistry.js"
import { listTraceFiles, readTraceFile } from "./TraceFiles.js"

/** How many faults the final error quotes (each was logged when it happened). */
const QUOTED_FAULTS = 5

/** Lists the input (a missing path or an empty directory fails here), then reads it when run. */
export const initFileDriver = (
  input: string
): Effect.Effect<(output: Channel<SysFlowDatum>) => Effect.Effect<void, DriverError>, DriverError> =>
  Effect.map(listTraceFiles(input), (files) => (output) => runFileDriver(files, output))

export const runFileDriver = (
  files: ReadonlyArray<string>,
  output: Channel<SysFlowDatum>
): Effect.Effect<void, DriverError> =>
  Effect.gen(function* () {
    const faults: TraceError[] = []
    for (const file of files) {
      yield* Effect.logInfo(`Reading trace file ${file}`).pipe(Effect.annotateLogs("component", "file"))
      const result = yield* readTraceFile(file).pipe(
        Stream.runForEach((chunk) => send(output, chunk)),
        Effect.either
      )
      if (result._tag === "Left") {
        const e = result.left
        // The reference's two texts: a datum fault (the rest of the file is skipped), a file it cannot read.
        const what = e.reason === "Block" || e.reason === "Datum" ? "Datum reading error" : "Reader error"
        yield* Effect.logError(`${what}: ${e.message}`)
        yield* add(decodeErrors, 1, { driver: "file" })
        faults.push(e)
      }
    }
    if (faults.length > 0) {
      const more = faults.length > QUOTED_FAULTS ? `; and ${faults.length - QUOTED_FAULTS} more (logged above)` : ""
      return yield* new DriverError({
        reason: "Run",
        driver: "file",
        detail: `${faults.length} trace file(s) could not be read completely: ${faults.slice(0, QUOTED_FAULTS).map((e) => e.message).join("; ")}${more}`
      })
    }
  })

/** The file driver's config block: `path` replaces the CLI's input path. */
const FileDriverKeys = { path: withDefault(Text, "") }

export const fileDriver: DriverDefinition = {
  spec: { name: "file", emits: "sysflowchan", output: "out" },
  init: (input, config) =>
    Effect.gen(function* () {
      const keys = config === undefined ? { path: "" } : yield* decodeDriverAttributes("file", FileDriverKeys, config)
      return yield* initFileDriver(keys.path !== "" ? keys.path : input)
    })
}
