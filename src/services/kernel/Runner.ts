/**
 * Runs a built pipeline (pipeline.md §5): drivers feed the root channels, each stage is a fiber that
 * streams its input channel's chunks through the processor and tees the output to its channels.
 *
 * Shutdown order falls out of the channels: a driver that ends (input done, stop requested, or error)
 * closes its output; each stage drains its input, flushes (`onEnd`), then closes its outputs; the run
 * completes when every stage has finished. A stage that fails stops the drivers, keeps draining (and
 * discarding) its input so nothing upstream blocks, and closes its outputs so everything downstream
 * still flushes what it accepted.
 *
 * Every fiber of the run uses the `TurnTakingScheduler`, so a busy run still lets the event loop turn
 * (signals, `/healthz`, timers) every few milliseconds.
 */
import { Deferred, Effect, Fiber, Metric, Ref, Schedule, type Scope, Stream } from "effect"
import { withHealth } from "../metrics/Health.js"
import { addNow, queuedChunks, recordsIn, recordsOut, withTags } from "../metrics/Metrics.js"
import { type Channel, chunks, close, depth, send, type SomeChannel } from "./Channel.js"
import { type DeliveryTag, tagChunk, tagOf } from "./Delivery.js"
import type { Stage } from "./Stage.js"
import { pipelineScheduler } from "./TurnTakingScheduler.js"
import { errorText, type PipelineError } from "../../domain/errors.js"

export interface RunnableDriver<E = PipelineError> {
  readonly name: string
  readonly output: SomeChannel
  /** Feeds the output channel; must not close it (the runner does). */
  readonly run: Effect.Effect<void, E>
}

/**
 * A running processor: `run` reads its input channel to the end and writes its outputs (built-in
 * processors through `streamStage`; plugins drive their channels themselves). The runner closes the
 * outputs afterwards, whatever happened.
 */
export interface RunnableStage<E = PipelineError> {
  readonly name: string
  readonly input: SomeChannel
  readonly outputs: ReadonlyArray<SomeChannel>
  readonly run: Effect.Effect<void, E>
  /** Health check run at load and by `-test` (pipeline.md §6). */
  readonly test?: Effect.Effect<void, E>
  /** See `Stage.start`: run by `startStages` after the load, never under `-test`. */
  readonly start?: Effect.Effect<void, E>
  /** The built-in processor behind `run` (absent for plugins): a parallel file run drives it directly. */
  readonly stage?: Stage<never, unknown, E>
}

/** A built-in processor as a runnable stage: its input's chunks through `onChunk`, then `onEnd`, teed to the outputs. */
export const streamStage = <I, O, E>(
  stage: Stage<I, O, E>,
  input: Channel<I>,
  outputs: ReadonlyArray<Channel<O>>
): RunnableStage<E> => {
  const counted = withTags(recordsIn, { stage: stage.name })
  const emitted = withTags(recordsOut, { stage: stage.name })
  const forward = (out: ReadonlyArray<O>) =>
    out.length === 0
      ? Effect.void
      : Effect.suspend(() => {
          addNow(emitted, out.length)
          return tee(outputs, out)
        })
  // Delivery tracking (Delivery.ts): a tagged input's tag goes on with the output, one piece per output
  // channel, and the input's piece is released once the stage finished it, even with an empty output.
  const forwardTagged = (out: ReadonlyArray<O>, tag: DeliveryTag) => {
    if (out.length > 0) {
      tag.retain(outputs.length)
      tagChunk(out, tag)
    }
    return Effect.zipRight(forward(out), Effect.sync(() => tag.release()))
  }
  const step = (chunk: ReadonlyArray<I>) => {
    const tag = tagOf(chunk)
    const handled = Effect.suspend(() => {
      addNow(counted, chunk.length)
      return stage.onChunk(chunk)
    })
    return tag === undefined ? Effect.flatMap(handled, forward) : Effect.flatMap(handled, (out) => forwardTagged(out, tag))
  }
  return {
    name: stage.name,
    input,
    outputs,
    test: stage.test,
    start: stage.start,
    stage: stage as Stage<never, unknown, E>,
    run: chunks(input).pipe(
      Stream.runForEach(step),
      Effect.zipRight(Effect.flatMap(stage.onEnd, forward))
    )
  }
}

