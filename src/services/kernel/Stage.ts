/**
 * A running pipeline processor: what the runner drives between its input and output channels.
 *
 * `onChunk` is called for every input chunk in order and returns the output chunk (sinks return an empty
 * one); `onEnd` runs once after the input closed and returns the last output (flushing batches). Effect
 * lives at this chunk boundary; inside, processors run plain loops.
 */
import type { Effect } from "effect"
import type { PipelineError } from "../../domain/errors.js"

export interface Stage<I = unknown, O = unknown, E = unknown> {
  readonly name: string
  readonly onChunk: (chunk: ReadonlyArray<I>) => Effect.Effect<ReadonlyArray<O>, E>
  readonly onEnd: Effect.Effect<ReadonlyArray<O>, E>
  /** Health check run at load and by `-test` (pipeline.md §6); absent when the processor has none. */
  readonly test?: Effect.Effect<void, E>
  /**
   * Touches the stage's target (creates, rotates or truncates an output file) once the whole pipeline
   * loaded and validated, just before the first record: a run that fails to load leaves it as it was.
   */
  readonly start?: Effect.Effect<void, E>
}

/**
 * A stage whose element types its holder does not need (a registry of processors of different types);
 * the graph checker has matched its channels' types with the processor's spec before it is wired.
 */
// biome-ignore lint: `any` is the existential element type here, not an escape from checking.
export type SomeStage = Stage<any, any, PipelineError>
