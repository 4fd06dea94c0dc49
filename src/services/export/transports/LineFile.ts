/**
 * An output file of JSON lines that never ends inside a line. `committed` is the file's size after the
 * last complete write. When a write fails part-way (ENOSPC, EFBIG, EIO, ...), the file is truncated back
 * to the last whole document the failed batch got out, and the failure says how many documents that
 * is. A hard exit (second signal) while a write is in flight truncates to `committed` synchronously
 * before the process exits. A target that cannot be truncated (a device, FIFO, terminal, or a file
 * reached through /proc such as `/dev/stdout`) is only appended to: bytes it accepted stay.
 */
import { closeSync, ftruncateSync } from "node:fs"
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

export class LineFile {
  private writing = false
  private readonly unregister: () => void

  private constructor(
    private readonly handle: fs.FileHandle,
    private readonly truncatable: boolean,
    private committed: number
  ) {
    const fd = handle.fd
    // The in-flight write cannot be waited for: cut back to the last complete batch, then close so a
    // write still queued in the thread pool fails instead of landing after the cut.
    this.unregister = truncatable
      ? onHardExit(() => {
          if (!this.writing) return
          ftruncateSync(fd, this.committed)
          closeSync(fd)
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
    this.writing = true
    try {
      while (written < bytes.length) written += (await this.handle.write(bytes, written, bytes.length - written)).bytesWritten
      this.committed += written
    } catch (e) {
      const whole = wholeDocuments(ends, written)
      const kept = whole === 0 ? 0 : ends[whole - 1]
      this.committed += kept
      const cutError =
        this.truncatable && written > kept ? await this.handle.truncate(this.committed).then(() => undefined, (t: Error) => t) : undefined
      throw new WriteFailure(e as Error, whole, cutError)
    } finally {
      this.writing = false
    }
  }

  async close(): Promise<void> {
    this.unregister()
    await this.handle.close()
  }
}
