/**
 * Warnings for names inside `in (…)` / `pmatch (…)` that look like list references but name no list
 * (issue 10 §5). An unknown name is a literal (policy-language.md §5.2, kept), so a misspelt or missing
 * list silently compares with its own name: `sf.proc.name in (pkg_mgmt_binaries)` (for
 * `package_mgmt_binaries`, in the reference's runtimeintegrity policies) matches nothing.
 *
 * Process names and other values contain `_` too (`unix_chkpwd`, `erl_child_setup`), so the shape alone
 * is not enough. A bare word warns when it is shaped like a Falco list name (lowercase words joined by
 * `_`: no `.`, `/`, `-`, quotes or capitals) and also
 * * names a macro (macros cannot be used inside the parentheses), or
 * * names a list defined in a later file (not visible here, §5.1), or
 * * is close to a visible list's name (a likely misspelling: the warning suggests it), or
 * * ends in a plural word that also ends a visible list's name (`passwd_binaries` where lists such as
 *   `shell_binaries` exist): list names are plural nouns by convention, values rarely. Requiring the
 *   same last word keeps process names such as `pg_lsclusters` quiet; or
 * * ends in one of the nouns Falco's own list names end in (`shell_binaries`, `sensitive_files`,
 *   `allowed_images`), even when no list is defined at all.
 */
import type { SourcePos } from "../../domain/policy/Diagnostic.js"

const LIST_LIKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/

/** Last words of Falco's list names (falcosecurity/rules), which values (process names, paths) rarely end in. */
const LIST_NOUNS = new Set([
  "_binaries", "_files", "_dirs", "_directories", "_paths", "_procs", "_processes", "_names", "_images",
  "_users", "_ports", "_commands", "_cmds", "_programs", "_containers", "_repositories", "_domains", "_ips",
  "_shells", "_syscalls", "_list"
])

export interface ListNames {
  /** Lists visible at this point. */
  readonly visible: ReadonlyMap<string, unknown>
  readonly isMacro: (name: string) => boolean
  /** Where a list of this name is defined in a file after the current one. */
  readonly later: (name: string) => SourcePos | undefined
}

/** The warning for `word` (an unquoted element that names no visible list), or undefined. */
export const undefinedListWarning = (word: string, names: ListNames): string | undefined => {
  if (!LIST_LIKE.test(word)) return undefined
  const head = `no list named '${word}'; compared as a literal`
  if (names.isMacro(word)) return `${head} ('${word}' is a macro, and macros cannot be used inside '(...)')`
  const later = names.later(word)
  if (later !== undefined) {
    return `${head} (the list '${word}' at ${later.file}:${later.line}:${later.column} is in a later file, and lists are visible only after their file)`
  }
  const near = closestNames(word, names.visible.keys())
  if (near.length > 0) return `${head} (did you mean ${near.map((n) => `'${n}'`).join(" or ")}?)`
  const last = word.slice(word.lastIndexOf("_"))
  if (LIST_NOUNS.has(last)) return head
  if (!last.endsWith("s")) return undefined
  for (const name of names.visible.keys()) if (name.endsWith(last)) return head
  return undefined
}

/** The names (at most three, nearest first) within an edit distance of a quarter of `word`'s length (at least 2). */
const closestNames = (word: string, candidates: Iterable<string>): Array<string> => {
  const limit = Math.max(2, Math.floor(word.length / 4)) + 1
  const near: Array<readonly [string, number]> = []
  for (const c of candidates) {
    const d = editDistance(word, c, limit)
    if (d < limit) near.push([c, d])
  }
  return near
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 3)
    .map(([c]) => c)
}

/** Levenshtein distance, or `limit` once it is known to be at least `limit`. */
export const editDistance = (a: string, b: string, limit: number): number => {
  if (Math.abs(a.length - b.length) >= limit) return limit
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let rowMin = i
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
      row.push(v)
      if (v < rowMin) rowMin = v
    }
    if (rowMin >= limit) return limit
    prev = row
  }
  return Math.min(prev[b.length], limit)
}
