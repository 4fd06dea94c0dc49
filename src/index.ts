/**
 * sfprocessor as a library: the typed policy engine (compile Falco-syntax policies, evaluate flat
 * records), SysFlow trace reading and writing, the JSON encoder, and the plugin contract types.
 *
 * ```ts
 * import { Effect } from "effect"
 * import { loadPolicies, evaluate, readTraceRecords } from "sfprocessor"
 * ```
 */
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
