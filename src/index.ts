/**
 * sfprocessor as a library: the typed policy engine (compile Falco-syntax policies, evaluate flat
 * records), SysFlow trace reading and writing, the JSON encoder, the plugin contract types, and whole
 * pipelines (`runPipeline`) with the application's services and layers, which a program can swap for
 * its own drivers and transports (docs/architecture.md).
 *
 * ```ts
 * import { Effect } from "effect"
 * import { loadPolicies, evaluate, readTraceRecords } from "sfprocessor"
 * ```
 */
import { hashingReady } from "./domain/xxhash.js"

// Flattened attributes hash process ids (xxHash64, a WebAssembly module compiled asynchronously).
await hashingReady

export type {
  Action,
  ActionContext,
  Driver,
  Handler,
  HandlerCache,
  HandlerContext,
  PipelineApi,
  Plugin,
  PluginCache,
  PluginChannel,
  PluginConfig,
  PluginLogger,
  Processor
} from "./domain/plugins.js"
export * as attributes from "./domain/attributes.js"
export type { FlatRecord, RecordType } from "./domain/flatRecord.js"
export type { PolicyEvent, RuleMatch } from "./domain/policyEvent.js"
export { Priority } from "./domain/policyEvent.js"
export type * from "./domain/sysflow.js"
export { TraceError } from "./domain/errors.js"
export { type Diagnostic, PolicyError, renderDiagnostic } from "./domain/policy/Diagnostic.js"
export { attributeTable, type AttributeDef } from "./domain/attributes.js"

export {
  type CompiledPolicySet,
  type CompiledRule,
  compilePolicies,
  evaluate,
  type Evaluation,
  listPolicyFiles,
  loadPolicies,
  type PolicyMode,
  type PolicySource,
  shouldEmit
} from "./services/policy/PolicySet.js"

export { loadSigmaPolicies } from "./services/policy/sigma/SigmaPolicySet.js"

export { readTraceFile } from "./services/drivers/TraceFiles.js"
export { Flattener } from "./services/reader/Flattener.js"
export { readTraceRecords } from "./services/reader/TraceRecords.js"
export { encodeJsonBatch, encodeJsonEvent } from "./services/export/encoders/JsonEncoder.js"
export { TraceWriter, OpFlag, OpenFlag, ipv4 } from "./services/trace/TraceWriter.js"
export { fileSink, MemorySink } from "./services/avro/OcfWriter.js"

// Pipelines: the run, the services it is built from, and their layers.
export { runPipeline, type PipelineOptions, type Totals } from "./services/pipeline/Pipeline.js"
export { type DriverDefinition, DriverRegistry, type DriverRun } from "./services/kernel/DriverRegistry.js"
export { type ProcessorDefinition, ProcessorRegistry } from "./services/kernel/ProcessorRegistry.js"
export type { Stage } from "./services/kernel/Stage.js"
export { type Channel, CHUNK_SIZE, send } from "./services/kernel/Channel.js"
export type { ChannelTypes } from "./services/kernel/ChannelTypes.js"
export { TerminalOutput, type Transport, type TransportFactory, TransportRegistry } from "./services/export/Transport.js"
export { type Encoder, type EncoderFactory, EncoderRegistry } from "./services/export/Encoder.js"
// The service; `PluginCache` above is the type a plugin's register() receives.
export { PluginCache as PluginCacheService } from "./services/plugins/PluginCache.js"
export { PolicyEngine } from "./services/policy/PolicyEngine.js"
export { PolicyMonitor } from "./services/policy/PolicyMonitor.js"
export { Health } from "./services/metrics/Health.js"
export { DriverError, ExportError, PipelineConfigError, type PipelineError } from "./domain/errors.js"
export { builtinDrivers, DriversLive } from "./layers/Drivers.js"
export { builtinTransports, TransportsLive } from "./layers/Transports.js"
export { builtinEncoders, EncodersLive } from "./layers/Encoders.js"
export { builtinProcessors, ProcessorsLive } from "./layers/Processors.js"
export { ExportsLive, MainLive, PoliciesLive, pipelineLayer, RuntimeLive } from "./layers/MainLive.js"
export { type Replay, ReplayDriver, replayDriver } from "./layers/testing/ReplayDriver.js"
export { type CapturedBatches, CaptureTransport, captureTransport } from "./layers/testing/CaptureTransport.js"
export { readTraceBytes } from "./services/drivers/TraceFiles.js"
