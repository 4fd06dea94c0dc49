/**
 * Flat records of a trace file, for library users and tests: the file driver's reading and the
 * flattener, without a pipeline.
 */
import { Stream } from "effect"
import type { TraceError } from "../../domain/errors.js"
import type { FlatRecord } from "../../domain/flatRecord.js"
import { readTraceFile } from "../drivers/TraceFiles.js"
import { Flattener } from "./Flattener.js"

/** The flat records of one trace file, in chunks, in file order. */
export const readTraceRecords = (file: string): Stream.Stream<ReadonlyArray<FlatRecord>, TraceError> =>
  Stream.suspend(() => {
    const flattener = new Flattener()
    return readTraceFile(file).pipe(
      Stream.map((chunk) => {
        const out: FlatRecord[] = []
        flattener.flatten(chunk, out)
        return out
      })
    )
  })
