/**
 * What each channel type of a pipeline file carries (pipeline.md §3). The graph checker matches type
 * names; these are the element types the built-in stages and drivers read and write.
 */
import type { FlatRecord } from "../../domain/flatRecord.js"
import type { PolicyEvent } from "../../domain/policyEvent.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"

export interface ChannelTypes {
  readonly sysflowchan: SysFlowDatum
  readonly flattenerchan: FlatRecord
  readonly eventchan: PolicyEvent
  /** The reference's OTel and context channels: nothing built in writes them (those drivers and processors are refused). */
  readonly otelchan: never
  readonly ctxchan: never
}

export type ChannelType = keyof ChannelTypes

/** The element type of a channel type (`unknown` for types only plugins know). */
export type ElementOf<T extends string> = T extends ChannelType ? ChannelTypes[T] : unknown
