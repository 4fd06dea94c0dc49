/**
 * The application's layer graph: everything a pipeline is loaded and run with. The CLI provides
 * `MainLive` (with its logger and profiling); a library user provides it too, or swaps parts of it
 * (`PipelineLive` with other driver or transport layers, as the test layers in `testing/` do).
 *
 *   DriversLive ─────────────────────────────┐
 *   TransportsLive ─┐                         │
 *   EncodersLive ───┼─▶ ProcessorsLive ───────┼─▶ PipelineLive ─▶ MainLive (+ Health, TerminalOutput)
 *   PoliciesLive ───┘   (reader, engine,      │
 *   TerminalOutput ─┘    exporter)            │
 *   PluginCache.Live ─────────────────────────┘
 */
import { Layer } from "effect"
import { TerminalOutput } from "../services/export/Transport.js"
import type { DriverRegistry } from "../services/kernel/DriverRegistry.js"
import { Health } from "../services/metrics/Health.js"
import { registryOf } from "../services/pipeline/Registry.js"
import { PluginCache } from "../services/plugins/PluginCache.js"
import { PolicyEngine } from "../services/policy/PolicyEngine.js"
import { PolicyMonitor } from "../services/policy/PolicyMonitor.js"
import type { EncoderRegistry } from "../services/export/Encoder.js"
import type { TransportRegistry } from "../services/export/Transport.js"
import { builtinDrivers, DriversLive } from "./Drivers.js"
import { EncodersLive } from "./Encoders.js"
import { builtinProcessors, ProcessorsLive } from "./Processors.js"
import { TransportsLive } from "./Transports.js"

/** The policy engine and its monitor. */
export const PoliciesLive = Layer.merge(PolicyEngine.Live, PolicyMonitor.Live)

/** The built-in transports and encoders. */
export const ExportsLive = Layer.merge(TransportsLive, EncodersLive)

/**
 * The pipeline's services, built from the given driver and export layers: the processors are bound to
 * those transports and encoders. Swap `drivers` or `exports` to run a pipeline on other sources or sinks.
 */
export const pipelineLayer = <E1, R1, E2, R2>(
  drivers: Layer.Layer<DriverRegistry, E1, R1>,
  exports: Layer.Layer<TransportRegistry | EncoderRegistry, E2, R2>
) =>
  Layer.mergeAll(drivers, PluginCache.Live, ProcessorsLive.pipe(Layer.provide(Layer.mergeAll(exports, PoliciesLive))))

/** Where terminal output goes and the health registry (`/healthz`), which tests replace. */
export const RuntimeLive = Layer.merge(TerminalOutput.Live, Health.Live)

/** The application: built-in drivers, processors, transports and encoders, stdout and health. */
export const MainLive = pipelineLayer(DriversLive, ExportsLive).pipe(Layer.provideMerge(RuntimeLive))

/** What a file worker builds its stages with (docs/parallel.md): processors, exports, policies; no drivers. */
export const FileWorkerLive = Layer.mergeAll(ProcessorsLive.pipe(Layer.provide(Layer.mergeAll(ExportsLive, PoliciesLive))), ExportsLive).pipe(
  Layer.provideMerge(RuntimeLive)
)

/** The graph checker's view of the built-in processors and drivers (what `-test` validates against). */
export const builtinRegistry = registryOf(builtinProcessors, builtinDrivers)
