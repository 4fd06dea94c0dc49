/**
 * The driver registry: the sources a pipeline can read (pipeline.md §10), by name. Each driver declares
 * its spec (for the graph checker) and an `init` that validates its input and config block at load and
 * returns the function that feeds the pipeline's root channel. The application's drivers are registered
 * in `src/layers/Drivers.ts`; tests register replay drivers (`src/layers/testing/ReplayDriver.ts`).
 * Plugin drivers come from the plugin cache, not from here.
 */
import { Context, type Effect, Layer, type Scope } from "effect"
import type { DriverError, PipelineError } from "../../domain/errors.js"
import type { DriverEntry } from "../../domain/pipelineConfig.js"
import type { SomeChannel } from "./Channel.js"
import type { DriverSpec } from "./ComponentSpecs.js"

/**
 * Feeds the driver's output channel until its input ends or it is interrupted; never closes it. The
 * channel carries what the spec's `emits` names (the graph checker matched it): SysFlow datums, or flat
 * records for the nats driver.
 */
export type DriverRun = (output: SomeChannel) => Effect.Effect<void, PipelineError>

export interface DriverDefinition {
  /** A built-in driver writes SysFlow datums (`sysflowchan`), or flat records (`flattenerchan`: nats). */
  readonly spec: DriverSpec & { readonly emits: "sysflowchan" | "flattenerchan" | "otelchan" }
  /**
   * Checks the input (the CLI's path) and the driver's `drivers[]` block, if any, at load time (a missing
   * path fails here, before any output is touched); the result runs when the pipeline starts.
   */
  readonly init: (input: string, config: DriverEntry | undefined) => Effect.Effect<DriverRun, DriverError, Scope.Scope>
  /** False for a driver that reads no input path (nats): a pipeline whose drivers all say so runs without one. */
  readonly needsInput?: boolean
  /**
   * True for a driver that acknowledges its source once every exporter delivered (nats, through the
   * chunks' delivery tags): plugin stages, which cannot pass tags on, are refused in its pipeline.
   */
  readonly acknowledgesDelivery?: boolean
  /**
   * Health check of the driver's source, run at load and by `-test` with the other health checks
   * (pipeline.md §6): the nats driver connects and finds its stream. Absent for local inputs.
   */
  readonly test?: (config: DriverEntry | undefined) => Effect.Effect<void, DriverError>
}

export class DriverRegistry extends Context.Tag("sfprocessor/DriverRegistry")<
  DriverRegistry,
  ReadonlyMap<string, DriverDefinition>
>() {
  /** A registry of exactly these drivers (a later one replaces an earlier one of the same name). */
  static readonly layer = (drivers: ReadonlyArray<DriverDefinition>): Layer.Layer<DriverRegistry> =>
    Layer.succeed(DriverRegistry, new Map(drivers.map((d) => [d.spec.name, d])))
}
