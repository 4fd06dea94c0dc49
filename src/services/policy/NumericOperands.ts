/**
 * Operand checks for numeric attributes (issue 10 §5). The reference never complained about the other
 * side of a comparison with a number:
 *
 * * Relational operators (`<` `<=` `>` `>=`) take MapInt of both sides (policy-language.md §6.3): text
 *   that is not a signed 64-bit decimal integer (`abc`, `"50"`, `10.5`, `99999999999999999999`) became 0,
 *   so `sf.proc.pid > abc` fired on every record. sfprocessor makes that a compile error.
 * * `=`, `!=` and `in` compare the attribute's decimal rendering as a string (§6.4): a value that is not
 *   a decimal integer as rendered (`udp`, `010`, `+5`) can never be equal, so `=` is never true and `!=`
 *   always is. The reference's shipped policies contain such comparisons (`sf.net.proto=udp` in
 *   runtimeintegrity, `evt.arg.uid=nobody` in tests/falco.yaml) and must still load (§2), so these are
 *   warnings.
 * * A relational operator on an attribute without a 64-bit value (strings, booleans, the 32-bit parent
 *   fields, `x[path]`) compares 0 (Q8, kept): a warning.
 */
import type { AttributeDef } from "../../domain/attributes.js"
import { parseGoIntStrict } from "./Predicates.js"

/** Attributes whose MapStr is a decimal integer (or a comma-joined list of them). */
export const isNumericAttribute = (def: AttributeDef): boolean => def.kind === "int" || def.kind === "ints"

/** How numeric attributes render (Go `FormatInt`): no `+`, no leading zeros. */
const RENDERED_INT = /^-?(?:0|[1-9][0-9]*)$/

/** The first comma-separated part of a (quote-trimmed) value that no decimal rendering equals. */
export const nonNumericPart = (value: string): string | undefined => value.split(",").find((p) => !RENDERED_INT.test(p))

/**
 * Why `text` (a literal, as written) cannot be compared by a relational operator with an attribute that
 * has a 64-bit value; undefined when it is a valid operand.
 */
export const relationalOperandProblem = (text: string): string | undefined => {
  const v = parseGoIntStrict(text)
  if (typeof v === "bigint") return undefined
  if (v === "range") return "is outside the signed 64-bit integer range"
  const unquoted = text.replace(/^["']|["']$/g, "")
  if (unquoted !== text && typeof parseGoIntStrict(unquoted) === "bigint") {
    return "is quoted: relational operators need an unquoted integer"
  }
  return "is not an integer"
}
