/**
 * Reads SysFlow trace files (Avro OCF) as a stream of datum chunks: the file driver's data source
 * (pipeline.md §10.1). A directory is read as every entry in name order, no extension filter.
 *
 * A fault inside a file (corrupt or truncated block, bad datum) emits every datum decoded before it, then
 * fails with a `TraceError` naming the file and byte offset; the caller decides whether to go on with the
 * next file.
 */
import { Effect, Option, type Scope, Stream } from "effect"
import * as fsSync from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { DriverError, TraceError } from "../../domain/errors.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { OcfParser } from "../avro/OcfReader.js"
import { DatumError, SchemaError, type SysFlowDecoder, sysFlowDecoderFor } from "../avro/SysFlowDecoder.js"
import { CHUNK_SIZE } from "../pipeline/Channel.js"

const READ_SIZE = 1 << 20

/** The files a path names: itself, or a directory's entries sorted by name (not recursive). */
export const listTraceFiles = (input: string): Effect.Effect<ReadonlyArray<string>, DriverError> =>
  Effect.gen(function* () {
    const st = yield* Effect.tryPromise({
      try: () => fs.stat(input),
      catch: (e) => new DriverError({ reason: "Input", driver: "file", detail: (e as Error).message, cause: e })
    })
    if (!st.isDirectory()) return [input]
    const names = yield* Effect.tryPromise({
      try: () => fs.readdir(input),
      catch: (e) => new DriverError({ reason: "Input", driver: "file", detail: (e as Error).message, cause: e })
    })
    if (names.length === 0) {
      return yield* new DriverError({ reason: "Input", driver: "file", detail: `No files present in directory: ${input}` })
    }
    return names.sort().map((n) => path.join(input, n))
  })

/** Splits decoded datums into chunks of at most CHUNK_SIZE. */
class ChunkBuilder {
  private current: SysFlowDatum[] = []
  readonly ready: SysFlowDatum[][] = []
  add = (d: SysFlowDatum): void => {
    this.current.push(d)
    if (this.current.length >= CHUNK_SIZE) {
      this.ready.push(this.current)
      this.current = []
    }
  }
  flush(): void {
    if (this.current.length > 0) this.ready.push(this.current)
    this.current = []
  }
  take(): SysFlowDatum[][] {
    return this.ready.splice(0, this.ready.length)
  }
}

/** Decodes one block into the builder, turning decoder faults into a TraceError at the block's offset. */
const decodeBlock = (
  file: string,
  decoder: SysFlowDecoder,
  block: { offset: number; count: number; data: Uint8Array },
  builder: ChunkBuilder
): TraceError | undefined => {
  try {
    decoder.decodeBlock(block.data, block.count, builder.add)
    return undefined
  } catch (e) {
    const detail = e instanceof DatumError
      ? `datum ${e.index} of the block (${block.count} datums), byte ${e.bytePos} of its decompressed data: ${e.message}`
      : String(e)
    return new TraceError({ reason: "Datum", file, offset: block.offset, detail })
  }
}

/** What one read from disk produced: full chunks, and the fault that ended the file, if any. */
interface Step {
  readonly chunks: ReadonlyArray<ReadonlyArray<SysFlowDatum>>
  readonly fault: TraceError | undefined
  readonly last: boolean
}

/** The datums of one trace file, in chunks. */
export const readTraceFile = (file: string): Stream.Stream<ReadonlyArray<SysFlowDatum>, TraceError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const source = yield* openSource(file)
      const parser = new OcfParser(file)
      const builder = new ChunkBuilder()
      let decoder: SysFlowDecoder | undefined
      // One read buffer for the whole file, no larger than the file (collector files are often tens of
      // kB): the parser copies what it keeps.
      const readSize = Math.max(4096, Math.min(READ_SIZE, source.size + 1))
      const readBuffer = Buffer.allocUnsafe(readSize)

      // Reads up to readSize bytes and decodes every complete block (plain code: no Effect per record).
      const step: Effect.Effect<Step, TraceError> = Effect.map(
        Effect.mapError(source.read(readBuffer), (e) => new TraceError({ reason: "Open", file, offset: parser.offset, detail: e.message })),
        (bytesRead) => {
          const buffer = readBuffer
          let fault: TraceError | undefined
          let last = false
          try {
            if (bytesRead > 0) parser.push(buffer.subarray(0, bytesRead))
            for (let block = parser.next(); block !== undefined && fault === undefined; block = parser.next()) {
              decoder ??= makeDecoder(file, parser.header!.schema)
              fault = decodeBlock(file, decoder, block, builder)
            }
            if (fault === undefined && bytesRead === 0) {
              parser.end()
              last = true
            }
          } catch (e) {
            fault = e as TraceError
          }
          if (fault !== undefined || last) builder.flush()
          return { chunks: builder.take(), fault, last: last || fault !== undefined }
        }
      )

      return Stream.unfoldEffect(false, (finished) =>
        finished ? Effect.succeed(Option.none()) : Effect.map(step, (s) => Option.some([s, s.last] as const))
      ).pipe(
        Stream.flatMap((s) =>
          s.fault === undefined
            ? Stream.fromIterable(s.chunks)
            : Stream.concat(Stream.fromIterable(s.chunks), Stream.fail(s.fault))
        )
      )
    })
  )

/** An open trace file: its size (READ_SIZE when unknown) and a read into a buffer (0 at the end). */
interface Source {
  readonly size: number
  readonly read: (buf: Buffer) => Effect.Effect<number, Error>
}

/**
 * Opens a trace file for reading. A regular file is read with synchronous calls: from the page cache in
 * microseconds, where each asynchronous call costs a thread-pool round trip (five per file were most of
 * a run's idle time on a directory of small collector files); the stream still yields between reads.
 * Anything else (a FIFO, a device) is opened and read asynchronously, so a slow writer never blocks the
 * process (its signals, its other stages).
 */
const openSource = (file: string): Effect.Effect<Source, TraceError, Scope.Scope> =>
  Effect.suspend(() => {
    const openError = (e: unknown) => new TraceError({ reason: "Open", file, offset: 0, detail: (e as Error).message })
    const stat = (f: () => fsSync.Stats): fsSync.Stats | undefined => {
      try {
        return f()
      } catch {
        return undefined // the open (or the first read) reports the error
      }
    }
    if (stat(() => fsSync.statSync(file))?.isFile() !== true) return openAsync(file, openError)
    return Effect.map(
      Effect.acquireRelease(Effect.try({ try: () => fsSync.openSync(file, "r"), catch: openError }), (fd) => Effect.sync(() => fsSync.closeSync(fd))),
      (fd) => ({
        size: stat(() => fsSync.fstatSync(fd))?.size ?? READ_SIZE,
        read: (buf) => Effect.try({ try: () => fsSync.readSync(fd, buf, 0, buf.length, null), catch: (e) => e as Error })
      })
    )
  })

const openAsync = (file: string, openError: (e: unknown) => TraceError): Effect.Effect<Source, TraceError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(Effect.tryPromise({ try: () => fs.open(file, "r"), catch: openError }), (h) => Effect.promise(() => h.close())),
    (h) => ({
      size: READ_SIZE,
      read: (buf) => Effect.tryPromise({ try: () => h.read(buf, 0, buf.length, null).then((r) => r.bytesRead), catch: (e) => e as Error })
    })
  )

const makeDecoder = (file: string, schema: unknown): SysFlowDecoder => {
  try {
    return sysFlowDecoderFor(schema)
  } catch (e) {
    const detail = e instanceof SchemaError ? e.message : String(e)
    throw new TraceError({ reason: "Schema", file, offset: 0, detail })
  }
}
