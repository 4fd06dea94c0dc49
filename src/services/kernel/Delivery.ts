/**
 * Delivery tracking, for drivers whose source must hear when what it sent was delivered (the `nats`
 * driver acknowledges a message only once every exporter delivered all its records, docs/nats.md).
 *
 * A driver tags the chunks it sends (`tagChunk`); a tag counts the pieces of that chunk still on their
 * way. The runner hands a tag on from a stage's input chunk to its output chunk (one piece per output
 * channel) and releases the input's piece once the stage finished it, whether or not it emitted
 * anything (a policy engine in alert mode drops records); an exporter holds its piece until its transport
 * delivered the chunk's records. When the last piece is released the chunk is delivered. Untagged chunks
 * (every other driver) cost one WeakMap lookup per chunk and per stage; nothing per record.
 */

export class DeliveryTag {
  /** The chunk in the driver's channel is the first piece. */
  private pieces = 1

  constructor(private readonly onDelivered: () => void) {}

  retain(n: number): void {
    this.pieces += n
  }

  release(): void {
    if (--this.pieces === 0) this.onDelivered()
  }
}

const tags = new WeakMap<object, DeliveryTag>()

/** Marks a chunk (a driver's, or a stage's output for a tagged input). */
export const tagChunk = <A>(chunk: ReadonlyArray<A>, tag: DeliveryTag): ReadonlyArray<A> => {
  tags.set(chunk, tag)
  return chunk
}

/** The chunk's tag, if its source tracks delivery. */
export const tagOf = (chunk: ReadonlyArray<unknown>): DeliveryTag | undefined => tags.get(chunk)
