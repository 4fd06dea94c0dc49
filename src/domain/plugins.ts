/**
 * The TypeScript plugin contract (pipeline.md §9.3): processors, drivers, handlers and actions that
 * teams write as ES modules and sfprocessor loads at run time. Plugin authors import these types from
 * `sfprocessor`:
 *
 * ```ts
 * import type { Plugin, PluginCache, Processor, PluginChannel, FlatRecord } from "sfprocessor"
 * ```
 *
 * A module exports its entry point under the reference's symbol name — `Plugin` (processors), `Driver`,
 * `Handler`, `Action` — or as `default`.
 */
import type { FlatRecord } from "./flatRecord.js"
import type { RuleMatch } from "./policyEvent.js"
import type {
  Container,
  File,
  FileEvent,
  FileFlow,
  K8sEvent,
  NetworkEvent,
  NetworkFlow,
  Pod,
  Process,
  ProcessEvent,
  ProcessFlow,
  SFHeader,
  SysFlowDatum
} from "./sysflow.js"

/** The processor's log, in the reference's format and filtered by `-log` (arguments joined like Go's Println). */
export interface PluginLogger {
  trace(...message: ReadonlyArray<unknown>): void
  info(...message: ReadonlyArray<unknown>): void
  warn(...message: ReadonlyArray<unknown>): void
  error(...message: ReadonlyArray<unknown>): void
}

/** A plugin's configuration: its pipeline entry's attributes (strings; objects/arrays as JSON values). */
export type PluginConfig = Readonly<Record<string, unknown>>

/**
 * A pipeline channel as plugins see it. `send` returns nothing while the channel has room and a promise
 * (resolved when there is room) when it is full: `await` it only when it is a promise, so the fast path
 * costs no microtask. Reading: `for await (const x of channel)`, or `drain()` for whole chunks.
 */
export interface PluginChannel<T> extends AsyncIterable<T> {
  readonly name: string
  readonly type: string
  send(item: T): void | Promise<void>
  /** Ends the stream (after what was sent); a processor's `cleanup` must close its outputs. */
  close(): Promise<void>
  /** The next chunk of records, or undefined at end of stream. */
  drain(): Promise<ReadonlyArray<T> | undefined>
}

export interface Processor {
  getName(): string
  init(conf: PluginConfig): void | Promise<void>
  setOutChan(outs: ReadonlyArray<PluginChannel<unknown>>): void
  /** Reads the inputs until they end; the pipeline awaits it, then calls `cleanup`. */
  process(ins: ReadonlyArray<PluginChannel<unknown>>): Promise<void>
  /** Must close the outputs. */
  cleanup(): void | Promise<void>
  /** Health check: false or a rejection fails the load (exit 1). */
  test?(): boolean | Promise<boolean>
}

/** What a driver sees of the pipeline. */
export interface PipelineApi {
  readonly logger: PluginLogger
  /** The first `in` channel of the first pipeline entry. */
  getRootChannel(): PluginChannel<unknown>
  /** A channel of the pipeline by its `"<name> <type>"` string (the driver's `out`). */
  getChannel(spec: string): PluginChannel<unknown>
}

export interface Driver {
  getName(): string
  /** `conf` is the driver's `drivers[]` block, or null. */
  init(pipeline: PipelineApi, conf: PluginConfig | null): void | Promise<void>
  /** Feeds the pipeline until the input ends or `signal` aborts (first SIGINT/SIGTERM). */
  run(path: string, signal: AbortSignal): Promise<void>
  cleanup(): void | Promise<void>
}

/** The reader's context for one SysFlow record (data-model.md §2.3). */
export interface HandlerContext {
  readonly header: SFHeader | undefined
  readonly container: Container | undefined
  readonly pod: Pod | undefined
  readonly process: Process | undefined
  readonly ptree: ReadonlyArray<Process> | undefined
  readonly file: File | undefined
  readonly newFile: File | undefined
}

/** A sysflowreader handler (`handler` + `handlerlibpath`): called for each SysFlow record in order. */
export interface Handler {
  registerHandler?(hc: HandlerCache): void
  registerChannel?(pc: PluginCache): void
  init(conf: PluginConfig): void | Promise<void>
  /** True to receive entity records (header, container, pod, process, file) too. */
  isEntityEnabled(): boolean
  setOutChan(outs: ReadonlyArray<PluginChannel<unknown>>): void
  cleanup(): void | Promise<void>
  handleHeader?(ctx: HandlerContext, rec: SFHeader): void | Promise<void>
  handleContainer?(ctx: HandlerContext, rec: Container): void | Promise<void>
  handlePod?(ctx: HandlerContext, rec: Pod): void | Promise<void>
  handleK8sEvt?(ctx: HandlerContext, rec: K8sEvent): void | Promise<void>
  handleProcess?(ctx: HandlerContext, rec: Process): void | Promise<void>
  handleFile?(ctx: HandlerContext, rec: File): void | Promise<void>
  handleNetFlow?(ctx: HandlerContext, rec: NetworkFlow): void | Promise<void>
  handleNetEvt?(ctx: HandlerContext, rec: NetworkEvent): void | Promise<void>
  handleFileFlow?(ctx: HandlerContext, rec: FileFlow): void | Promise<void>
  handleFileEvt?(ctx: HandlerContext, rec: FileEvent): void | Promise<void>
  handleProcFlow?(ctx: HandlerContext, rec: ProcessFlow): void | Promise<void>
  handleProcEvt?(ctx: HandlerContext, rec: ProcessEvent): void | Promise<void>
}

/** Where plugin modules register what they provide. */
export interface PluginCache {
  /** For the plugin's own log lines. */
  readonly logger: PluginLogger
  addProcessor(name: string, factory: () => Processor): void
  addDriver(name: string, factory: () => Driver): void
  /** Declares a channel type name, so pipelines may use it (`capacity` is the record capacity). */
  addChannel(type: string, factory?: (capacity: number) => unknown): void
}

export interface HandlerCache {
  readonly logger: PluginLogger
  addHandler(name: string, factory: () => Handler): void
}

/** A processor module's entry point: `export const Plugin = { register(pc) { ... } }`. */
export interface Plugin {
  register(pc: PluginCache): void
}

/** What an action sees: the record, the rules it matched so far, and the context tags it may extend. */
export interface ActionContext {
  readonly record: FlatRecord
  readonly rules: ReadonlyArray<RuleMatch>
  readonly tags: Array<string>
}

/** A user action (`actions: [name]` in a rule), exported as `Action` (or `default`) by an ES module. */
export interface Action<R = ActionContext> {
  getName(): string
  getFunc(): (record: R) => void | Promise<void>
}

export type { FlatRecord, SysFlowDatum }
