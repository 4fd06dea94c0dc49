/**
 * The processors a pipeline entry can name (pipeline.md §8, §11): the application's processor registry.
 * A new built-in stage is registered here; plugin processors come from `-plugdir` through the plugin
 * cache. The registry needs the services its processors use (transports, encoders, the policy engine).
 */
import { Effect } from "effect"
import { PipelineConfigError } from "../domain/errors.js"
import type { EncoderRegistry } from "../services/export/Encoder.js"
import { exporterProcessor } from "../services/export/Exporter.js"
import type { TerminalOutput, TransportRegistry } from "../services/export/Transport.js"
import { type ProcessorDefinition, ProcessorRegistry } from "../services/kernel/ProcessorRegistry.js"
import type { PolicyEngine } from "../services/policy/PolicyEngine.js"
import { policyEngineProcessor } from "../services/policy/PolicyEngineStage.js"
import type { PolicyMonitor } from "../services/policy/PolicyMonitor.js"
import { readerKeys, sysflowReaderProcessor } from "../services/reader/SysFlowReader.js"

/** The reference's context processor: known to the graph checker, refused at init. */
const sysflowProcessor: ProcessorDefinition<"ctxchan", never> = {
  spec: { name: "sysflowprocessor", accepts: ["ctxchan"], emits: "handler", maxInputs: 1, knownKeys: readerKeys },
  make: () => Effect.fail(new PipelineConfigError({ reason: "Plugin", detail: "processor 'sysflowprocessor' (ctxchan input) is not implemented yet" }))
}

export const builtinProcessors = [sysflowReaderProcessor, sysflowProcessor, policyEngineProcessor, exporterProcessor] as const

/** What the built-in processors use. */
type ProcessorServices = TerminalOutput | TransportRegistry | EncoderRegistry | PolicyEngine | PolicyMonitor

export const ProcessorsLive = ProcessorRegistry.layer<ProcessorServices>(builtinProcessors)
