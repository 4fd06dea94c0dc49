/**
 * An exporter encoder (`format`): turns events into serialised documents. Plain functions over the
 * batch (hot path); `flush` hands over what an encoder holds back (the occurrence encoder's pools) when
 * the exporter ends.
 */
import { Context, type Effect, Layer, type Scope } from "effect"
import type { ExportError, PipelineConfigError } from "../../domain/errors.js"
import type { PolicyEvent } from "../../domain/policyEvent.js"
import type { ExporterConfig } from "./ExporterConfig.js"
import type { ExportBatch } from "./ExportBatch.js"

export interface Encoder {
  readonly encode: (events: ReadonlyArray<PolicyEvent>) => ExportBatch
  readonly flush?: Effect.Effect<ExportBatch, ExportError>
  /**
   * Called with a batch `encode` returned once nothing reads its bytes any more: it was sent whole and the
   * transport let go of it, or the exporter copied it into a joined batch.
   */
  readonly release?: (batch: ExportBatch) => void
}

export type EncoderFactory = (
  attrs: Readonly<Record<string, unknown>>,
  config: ExporterConfig
) => Effect.Effect<Encoder, ExportError | PipelineConfigError, Scope.Scope>

/** The encoders an exporter can select with `format` (name → factory), registered in `src/layers/Encoders.ts`. */
export class EncoderRegistry extends Context.Tag("sfprocessor/EncoderRegistry")<EncoderRegistry, ReadonlyMap<string, EncoderFactory>>() {
  static readonly layer = (encoders: ReadonlyArray<readonly [string, EncoderFactory]>): Layer.Layer<EncoderRegistry> =>
    Layer.succeed(EncoderRegistry, new Map(encoders))
}
