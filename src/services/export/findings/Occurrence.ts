/**
 * An occurrence for IBM Findings (data-model.md §5.6): what the occurrence encoder emits (one JSON line
 * each) and what the Findings transport turns into an API request (pipeline.md §12).
 */
import { Schema } from "effect"
import { Priority, type RuleMatch } from "../../../domain/policyEvent.js"

export const Severity = Schema.Literal("LOW", "MEDIUM", "HIGH")
export type Severity = typeof Severity.Type

const rank: Record<Severity, number> = { LOW: 0, MEDIUM: 1, HIGH: 2 }

/** F2: Informational/Low → LOW, Medium → MEDIUM, High/Critical → HIGH. */
export const severityOfPriority = (p: Priority): Severity =>
  p >= Priority.High ? "HIGH" : p === Priority.Medium ? "MEDIUM" : "LOW"

export const maxSeverity = (a: Severity, b: Severity): Severity => (rank[a] >= rank[b] ? a : b)

/** The maximum over the matched rules, starting from LOW (no rule → LOW). */
export const severityOfRules = (rules: ReadonlyArray<RuleMatch>): Severity => {
  let s: Severity = "LOW"
  for (const r of rules) s = maxSeverity(s, severityOfPriority(r.priority))
  return s
}

/** The provider's note an occurrence belongs to. */
export const NOTIFICATION_NOTE = "notification"
export const OFFENSE_NOTE = "actionable-offense"
export const noteIdOf = (severity: Severity): string => (severity === "HIGH" ? OFFENSE_NOTE : NOTIFICATION_NOTE)

export const Occurrence = Schema.Struct({
  id: Schema.String,
  noteID: Schema.String,
  severity: Severity,
  certainty: Severity,
  resourceType: Schema.String,
  resourceName: Schema.String,
  shortDescription: Schema.String,
  longDescription: Schema.String,
  alertQuery: Schema.String
})
export type Occurrence = typeof Occurrence.Type

/** The encoder's line for an occurrence (field order as declared above). */
export const occurrenceLine = (o: Occurrence): string => JSON.stringify(o)

const decodeLine = Schema.decodeUnknownEither(Schema.parseJson(Occurrence))

/** The occurrence in an encoded line, or undefined when the line is not one. */
export const parseOccurrenceLine = (line: string): Occurrence | undefined => {
  const r = decodeLine(line)
  return r._tag === "Right" ? r.right : undefined
}
