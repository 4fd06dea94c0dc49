/**
 * Loading a pipeline (pipeline.md §4, §6): read the config, apply the environment overrides and the
 * manifest, select the drivers, validate the graph, initialise every processor, refuse outputs that
 * would overwrite an input, then run the health checks. Everything that can be wrong with a
 * configuration fails here, before any record is read or any output touched.
 */
import { Duration, Effect, type Scope } from "effect"
import { DriverError, type ExportError, PipelineConfigError, errorText } from "../../domain/errors.js"
import { logHealth } from "../logging/SfLogger.js"
import { loadPipelineConfig } from "./ConfigLoader.js"
import { applyEnvOverrides, envOverrideWarnings } from "./EnvOverrides.js"
import { type BuiltPipeline, buildDrivers, buildStages } from "./PipelineBuilder.js"
import { buildPipelineGraph, type PipelineGraph, selectDrivers, unknownProcessors } from "./PipelineGraph.js"
import { refuseOutputsOverInputs } from "./OutputsOverInputs.js"
import { extendRegistry, knownKeysOf, pluginDriver, pluginProcessor, registryOf } from "./Registry.js"
import { DriverRegistry } from "../kernel/DriverRegistry.js"
import { ProcessorRegistry } from "../kernel/ProcessorRegistry.js"
import type { RunnableDriver } from "../kernel/Runner.js"
import { PluginCache } from "../plugins/PluginCache.js"

export interface LoadOptions {
  readonly configPath: string
  /** `-driver`; empty = use the config's `drivers` block. */
  readonly driver: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** `-plugdir`: where unknown processors are looked up as plugins. */
  readonly plugdir: string
  /** `-driverdir`: every driver module in it is loaded. */
  readonly driverdir: string
  /** The CLI's input path (the file/socket driver's path); empty when none was given. */
  readonly input: string
}

export interface LoadedGraph {
  readonly graph: PipelineGraph
  /** Where to serve `/metrics` and `/healthz`: `SFPROCESSOR_METRICS`, else the config's `metrics` key. */
  readonly metrics: string | undefined
}

export interface LoadedPipeline extends LoadedGraph {
  readonly built: BuiltPipeline
}

/** The services a pipeline is loaded from: the registries of its parts and the plugin cache. */
export type PipelineServices = DriverRegistry | ProcessorRegistry | PluginCache

/** A failed or timed-out health check (P5: stops the processor with exit 1). */
export class HealthCheckError extends PipelineConfigError {}

const HEALTH_TIMEOUT = Duration.seconds(10)

/**
 * Reads the configuration, loads the plugin drivers and the plugin processors it names, and validates
 * the whole graph (no processor initialised yet).
 */
export const loadGraph = (options: LoadOptions): Effect.Effect<LoadedGraph, PipelineConfigError, PipelineServices> =>
  Effect.gen(function* () {
    const raw = yield* loadPipelineConfig(options.configPath)
    const drivers = yield* DriverRegistry
    const processors = yield* ProcessorRegistry
    const cache = yield* PluginCache
    const plugins = cache.registrations
    const builtinRegistry = registryOf(processors.values(), drivers.values())
    const builtins = new Set([...builtinRegistry.processors.keys(), ...builtinRegistry.drivers.keys()])
    // Driver modules run code when imported: load them only when a driver that is not built in is asked for.
    const wanted = options.driver !== "" ? [options.driver] : raw.drivers.flatMap((d) => (d.driver === undefined ? [] : [d.driver]))
    if (wanted.some((d) => !builtinRegistry.drivers.has(d))) yield* cache.loadDrivers(options.driverdir, builtins)
    let registry = extendRegistry(builtinRegistry, { drivers: [...plugins.drivers.keys()].map(pluginDriver) })
    for (const name of unknownProcessors(raw, registry)) yield* cache.loadProcessor(options.plugdir, name, builtins)
    registry = extendRegistry(registry, {
      processors: [...plugins.processors.keys()].map(pluginProcessor),
      channelTypes: [...plugins.channelTypes]
    })
    const config = applyEnvOverrides(raw, options.env, knownKeysOf(registry))
    for (const warning of envOverrideWarnings(raw, options.env, knownKeysOf(registry))) yield* Effect.logWarning(warning)
    for (const entry of config.pipeline) {
      if (entry.converted.length > 0) {
        yield* Effect.logTrace(`pipeline[${entry.index}] (${entry.processor}): non-string values read as text: ${entry.converted.join(", ")}`)
      }
    }
    const selected = yield* selectDrivers(config, options.driver === "" ? undefined : options.driver)
    if (options.driver === "") for (const d of selected) yield* Effect.logInfo(`Loading driver: ${d}`)
    const graph = yield* buildPipelineGraph(config, registry, selected)
    const fromEnv = options.env["SFPROCESSOR_METRICS"]
    return { graph, metrics: fromEnv !== undefined && fromEnv !== "" ? fromEnv : config.metrics }
  })

