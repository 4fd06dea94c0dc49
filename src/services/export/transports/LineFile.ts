/**
 * An output file of JSON lines that never ends inside a line. `committed` is the file's size after the
 * last complete write. When a write fails part-way (ENOSPC, EFBIG, EIO, ...), the file is truncated back
 * to the last whole document the failed batch got out, and the failure says how many documents that
 * is. A hard exit (second signal) while a batch is being written lets the write call under way land
 * (briefly, bounded), then cuts the file after the last whole document in it, synchronously, before the
 * process exits. A
 * target that cannot be truncated (a device, FIFO, terminal, or a file reached through /proc such as
 * `/dev/stdout`) is only appended to: bytes it accepted stay.
 */
import { closeSync, fstatSync, ftruncateSync, writeSync } from "node:fs"
import * as fs from "node:fs/promises"
import type { JsonLinesText } from "../ExportBatch.js"
import { onHardExit } from "../../lifecycle/HardExit.js"
import { type FileTarget, isOwnRegularFile } from "./FileTarget.js"

/** A write that failed after `delivered` whole documents of its batch reached the file. */
export class WriteFailure extends Error {
  constructor(
    readonly reason: Error,
    readonly delivered: number,
    /** Set when the partial line could not be cut (the file then ends inside a line). */
    readonly truncateError?: Error
  ) {
    super(reason.message)
  }
}

/** The batch being written: the file's size before it, and its documents' ends. */
export interface InFlight {
  readonly base: number
  readonly length: number
  readonly ends: Uint32Array
}

/**
 * Bytes per write call, as Node's own `writeFile` does: one call with a whole batch (about 2.5 MiB) cost
 * about 0.45 s more system time on the bench replay (reader → file json), 10% of the run.
 */
const WRITE_CHUNK = 512 * 1024

/**
 * Batches up to this size go to an own regular file with a synchronous write: a thread-pool write costs
 * 30-40 µs of CPU per call whatever its size (queueing, waking a pool thread and the loop back), against
 * 5 µs for 4 KiB and 12 µs for 64 KiB written at once into the page cache. On the live path, where every
 * chunk is a batch, that was a tenth of the main thread's time flat out. Larger batches keep the
 * thread pool, whose copy overlaps the main thread's work (synchronous writes of whole 2048-record
 * batches were 17% slower). A device, FIFO or terminal is never written synchronously: it may block.
 */
const SYNC_WRITE_MAX = 64 * 1024

/** How long a hard exit waits for a write under way to land, and for how long a size that stopped growing. */
const LAND_MS = 500
const STALLED_MS = 50
const tick = new Int32Array(new SharedArrayBuffer(4))

/** How many documents end at or before byte `written` (`ends` ascending). */
const wholeDocuments = (ends: Uint32Array, written: number): number => {
  let lo = 0
  let hi = ends.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ends[mid] <= written) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Run by a hard exit while a batch is being written (in the thread pool: it cannot be awaited). Waits,
 * sleeping, until the file holds the whole batch, or stops growing, or LAND_MS passed; then cuts after
 * the last whole document (ftruncate also waits for a write syscall under way, so the cut lands after
 * it) and closes the descriptor, so a write still queued fails instead of landing after the cut.
 */
export const cutToWholeLine = (fd: number, w: InFlight): void => {
  const end = w.base + w.length
  let size = fstatSync(fd).size
  for (let waited = 0, still = 0; size < end && waited < LAND_MS && still < STALLED_MS; waited += 2) {
    Atomics.wait(tick, 0, 0, 2)
    const now = fstatSync(fd).size
    still = now === size ? still + 2 : 0
    size = now
  }
  const whole = wholeDocuments(w.ends, size - w.base)
  ftruncateSync(fd, w.base + (whole === 0 ? 0 : w.ends[whole - 1]))
  closeSync(fd)
}

export class LineFile {
  private inFlight: InFlight | undefined
  private readonly unregister: () => void

  private constructor(
    private readonly handle: fs.FileHandle,
    private readonly truncatable: boolean,
    private committed: number
  ) {
    const fd = handle.fd
    this.unregister = truncatable
      ? onHardExit(() => {
          if (this.inFlight !== undefined) cutToWholeLine(fd, this.inFlight)
        })
      : () => undefined
  }

  /** Opens the target for append (mode 0644 when created). */
  static async open(target: FileTarget): Promise<LineFile> {
    const handle = await fs.open(target.path, "a", 0o644)
    try {
      const stat = await handle.stat()
      const truncatable = stat.isFile() && isOwnRegularFile(target)
      return new LineFile(handle, truncatable, truncatable ? stat.size : 0)
    } catch (e) {
      await handle.close()
      throw e
    }
  }

  /** Appends whole documents; on failure, the file is left ending with the last whole document written. */
  async append({ bytes, ends }: JsonLinesText): Promise<void> {
    let written = 0
    this.inFlight = { base: this.committed, length: bytes.length, ends }
    try {
      if (this.truncatable && bytes.length <= SYNC_WRITE_MAX) {
        const fd = this.handle.fd
        while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
      } else {
        while (written < bytes.length) written += (await this.handle.write(bytes, written, Math.min(WRITE_CHUNK, bytes.length - written))).bytesWritten
      }
      this.committed += written
    } catch (e) {
      const whole = wholeDocuments(ends, written)
      const kept = whole === 0 ? 0 : ends[whole - 1]
      this.committed += kept
      const cutError =
        this.truncatable && written > kept ? await this.handle.truncate(this.committed).then(() => undefined, (t: Error) => t) : undefined
      throw new WriteFailure(e as Error, whole, cutError)
    } finally {
      this.inFlight = undefined
    }
  }

  async close(): Promise<void> {
    this.unregister()
    await this.handle.close()
  }
}
