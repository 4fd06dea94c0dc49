/**
 * A test layer: an exporter transport (`export: capture`) that keeps every batch it is sent, as the
 * documents (JSON lines) it held, in the order sent. Added to the built-in transports.
 */
import { Effect, Layer } from "effect"
import { jsonLinesOf } from "../../services/export/ExportBatch.js"
import { type TransportFactory, TransportRegistry } from "../../services/export/Transport.js"
import { TransportsLive } from "../Transports.js"

/** What a capture transport received: one array of documents per batch. */
export type CapturedBatches = Array<ReadonlyArray<string>>

export const captureTransport = (into: CapturedBatches): TransportFactory => () =>
  Effect.succeed({
    name: "capture",
    send: (batch) =>
      Effect.sync(() => {
        // Decoded at once: the batch's bytes may be reused after the send.
        const text = jsonLinesOf(batch)
        const lines = (typeof text === "string" ? text : Buffer.from(text).toString("utf8")).split("\n")
        lines.pop()
        into.push(lines)
        return 0
      }),
    test: Effect.void
  })

export const CaptureTransport = {
  /** The built-in transports and `capture`, which appends every batch to `into`. */
  layer: (into: CapturedBatches): Layer.Layer<TransportRegistry> =>
    TransportRegistry.extend([["capture", captureTransport(into)]]).pipe(Layer.provide(TransportsLive))
}
