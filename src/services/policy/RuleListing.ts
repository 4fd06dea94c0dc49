/**
 * The loaded rules as a list (Falco's `-L`): each rule's state, where it is defined, its priority and
 * tags. A rule is
 * * `active`: evaluated;
 * * `disabled`: `enabled: false` in its file;
 * * `inactive`: it can never apply to SysFlow data (a source, plugin or field SysFlow lacks, or a condition
 *   that is never true), with the reason;
 * * `skipped`: Falco's `skip-if-unknown-filter` skipped it (a name that is no Falco field), with the reason.
 */
import { Priority } from "../../domain/policyEvent.js"
import type { CompiledPolicySet, CompiledRule } from "./PolicySet.js"

export type RuleState = "active" | "disabled" | "inactive" | "skipped"

export interface ListedRule {
  readonly name: string
  readonly state: RuleState
  /** Why an inactive or skipped rule does not apply. */
  readonly why?: string
  /** `file:line:col` of its `rule` key. */
  readonly source: string
  readonly priority: string
  readonly tags: ReadonlyArray<string>
}

const PRIORITY_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Priority).map(([name, n]) => [n, name.toLowerCase()]))

const stateOf = (r: CompiledRule): RuleState => (r.skipped === true ? "skipped" : r.inactive !== undefined ? "inactive" : r.enabled ? "active" : "disabled")

/** Every rule of the set, in rule order. */
export const listRules = (set: CompiledPolicySet): ReadonlyArray<ListedRule> =>
  set.rules.map((r) => ({
    name: r.name,
    state: stateOf(r),
    ...(r.inactive === undefined ? {} : { why: r.inactive }),
    source: `${r.position.file}:${r.position.line}:${r.position.column}`,
    priority: PRIORITY_NAMES.get(r.priority) ?? `${r.priority}`,
    tags: r.tags.filter((t) => t !== "")
  }))

/** `3 rules: 1 active, 1 inactive, 1 skipped` (states that occur, in a fixed order). */
export const listingSummary = (rules: ReadonlyArray<ListedRule>): string => {
  const counts = (["active", "disabled", "inactive", "skipped"] as const).flatMap((s) => {
    const n = rules.filter((r) => r.state === s).length
    return n === 0 ? [] : [`${n} ${s}`]
  })
  return `${rules.length} rule${rules.length === 1 ? "" : "s"}${counts.length === 0 ? "" : `: ${counts.join(", ")}`}`
}

/** A table, one line per rule (columns aligned, the reason last), then the summary line. */
export const formatRuleListing = (rules: ReadonlyArray<ListedRule>): string => {
  const rows = [
    ["STATE", "PRIORITY", "RULE", "SOURCE", "TAGS", "WHY"],
    ...rules.map((r) => [r.state, r.priority, r.name, r.source, r.tags.join(","), r.why ?? ""])
  ]
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)))
  const line = (row: ReadonlyArray<string>) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd()
  return [...rows.map(line), listingSummary(rules)].join("\n")
}
