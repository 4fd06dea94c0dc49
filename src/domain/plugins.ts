/**
 * The TypeScript plugin contract (pipeline.md §9.3), as far as it is built: user actions for the policy
 * engine. Plugin authors import these types from `sfprocessor`.
 */
import type { FlatRecord } from "./flatRecord.js"
import type { RuleMatch } from "./policyEvent.js"

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
