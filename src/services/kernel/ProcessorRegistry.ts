/**
 * The processor registry: the built-in processors a pipeline entry can name (pipeline.md §8, §11), each
 * with its spec (for the graph checker) and a factory that initialises it from the entry's attributes.
 * The application's processors are registered in `src/layers/Processors.ts`; plugin processors come
 * from the plugin cache.
 *
 * A factory's own services (the exporter's transports, the policy engine, ...) are taken from the
 * layer's context when the registry is built, so a stage's factory only needs its scope.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { ExportError, PipelineConfigError, PipelineError } from "../../domain/errors.js"
import type { ElementOf } from "./ChannelTypes.js"
import type { ProcessorSpec } from "./ComponentSpecs.js"
import type { SomeStage, Stage } from "./Stage.js"

export type Attributes = Readonly<Record<string, unknown>>

/** Why a processor cannot be initialised. */
export type InitError = PipelineConfigError | ExportError

/**
 * A built-in processor: it reads the channel types `In` and writes `Out` (its handler's type with
 * `emits: "handler"`), and its stage is typed by what those channels carry.
 */
export interface ProcessorDefinition<In extends string = string, Out extends string = string, R = never> {
  readonly spec: ProcessorSpec & { readonly accepts: ReadonlyArray<In>; readonly emits: ReadonlyArray<Out> | "handler" }
  readonly make: (attrs: Attributes) => Effect.Effect<Stage<ElementOf<In>, ElementOf<Out>, PipelineError>, InitError, Scope.Scope | R>
}

/** A registered processor: its factory with its services already provided. */
export interface RegisteredProcessor {
  readonly spec: ProcessorSpec
  readonly make: (attrs: Attributes) => Effect.Effect<SomeStage, InitError, Scope.Scope>
}

export class ProcessorRegistry extends Context.Tag("sfprocessor/ProcessorRegistry")<
  ProcessorRegistry,
  ReadonlyMap<string, RegisteredProcessor>
>() {
  /** A registry of these processors, their factories bound to the services of the layer's context. */
  static readonly layer = <R>(processors: ReadonlyArray<ProcessorDefinition<any, any, R>>): Layer.Layer<ProcessorRegistry, never, R> =>
    Layer.effect(
      ProcessorRegistry,
      Effect.map(Effect.context<R>(), (context) =>
        new Map(
          processors.map((p): [string, RegisteredProcessor] => [
            p.spec.name,
            {
              spec: p.spec,
              make: (attrs) => Effect.mapInputContext(p.make(attrs), (scope: Context.Context<Scope.Scope>) => Context.merge(scope, context))
            }
          ])
        )
      )
    )
}