/** A health check: a processor's, or a driver's that reaches a remote source (nats). */
interface HealthCheck {
  readonly name: string
  readonly test?: Effect.Effect<void, unknown>
}

/** The drivers' health checks (after the processors'), for drivers that have one. */
const driverChecks = (graph: PipelineGraph): Effect.Effect<ReadonlyArray<HealthCheck>, never, DriverRegistry> =>
  Effect.map(DriverRegistry, (registry) =>
    graph.drivers.flatMap((d) => {
      const test = registry.get(d.spec.name)?.test
      return test === undefined ? [] : [{ name: `driver ${d.spec.name}`, test: test(d.config) }]
    })
  )

/**
 * A driver that acknowledges its source once every exporter delivered (nats) cannot have plugin stages in
 * its pipeline: plugin code takes records one by one and emits others, so what it emitted for which
 * message cannot be known, and the driver could never acknowledge (its consumer would stall).
 */
const refuseUnacknowledgeable = (
  graph: PipelineGraph,
  built: BuiltPipeline,
  file: string
): Effect.Effect<void, PipelineConfigError, DriverRegistry> =>
  Effect.flatMap(DriverRegistry, (registry) => {
    const driver = graph.drivers.find((d) => registry.get(d.spec.name)?.acknowledgesDelivery === true)
    return driver === undefined || built.pluginStages.length === 0
      ? Effect.void
      : Effect.fail(
          new PipelineConfigError({
            reason: "Graph",
            file,
            detail: `driver '${driver.spec.name}' acknowledges a message once every exporter delivered its records, which plugin stages cannot report: ${built.pluginStages.join(", ")} cannot run in its pipeline`
          })
        )
  })

/** Runs every processor's health check in order, then the drivers', stopping at the first failure (§6). */
const healthChecks = (checks: ReadonlyArray<HealthCheck>): Effect.Effect<void, PipelineConfigError> =>
  Effect.forEach(checks, (stage) =>
    stage.test === undefined
      ? Effect.void
      : stage.test.pipe(
          Effect.tapError((e) => Effect.logError(`Health checks for plugin ${stage.name} failed: ${errorText(e)}`).pipe(Effect.annotateLogs("component", stage.name))),
          Effect.mapError((e) => new HealthCheckError({ reason: "Plugin", detail: `health check of ${stage.name} failed: ${errorText(e)}` }))
        ),
    { discard: true }
  ).pipe(
    Effect.timeoutFail({
      duration: HEALTH_TIMEOUT,
      onTimeout: () => new HealthCheckError({ reason: "Plugin", detail: "Health checks timed out:  context deadline exceeded" })
    }),
    Effect.tapError((e) => (e.detail.startsWith("Health checks timed out") ? Effect.logError(e.detail) : Effect.void)),
    Effect.tapBoth({ onFailure: () => logHealth("Health checks: failed"), onSuccess: () => logHealth("Health checks: passed") })
  )

/** The whole load: graph, processors (scoped), health checks. */
export const loadPipeline = (
  options: LoadOptions
): Effect.Effect<LoadedPipeline, PipelineConfigError | ExportError, Scope.Scope | PipelineServices> =>
  Effect.gen(function* () {
    const loaded = yield* loadGraph(options)
    const built = yield* buildStages(loaded.graph)
    yield* refuseUnacknowledgeable(loaded.graph, built, options.configPath)
    yield* refuseOutputsOverInputs(loaded.graph, options.input, options.configPath)
    yield* healthChecks([...built.stages, ...(yield* driverChecks(loaded.graph))])
    return { ...loaded, built }
  })

/** Initialises the drivers for a loaded pipeline (after a successful load, not under `-test`). */
export const initDrivers = (
  loaded: LoadedPipeline,
  input: string
): Effect.Effect<ReadonlyArray<RunnableDriver>, DriverError, Scope.Scope | DriverRegistry | PluginCache> =>
  buildDrivers(loaded.graph, loaded.built, input)