/** Runs every stage's `start` in order (after the load and the drivers' init), stopping at the first failure. */
export const startStages = <E>(stages: ReadonlyArray<RunnableStage<E>>): Effect.Effect<void, E> =>
  Effect.forEach(stages, (s) => s.start ?? Effect.void, { discard: true })

export interface PipelineRun {
  /** Asks the drivers to stop; the pipeline then drains (first SIGINT/SIGTERM). */
  readonly stop: Effect.Effect<void>
  /** Completes when every stage finished; fails with the first driver or stage error, after draining. */
  readonly done: Effect.Effect<void, PipelineError>
}

const tee = <A>(outputs: ReadonlyArray<Channel<A>>, chunk: ReadonlyArray<A>) =>
  outputs.length === 1 ? send(outputs[0], chunk) : Effect.forEach(outputs, (ch) => send(ch, chunk), { discard: true })

/**
 * The run's fibers belong to the caller's scope, not to the fiber that starts them: a signal that
 * interrupts the main fiber must not reach the stages (it asks for a drain); they are interruptible
 * whatever the caller's mask, and interrupted if the scope closes before they finish.
 */
const forkInRunScope = <A, E>(effect: Effect.Effect<A, E>) => Effect.forkScoped(Effect.interruptible(effect))

/** Starts the stages, then the drivers; the returned handle stops and awaits them. */
export const startPipeline = (
  drivers: ReadonlyArray<RunnableDriver>,
  stages: ReadonlyArray<RunnableStage>
): Effect.Effect<PipelineRun, never, Scope.Scope> =>
  Effect.gen(function* () {
    const firstError = yield* Ref.make<{ error: PipelineError } | undefined>(undefined)
    const stopRequested = yield* Deferred.make<void>()
    const recordError = (error: PipelineError) =>
      Ref.update(firstError, (cur) => cur ?? { error }).pipe(Effect.zipRight(Deferred.succeed(stopRequested, undefined)))

    const runStage = (s: RunnableStage) =>
      withHealth((h) => h.set(`stage ${s.name}`, true)).pipe(
        Effect.zipRight(s.run),
        Effect.annotateLogs("component", s.name),
        Effect.catchAll((error) =>
          withHealth((h) => h.set(`stage ${s.name}`, false, errorText(error))).pipe(
            Effect.zipRight(recordError(error)),
            Effect.zipRight(Stream.runDrain(chunks(s.input)))
          )
        ),
        Effect.ensuring(Effect.forEach(s.outputs, close, { discard: true }))
      )

    const stageFibers = yield* Effect.forEach(stages, (s) => forkInRunScope(runStage(s)))

    const driverFibers = yield* Effect.forEach(drivers, (d) =>
      forkInRunScope(
        withHealth((h) => h.set(`driver ${d.name}`, true)).pipe(
          Effect.zipRight(d.run),
          Effect.catchAll((error) =>
            withHealth((h) => h.set(`driver ${d.name}`, false, errorText(error))).pipe(Effect.zipRight(recordError(error)))
          ),
          Effect.ensuring(close(d.output))
        )
      )
    )

    // Queue depths for /metrics, sampled once a second while the pipeline runs.
    const channels = [...new Set([...drivers.map((d) => d.output), ...stages.flatMap((s) => [s.input, ...s.outputs])])]
    const sampler = yield* forkInRunScope(
      Effect.repeat(
        Effect.forEach(channels, (ch) => Effect.flatMap(depth(ch), (n) => Metric.set(Metric.tagged(queuedChunks, "channel", ch.name), n)), { discard: true }),
        Schedule.spaced("1 second")
      )
    )

    // Stop: interrupt the drivers; their finalizers close the root channels and the pipeline drains.
    const stopper = yield* forkInRunScope(
      Deferred.await(stopRequested).pipe(Effect.zipRight(Fiber.interruptAll(driverFibers)))
    )

    const done = Effect.gen(function* () {
      yield* Fiber.awaitAll(driverFibers)
      yield* Fiber.awaitAll(stageFibers)
      yield* Fiber.interrupt(stopper)
      yield* Fiber.interrupt(sampler)
      const err = yield* Ref.get(firstError)
      if (err !== undefined) return yield* Effect.fail(err.error)
    })

    return { stop: Deferred.succeed(stopRequested, undefined).pipe(Effect.asVoid), done }
  }).pipe(Effect.withScheduler(pipelineScheduler))
