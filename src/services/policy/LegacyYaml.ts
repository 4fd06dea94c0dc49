/**
 * The legacy fallback for policy files that are not valid YAML (decision Y10, policy-language.md §3.4).
 * Used only when the strict parse fails; the rewritten text is parsed with the same options, and one
 * warning per rewritten line is emitted. Rewrites, line by line:
 *
 * * **L1 tabs:** each tab in a line's leading whitespace counts as one space.
 * * **L2 item markers:** a line whose text starts (after leading whitespace) with `-`, optional spaces,
 *   an item key (`rule macro list filter drop required_engine_version`) and `:` moves to column 1.
 * * **L3 item body:** inside an item (from its marker to the next one), a line starting with a field key
 *   (`desc condition items priority tags prefilter enabled actions output append warn_evttypes
 *   skip-if-unknown-filter`) and `:` is re-indented to exactly two spaces; any other non-blank,
 *   non-comment line indented by fewer than four spaces is re-indented to four.
 * * **L4 rule names containing `: `:** on a `rule` line whose value is a single-line plain scalar
 *   containing `: ` (or ending in `:`), the value up to an unquoted ` #` is wrapped in single quotes,
 *   doubling any `'`.
 *
 * Blank and comment lines are never rewritten. Line count is unchanged, so positions in the rewritten
 * text map back to the original by line, with a per-line column map (`originalColumn`).
 */

const MARKER = /^-[ \t]*(rule|macro|list|filter|drop|required_engine_version)[ \t]*:/
const FIELD = /^(desc|condition|items|priority|tags|prefilter|enabled|actions|output|append|warn_evttypes|skip-if-unknown-filter)[ \t]*:/
const RULE_MARKER = /^-[ \t]*rule[ \t]*:[ \t]*/

export type LegacyRule = "L1" | "L2" | "L3" | "L4"

export interface RewrittenLine {
  /** 1-based line number (the same in both texts). */
  readonly line: number
  /** 1-based column of the line's first non-blank character in the original. */
  readonly column: number
  readonly rules: ReadonlyArray<LegacyRule>
  /** For each 0-based column of the rewritten line (and one past its end): the original 0-based column. */
  readonly columnMap: ReadonlyArray<number>
}

export interface LegacyRewrite {
  readonly text: string
  /** Rewritten lines, by 1-based line number. */
  readonly lines: ReadonlyMap<number, RewrittenLine>
}

/** Index of the first `#` preceded by whitespace outside quotes, or -1. */
const commentStart = (s: string): number => {
  let quote = ""
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (quote !== "") {
      if (c === quote) quote = ""
    } else if (c === '"' || c === "'") quote = c
    else if (c === "#" && i > 0 && (s[i - 1] === " " || s[i - 1] === "\t")) return i
  }
  return -1
}

/** L4: the marker line's rest with the rule name wrapped in single quotes, or undefined if not needed. */
const quoteRuleName = (rest: string): { text: string; valueStart: number; doubled: ReadonlyArray<number> } | undefined => {
  const m = RULE_MARKER.exec(rest)
  if (m === null) return undefined
  const valueStart = m[0].length
  const tail = rest.slice(valueStart)
  if (tail === "" || /^['"&*!|>%@`{[]/.test(tail)) return undefined
  const cut = commentStart(tail)
  const valueWithWs = cut < 0 ? tail : tail.slice(0, cut)
  const value = valueWithWs.replace(/[ \t\r]+$/, "")
  if (!(value.includes(": ") || value.endsWith(":"))) return undefined
  const doubled: Array<number> = []
  for (let i = 0; i < value.length; i++) if (value[i] === "'") doubled.push(i)
  const quoted = `'${value.replace(/'/g, "''")}'`
  return { text: rest.slice(0, valueStart) + quoted + tail.slice(value.length), valueStart, doubled }
}

/** Applies L1–L4. Returns undefined when no line changes. */
export const legacyRewrite = (text: string): LegacyRewrite | undefined => {
  const lines = text.split("\n")
  const out: Array<string> = []
  const changed = new Map<number, RewrittenLine>()
  let inItem = false
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]
    const lead = /^[ \t]*/.exec(line)![0]
    const rest = line.slice(lead.length)
    if (rest.trim() === "" || rest.startsWith("#")) {
      out.push(line)
      continue
    }
    const rules: Array<LegacyRule> = []
    let newLead = lead
    if (lead.includes("\t")) {
      newLead = lead.replace(/\t/g, " ")
      rules.push("L1")
    }
    let newRest = rest
    let l4: ReturnType<typeof quoteRuleName>
    if (MARKER.test(rest)) {
      inItem = true
      if (newLead !== "") {
        newLead = ""
        rules.push("L2")
      }
      l4 = quoteRuleName(rest)
      if (l4 !== undefined) {
        newRest = l4.text
        rules.push("L4")
      }
    } else if (inItem) {
      const want = FIELD.test(rest) ? 2 : newLead.length < 4 ? 4 : newLead.length
      if (want !== newLead.length) {
        newLead = " ".repeat(want)
        rules.push("L3")
      }
    }
    if (rules.length === 0) {
      out.push(line)
      continue
    }
    const newLine = newLead + newRest
    out.push(newLine)
    // Column map: rewritten leading whitespace → original first non-blank; content shifts by the
    // indentation change, plus one per inserted quote character (L4).
    const map: Array<number> = []
    for (let c = 0; c <= newLine.length; c++) {
      if (c < newLead.length) {
        map.push(Math.min(c, lead.length))
        continue
      }
      let j = c - newLead.length
      if (l4 !== undefined && j >= l4.valueStart) {
        const k = j - l4.valueStart // position in the quoted value, 0 = opening quote
        let inner = k - 1
        for (const d of l4.doubled) if (d + 1 <= inner) inner--
        j = l4.valueStart + Math.max(0, inner)
      }
      map.push(Math.min(lead.length + j, line.length))
    }
    changed.set(n + 1, { line: n + 1, column: lead.length + 1, rules, columnMap: map })
  }
  return changed.size === 0 ? undefined : { text: out.join("\n"), lines: changed }
}
