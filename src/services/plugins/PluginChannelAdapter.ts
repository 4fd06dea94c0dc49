/**
 * A pipeline channel as plugins see it (`PluginChannel`, pipeline.md §9.3), over our chunked queue:
 * `send` fills a chunk and hands it over when full (or on the next macrotask, so a record never waits
 * for company), returning a promise only when the queue is full; reading yields records one by one or
 * whole chunks with `drain`.
 */
import { Effect } from "effect"
import type { PluginChannel } from "../../domain/plugins.js"
import { type Channel, CHUNK_SIZE, close, send, takeChunk, trySend } from "../kernel/Channel.js"

export const pluginChannel = <T>(ch: Channel<T>): PluginChannel<T> => {
  let buffer: T[] = []
  let scheduled = false
  /** Resolves once every chunk handed over so far was accepted (chunks keep their order). */
  let inflight: Promise<void> | undefined

  const handOver = (): void | Promise<void> => {
    if (buffer.length === 0) return inflight
    const chunk = buffer
    buffer = []
    if (inflight === undefined && trySend(ch, chunk)) return undefined
    const p: Promise<void> = (inflight ?? Promise.resolve())
      .then(() => Effect.runPromise(send(ch, chunk)))
      .then(() => {
        if (inflight === p) inflight = undefined
      })
    inflight = p
    return p
  }

  return {
    name: ch.name,
    type: ch.type,
    send(item) {
      buffer.push(item)
      if (buffer.length >= CHUNK_SIZE) return handOver()
      if (!scheduled) {
        scheduled = true
        setImmediate(() => {
          scheduled = false
          void handOver()
        })
      }
      return inflight
    },
    async close() {
      await handOver()
      await Effect.runPromise(close(ch))
    },
    drain: () => Effect.runPromise(takeChunk(ch)),
    async *[Symbol.asyncIterator]() {
      for (let chunk = await this.drain(); chunk !== undefined; chunk = await this.drain()) {
        for (const item of chunk) yield item
      }
    }
  }
}
