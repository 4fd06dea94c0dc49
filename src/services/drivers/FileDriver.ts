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
import { DriverError } from "../../domain/errors.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { add, decodeErrors } from "../metrics/Metrics.js"
import { decodeDriverAttributes } from "../kernel/AttributeDecoder.js"
import { type Channel, send } from "../kernel/Channel.js"
import type { DriverDefinition } from "../kernel/DriverRegistry.js"
import type { DriverEntry } from "../../domain/pipelineConfig.js"
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
    const faults: string[] = []
    for (const file of files) {
      yield* logReading(file)
      const result = yield* readTraceFile(file).pipe(
        Stream.runForEach((chunk) => send(output, chunk)),
        Effect.either
      )
      if (result._tag === "Left") {
        yield* reportFault(result.left)
        faults.push(result.left.message)
      }
    }
    if (faults.length > 0) return yield* unreadableFiles(faults)
  })

/** The line each file starts with. */
export const logReading = (file: string): Effect.Effect<void> =>
  Effect.logInfo(`Reading trace file ${file}`).pipe(Effect.annotateLogs("component", "file"))

/** Logs a file's read fault (the reference's two texts: a datum fault, or a file it cannot read) and counts it. */
export const reportFault = (e: { readonly reason: string; readonly message: string }): Effect.Effect<void> => {
  const what = e.reason === "Block" || e.reason === "Datum" ? "Datum reading error" : "Reader error"
  return Effect.zipRight(Effect.logError(`${what}: ${e.message}`), add(decodeErrors, 1, { driver: "file" }))
}

/** The run's error once every file was read, quoting the first faults (each was logged when it happened). */
export const unreadableFiles = (faults: ReadonlyArray<string>): Effect.Effect<never, DriverError> => {
  const more = faults.length > QUOTED_FAULTS ? `; and ${faults.length - QUOTED_FAULTS} more (logged above)` : ""
  return new DriverError({
    reason: "Run",
    driver: "file",
    detail: `${faults.length} trace file(s) could not be read completely: ${faults.slice(0, QUOTED_FAULTS).join("; ")}${more}`
  })
}

/** The file driver's config block: `path` replaces the CLI's input path. */
const FileDriverKeys = { path: withDefault(Text, "") }

/** The path the driver reads: its config's `path`, else the CLI's input. */
export const fileDriverInput = (input: string, config: DriverEntry | undefined): Effect.Effect<string, DriverError> =>
  config === undefined ? Effect.succeed(input) : Effect.map(decodeDriverAttributes("file", FileDriverKeys, config), (keys) => (keys.path !== "" ? keys.path : input))

export const fileDriver: DriverDefinition = {
  spec: { name: "file", emits: "sysflowchan", output: "out" },
  init: (input, config) => Effect.flatMap(fileDriverInput(input, config), initFileDriver)
}
