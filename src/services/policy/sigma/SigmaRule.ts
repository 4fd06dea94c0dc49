/**
 * A Sigma rule as read from its YAML file (Sigma rules specification v2), before field mapping and
 * compilation: the metadata the alerts carry, the logsource, the named searches of `detection` and its
 * condition(s). Every part that can be wrong keeps the position of its YAML node, so that compile errors
 * name `file:line:col`.
 */
import type { SourceLocation } from "../../../domain/policy/PolicyAst.js"

/** A scalar value of a search: Sigma values are strings, numbers, booleans or `null`. */
export type SigmaScalar = string | number | boolean | null

/** `Field|mod1|mod2: value(s)`: one field matcher of a map search. */
export interface FieldMatcher {
  /** The field name as written (before mapping). */
  readonly field: string
  /** The modifiers, in order, as written. */
  readonly modifiers: ReadonlyArray<string>
  readonly values: ReadonlyArray<SigmaScalar>
  /** Position of the key (`Field|mods`). */
  readonly pos: SourceLocation
  /** Position of each value. */
  readonly valuePos: ReadonlyArray<SourceLocation>
}

/**
 * A search (the value of a search identifier):
 * - `map`: field matchers, all of which must hold;
 * - `anyOf`: a list of maps, any of which must hold (Sigma semantics; the reference ANDed them, S2);
 * - `keywords`: a list of values searched in the whole record (any of them; all of them with `|all`).
 */
export type Search =
  | { readonly kind: "map"; readonly matchers: ReadonlyArray<FieldMatcher>; readonly pos: SourceLocation }
  | { readonly kind: "anyOf"; readonly maps: ReadonlyArray<Search>; readonly pos: SourceLocation }
  | {
      readonly kind: "keywords"
      readonly modifiers: ReadonlyArray<string>
      readonly values: ReadonlyArray<SigmaScalar>
      readonly pos: SourceLocation
      readonly valuePos: ReadonlyArray<SourceLocation>
    }

export interface SigmaLogsource {
  readonly category: string | undefined
  readonly product: string | undefined
  readonly service: string | undefined
  readonly pos: SourceLocation
}

/** One `detection.condition` entry (a rule has one compiled rule per entry, as the reference). */
export interface SigmaConditionText {
  readonly text: string
  /** Where the condition's text starts: offsets in the text add to this column (one-line conditions). */
  readonly pos: SourceLocation
}

/** The level → priority mapping (policy-language.md §10). */
export type SigmaLevel = "informational" | "low" | "medium" | "high" | "critical"

export interface SigmaRule {
  readonly file: string
  readonly title: string
  /** The rule id (a UUID); `""` when absent (then the title names the rule). */
  readonly id: string
  readonly description: string
  readonly level: string | undefined
  readonly tags: ReadonlyArray<string>
  readonly references: ReadonlyArray<string>
  readonly status: string | undefined
  readonly logsource: SigmaLogsource
  /** Search identifiers in document order. */
  readonly searches: ReadonlyMap<string, Search>
  readonly conditions: ReadonlyArray<SigmaConditionText>
  /**
   * The sfprocessor extension `sysflow: { logsource: ignore }`: apply the rule to every record type, as
   * the reference did (undefined when the rule does not say).
   */
  readonly logsourceOverride: "ignore" | "map" | undefined
  /** Position of the document (for diagnostics about the rule as a whole). */
  readonly pos: SourceLocation
}
