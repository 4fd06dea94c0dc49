/**
 * What a processor, a handler or a driver declares about itself, so a pipeline can be validated before
 * anything runs (pipeline.md §3, §5): the channel types it reads and writes, and the keys it reads.
 */

export interface ProcessorSpec {
  readonly name: string
  /** Channel types it can read; "any" for plugins, which declare none. */
  readonly accepts: ReadonlyArray<string> | "any"
  /** Channel types it can write: a list (empty for a sink), "handler" (whatever its handler writes) or "any". */
  readonly emits: ReadonlyArray<string> | "handler" | "any"
  /** How many `in` channels it reads; built-ins read exactly one. */
  readonly maxInputs: number
  /**
   * Attribute names it reads, in canonical spelling, so env overrides can find camelCase keys (P4) and
   * an override of any other key is reported; "any" for plugins, which read what they like.
   */
  readonly knownKeys: ReadonlyArray<string> | "any"
}

export interface HandlerSpec {
  readonly name: string
  readonly emits: ReadonlyArray<string>
}

export interface DriverSpec {
  readonly name: string
  /** The channel type it writes; "any" for plugins, which declare none. */
  readonly emits: string | "any"
  /**
   * Which channel it writes (§5.2): "out" = the config block's `out`, which the block must have, or the root
   * channel without a block (file, socket); "root" = always the root channel (otelfile, otelkafka ignore
   * `out`); "outOrRoot" = the block's `out` when given, else the root channel (plugin drivers).
   */
  readonly output: "out" | "root" | "outOrRoot"
}
