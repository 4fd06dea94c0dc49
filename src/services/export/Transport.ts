/**
 * An exporter transport (pipeline.md §11): where encoded records go. The exporter hands it whole
 * batches; the transport owns its connection or file, which its scope closes.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { ExportError, PipelineConfigError } from "../../domain/errors.js"
import type { ExportBatch } from "./ExportBatch.js"
import type { ExporterConfig } from "./ExporterConfig.js"

export interface Transport {
  readonly name: string
  /**
   * Delivers a batch, retrying transient failures (with backoff) as the transport defines, and resolves
   * once the records were handed over (so a slow peer slows the pipeline: backpressure) with the number
   * of records it had to drop after permanent per-record failures (e.g. a document Elasticsearch
   * rejects). Fails with an ExportError only when the transport cannot go on at all. The batch's bytes
   * (`text`) may be reused once the effect completes: a transport keeps the documents it still needs
   * (e.g. `lines`), never those bytes.
   */
  readonly send: (batch: ExportBatch) => Effect.Effect<number, ExportError>
  /**
   * Touches the target (an output file is rotated and created here), run once the whole pipeline loaded,
   * before the first `send`; never under `-test`. Creating a transport only validates.
   */
  readonly open?: Effect.Effect<void, ExportError>
  /** Health check (`Test()` in the reference): connect, authenticate, index exists, ... */
  readonly test: Effect.Effect<void, ExportError>
  /**
   * Whether `send` reads the events behind the documents (`batch.records`), and whether it needs the
   * documents too: the `nats` transport carries the records themselves, so a central processor evaluates
   * them again, and the documents only when asked (`nats.documents`). With "only" the exporter encodes
   * nothing: the batch's `lines` are empty placeholders, one per record.
   */
  readonly wantsRecords?: "also" | "only"
  /** Current state for `/healthz` (e.g. connected or reconnecting); absent means healthy while sending works. */
  readonly status?: () => { readonly ok: boolean; readonly detail: string }
}

/** Creates a transport from the exporter's attributes (each transport decodes its own keys, P2). */
export type TransportFactory = (
  attrs: Readonly<Record<string, unknown>>,
  config: ExporterConfig
) => Effect.Effect<Transport, ExportError | PipelineConfigError, Scope.Scope | TerminalOutput>

/**
 * The transports an exporter can select with `export` (name → factory). The application's are
 * registered in `src/layers/Transports.ts`; `extend` adds or replaces some (a test's capture transport).
 */
export class TransportRegistry extends Context.Tag("sfprocessor/TransportRegistry")<
  TransportRegistry,
  ReadonlyMap<string, TransportFactory>
>() {
  static readonly layer = (transports: ReadonlyArray<readonly [string, TransportFactory]>): Layer.Layer<TransportRegistry> =>
    Layer.succeed(TransportRegistry, new Map(transports))

  /** The registry below it, with these transports added (a name it has is replaced). */
  static readonly extend = (
    transports: ReadonlyArray<readonly [string, TransportFactory]>
  ): Layer.Layer<TransportRegistry, never, TransportRegistry> =>
    Layer.effect(TransportRegistry, Effect.map(TransportRegistry, (registry) => new Map([...registry, ...transports])))
}

/** Where the `terminal` transport writes: stdout in the live layer, a buffer in tests. */
export class TerminalOutput extends Context.Tag("sfprocessor/TerminalOutput")<
  TerminalOutput,
  { readonly write: (text: string | Uint8Array) => Effect.Effect<void> }
>() {
  /** process.stdout; done once the text was handed to the system (so a full pipe slows the pipeline). */
  static readonly Live = Layer.succeed(TerminalOutput, {
    write: (text) => Effect.async<void>((resume) => void process.stdout.write(text, () => resume(Effect.void)))
  })

  /** Collects everything written, for tests. */
  static readonly capture = (sink: string[]) =>
    Layer.succeed(TerminalOutput, {
      write: (text) => Effect.sync(() => void sink.push(typeof text === "string" ? text : Buffer.from(text).toString("utf8")))
    })
}
