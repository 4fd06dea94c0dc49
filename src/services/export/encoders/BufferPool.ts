/**
 * Reusable byte blocks for encoded batches. A batch of JSON lines is several MiB; allocating one per
 * batch keeps tens of MiB of dead buffers alive until V8 next collects (external memory is only
 * reclaimed by a GC, which it also brings forward). Blocks are lent as views and given back once the
 * transport is done with the batch; a block never given back is simply collected.
 */
export class BufferPool {
  private readonly free: Array<Buffer> = []
  /**
   * The whole block behind each lent view's memory. Weak: a block that is never given back (a batch
   * joined or split by the exporter, a send that failed) is collected with its last view.
   */
  private readonly lent = new WeakMap<ArrayBufferLike, Buffer>()

  constructor(private readonly maxFree = 1) {}

  /** A view of `n` bytes on the smallest free block that holds them, or on a new one (with headroom). */
  get(n: number): Buffer {
    let i = -1
    for (let j = 0; j < this.free.length; j++) {
      if (this.free[j].length >= n && (i < 0 || this.free[j].length < this.free[i].length)) i = j
    }
    // `allocUnsafeSlow`: a block of its own, never a slice of Node's shared small-buffer pool.
    const block = i >= 0 ? this.free.splice(i, 1)[0] : Buffer.allocUnsafeSlow(Math.max(1 << 16, Math.ceil(n * 1.1)))
    this.lent.set(block.buffer, block)
    return block.subarray(0, n)
  }

  /**
   * Gives back the block of a view `get` returned; anything else (or a second release) is ignored. The
   * largest free blocks are kept (a writer that grew gives back its small ones).
   */
  release(view: Uint8Array): void {
    const block = this.lent.get(view.buffer)
    if (block === undefined) return
    this.lent.delete(view.buffer)
    this.free.push(block)
    if (this.free.length > this.maxFree) {
      let smallest = 0
      for (let j = 1; j < this.free.length; j++) if (this.free[j].length < this.free[smallest].length) smallest = j
      this.free.splice(smallest, 1)
    }
  }
}
