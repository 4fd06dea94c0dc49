/** Every flat record of a trace file, read and flattened as the `sysflowreader` stage does. */
import { Chunk, Effect, Stream } from "effect"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { readTraceRecords } from "../../src/services/reader/TraceRecords.js"

export const traceRecords = async (file: string): Promise<ReadonlyArray<FlatRecord>> =>
  Chunk.toReadonlyArray(await Effect.runPromise(Stream.runCollect(readTraceRecords(file)))).flat()
