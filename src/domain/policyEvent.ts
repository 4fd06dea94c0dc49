/**
 * What flows on an `eventchan`: a flat record with the rules it matched and the tags attached to it.
 * Each policy engine wraps its input in its own event, so fanning a flattener out into two engines is
 * safe; downstream of an engine the event is read-only.
 */
import type { FlatRecord } from "./flatRecord.js"

/** Rule priorities as exported in JSON `policies[].priority`. */
export const Priority = { Informational: 0, Low: 1, Medium: 2, High: 3, Critical: 4 } as const
export type Priority = (typeof Priority)[keyof typeof Priority]

/** What a Sigma rule's alerts carry besides name (its id), desc, priority and tags (docs/sigma.md). */
export interface SigmaRuleInfo {
  readonly id: string
  readonly title: string
  readonly level: string | undefined
  readonly references: ReadonlyArray<string>
}

export interface RuleMatch {
  readonly name: string
  readonly desc: string
  readonly priority: Priority
  readonly tags: ReadonlyArray<string>
  /** Sigma rules only: JSON `policies[]` adds title, level and references; ECS adds `rule.*`. */
  readonly sigma?: SigmaRuleInfo
  /** Rules with an `output` template (docs/falco.md): the text for a matching record, JSON `policies[].output`. */
  readonly renderOutput?: (record: FlatRecord) => string
}

export interface PolicyEvent {
  readonly record: FlatRecord
  /** Matched rules, in rule order (empty when nothing matched or no engine ran). */
  readonly rules: ReadonlyArray<RuleMatch>
  /** Context tags added by actions (rule tags are read from `rules`). */
  readonly tags: ReadonlyArray<string>
}

const noRules: ReadonlyArray<RuleMatch> = []
const noTags: ReadonlyArray<string> = []

/** An event for a record that no policy engine has seen (e.g. reader → exporter directly). */
export const bareEvent = (record: FlatRecord): PolicyEvent => ({ record, rules: noRules, tags: noTags })
