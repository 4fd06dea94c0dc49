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
import * as net from "node:net"
import * as path from "node:path"
import { DriverError, TraceError, errorText } from "../../domain/errors.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { OcfParser } from "../avro/OcfReader.js"
import { DatumError, SchemaError, type SysFlowDecoder, sysFlowDecoderFor } from "../avro/SysFlowDecoder.js"
import { CHUNK_SIZE } from "../kernel/Channel.js"

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

/**
 * Full chunks one step decodes at most (a block is never split): about 10 ms of decoding, within the
 * pipeline's turn budget; fewer steps cost less.
 */
const STEP_CHUNKS = 2

/** A step that decodes blocks already buffered, without reading. */
const NOTHING_READ = new Uint8Array(0)

/** What one step produced: full chunks, and the fault that ended the file, if any. */
interface Step {
  readonly chunks: ReadonlyArray<ReadonlyArray<SysFlowDatum>>
  readonly fault: TraceError | undefined
  readonly last: boolean
}

/** The datums of one trace file, in chunks. */
export const readTraceFile = (file: string): Stream.Stream<ReadonlyArray<SysFlowDatum>, TraceError> => readTrace(file, openSource(file))

/**
 * The datums of a trace held in memory (a TraceWriter's `MemorySink`), in chunks, decoded exactly as a
 * file's; `name` stands for the file in errors.
 */
export const readTraceBytes = (name: string, bytes: Uint8Array): Stream.Stream<ReadonlyArray<SysFlowDatum>, TraceError> => {
  let read = false
  return readTrace(name, Effect.succeed({ read: Effect.sync(() => (read ? undefined : ((read = true), bytes))) }))
}

const readTrace = (file: string, open: Effect.Effect<Source, TraceError, Scope.Scope>): Stream.Stream<ReadonlyArray<SysFlowDatum>, TraceError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const source = yield* open
      const parser = new OcfParser(file)
      const builder = new ChunkBuilder()
      let decoder: SysFlowDecoder | undefined

      // Complete blocks may still be buffered: the last step stopped at a full chunk.
      let buffered = false
      let atEnd = false
      const read = Effect.mapError(source.read, (e) => new TraceError({ reason: "Open", file, offset: parser.offset, detail: e.message }))
      // Reads the next bytes (unless blocks are still buffered) and decodes blocks until STEP_CHUNKS are full,
      // so that one step stays short whatever a read holds: the pipeline gives the event loop a turn
      // between steps (plain code inside: no Effect per record).
      const step: Effect.Effect<Step, TraceError> = Effect.map(
        Effect.suspend(() => (buffered ? Effect.succeed(NOTHING_READ) : read)),
        (bytes) => {
          let fault: TraceError | undefined
          let last = false
          buffered = false
          try {
            if (bytes === undefined) atEnd = true
            else if (bytes !== NOTHING_READ) parser.push(bytes)
            // The writer schema is checked once the header is complete, before any block (or none) follows.
            const header = parser.readHeader()
            if (header !== undefined) decoder ??= makeDecoder(file, header.schema)
            for (let block = parser.next(); block !== undefined && fault === undefined; block = parser.next()) {
              fault = decodeBlock(file, decoder!, block, builder)
              if (builder.ready.length >= STEP_CHUNKS) {
                buffered = true
                break
              }
            }
            if (fault === undefined && atEnd && !buffered) {
              parser.end()
              last = true
            }
          } catch (e) {
            // Anything but a TraceError (say, an allocation that failed) still names the file and offset.
            fault = e instanceof TraceError
              ? e
              : new TraceError({ reason: "Block", file, offset: parser.offset, detail: errorText(e) })
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

/** An open trace file: `read` gives its next bytes (valid until the next read), undefined at the end. */
interface Source {
  readonly read: Effect.Effect<Uint8Array | undefined, Error>
}

/**
 * Opens a trace file for reading.
 * - A regular file is read with synchronous calls: from the page cache in microseconds, where each
 *   asynchronous call costs a thread-pool round trip (five per file were most of a run's idle time on a
 *   directory of small collector files); the stream still yields between reads.
 * - A FIFO is opened non-blocking and read through the event loop (openFifo), so that waiting for its
 *   writer, or for its data, blocks neither the process nor a thread, and a stop interrupts it.
 * - Anything else (a device) is opened and read asynchronously.
 * One read buffer per file, no larger than the file (collector files are often tens of kB): the parser
 * copies what it keeps.
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
    const st = stat(() => fsSync.statSync(file))
    if (st?.isFIFO() === true) return openFifo(file, openError)
    if (st?.isFile() !== true) return openAsync(file, openError)
    return Effect.map(
      Effect.acquireRelease(Effect.try({ try: () => fsSync.openSync(file, "r"), catch: openError }), (fd) => Effect.sync(() => fsSync.closeSync(fd))),
      (fd) => {
        const buf = Buffer.allocUnsafe(Math.max(4096, Math.min(READ_SIZE, (stat(() => fsSync.fstatSync(fd))?.size ?? READ_SIZE) + 1)))
        return {
          read: Effect.try({
            try: () => {
              const n = fsSync.readSync(fd, buf, 0, buf.length, null)
              return n === 0 ? undefined : buf.subarray(0, n)
            },
            catch: (e) => e as Error
          })
        }
      }
    )
  })

const openAsync = (file: string, openError: (e: unknown) => TraceError): Effect.Effect<Source, TraceError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(Effect.tryPromise({ try: () => fs.open(file, "r"), catch: openError }), (h) => Effect.promise(() => h.close())),
    (h) => {
      const buf = Buffer.allocUnsafe(READ_SIZE)
      return {
        read: Effect.tryPromise({
          try: () => h.read(buf, 0, buf.length, null).then((r) => (r.bytesRead === 0 ? undefined : buf.subarray(0, r.bytesRead))),
          catch: (e) => e as Error
        })
      }
    }
  )

/**
 * A FIFO, opened without blocking. A blocking open(2) waits for a writer, and on the thread pool that
 * wait could not be interrupted: a FIFO nobody writes to hung the run, and even `process.exit` (libuv
 * joins its threads at exit), so only SIGKILL ended it. Opened O_NONBLOCK, the FIFO is read as a pipe
 * stream through epoll, which (Linux) reports neither data nor hang-up until a writer has come: the read
 * waits for the writer and its data, and the stream ends when the last writer closes. The wait is an
 * interruptible promise; the finalizer closes the descriptor.
 */
const openFifo = (file: string, openError: (e: unknown) => TraceError): Effect.Effect<Source, TraceError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.try({
        try: () => {
          const fd = fsSync.openSync(file, fsSync.constants.O_RDONLY | fsSync.constants.O_NONBLOCK)
          try {
            return new net.Socket({ fd, readable: true, writable: false })
          } catch (e) {
            fsSync.closeSync(fd)
            throw e
          }
        },
        catch: openError
      }),
      (pipe) => Effect.sync(() => pipe.destroy())
    ),
    (pipe) => {
      const chunks = pipe[Symbol.asyncIterator]() as AsyncIterator<Buffer>
      return {
        read: Effect.tryPromise({ try: () => chunks.next().then((r) => (r.done === true ? undefined : r.value)), catch: (e) => e as Error })
      }
    }
  )

const makeDecoder = (file: string, schema: unknown): SysFlowDecoder => {
  try {
    return sysFlowDecoderFor(schema)
  } catch (e) {
    const detail = e instanceof SchemaError ? e.message : String(e)
    throw new TraceError({ reason: "Schema", file, offset: 0, detail })
  }
}
