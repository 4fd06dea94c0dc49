/**
 * The subset of gjson (tidwall/gjson) that `attr[path]` operands need (policy-language.md §6.2, §11):
 * dotted keys (`\.` escapes a dot, `*` and `?` are key wildcards), numeric array indexes, and `#` (the
 * length of an array, or with more path after it, the results for every element as a JSON array).
 *
 * Rendering follows gjson `Result.String()`: strings unescaped, numbers and `true`/`false` as their JSON
 * text, objects and arrays as their raw JSON text, `null` and missing values as `""`. The lookup works on
 * the raw text (no `JSON.parse` of the document), so raw renderings keep their source spelling.
 */

type Span = readonly [start: number, end: number]

const isWs = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d

const skipWs = (s: string, i: number): number => {
  while (i < s.length && isWs(s.charCodeAt(i))) i++
  return i
}

/** End of the JSON string starting at `i` (`s[i]` is `"`), or -1. */
const stringEnd = (s: string, i: number): number => {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j)
    if (c === 0x5c) j++
    else if (c === 0x22) return j + 1
  }
  return -1
}

/** End of the JSON value starting at `i` (no leading whitespace), or -1. */
const valueEnd = (s: string, i: number): number => {
  if (i >= s.length) return -1
  const c = s.charCodeAt(i)
  if (c === 0x22) return stringEnd(s, i)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j)
      if (d === 0x22) {
        j = stringEnd(s, j) - 1
        if (j < 0) return -1
      } else if (d === 0x7b || d === 0x5b) depth++
      else if (d === 0x7d || d === 0x5d) {
        depth--
        if (depth === 0) return j + 1
      }
    }
    return -1
  }
  let j = i
  while (j < s.length) {
    const d = s.charCodeAt(j)
    if (d === 0x2c || d === 0x7d || d === 0x5d || isWs(d)) break
    j++
  }
  return j > i ? j : -1
}

const unescapeString = (raw: string): string => {
  if (raw.indexOf("\\") < 0) return raw.slice(1, -1)
  try {
    return JSON.parse(raw) as string
  } catch {
    return raw.slice(1, -1)
  }
}

/** Members of the object at `span` as (key, value span) pairs; undefined if malformed. */
const members = (s: string, start: number): Array<readonly [string, Span]> | undefined => {
  const out: Array<readonly [string, Span]> = []
  let i = skipWs(s, start + 1)
  if (s.charCodeAt(i) === 0x7d) return out
  for (;;) {
    if (s.charCodeAt(i) !== 0x22) return undefined
    const ke = stringEnd(s, i)
    if (ke < 0) return undefined
    const key = unescapeString(s.slice(i, ke))
    i = skipWs(s, ke)
    if (s.charCodeAt(i) !== 0x3a) return undefined
    i = skipWs(s, i + 1)
    const ve = valueEnd(s, i)
    if (ve < 0) return undefined
    out.push([key, [i, ve]])
    i = skipWs(s, ve)
    const c = s.charCodeAt(i)
    if (c === 0x7d) return out
    if (c !== 0x2c) return undefined
    i = skipWs(s, i + 1)
  }
}

/** Elements of the array starting at `start`; undefined if malformed. */
const elements = (s: string, start: number): Array<Span> | undefined => {
  const out: Array<Span> = []
  let i = skipWs(s, start + 1)
  if (s.charCodeAt(i) === 0x5d) return out
  for (;;) {
    const ve = valueEnd(s, i)
    if (ve < 0) return undefined
    out.push([i, ve])
    i = skipWs(s, ve)
    const c = s.charCodeAt(i)
    if (c === 0x5d) return out
    if (c !== 0x2c) return undefined
    i = skipWs(s, i + 1)
  }
}

/** Splits a gjson path on unescaped dots. */
const components = (path: string): Array<string> => {
  const out: Array<string> = []
  let cur = ""
  for (let i = 0; i < path.length; i++) {
    const c = path[i]
    if (c === "\\" && i + 1 < path.length) cur += path[++i]
    else if (c === ".") {
      out.push(cur)
      cur = ""
    } else cur += c
  }
  out.push(cur)
  return out
}

/**
 * gjson's `*` (any run) and `?` (any one character) in a key, matched without backtracking blow-up
 * (a regular expression with several `*` took minutes on a long key: security review S5): on a
 * mismatch only the last `*` is widened, so the cost is at most pattern length × key length.
 */
export const wildcardMatch = (pattern: string, key: string): boolean => {
  if (pattern.indexOf("*") < 0 && pattern.indexOf("?") < 0) return pattern === key
  let p = 0
  let k = 0
  let star = -1
  let mark = 0
  while (k < key.length) {
    if (p < pattern.length && (pattern[p] === "?" || (pattern[p] !== "*" && pattern[p] === key[k]))) {
      p++
      k++
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++
      mark = k
    } else if (star >= 0) {
      p = star + 1
      k = ++mark
    } else return false
  }
  while (p < pattern.length && pattern[p] === "*") p++
  return p === pattern.length
}

/** The raw span of `parts` (from `k`) inside the value at `span`, or a synthesized raw text for `#`. */
const lookup = (s: string, span: Span, parts: ReadonlyArray<string>, k: number): string | Span | undefined => {
  if (k === parts.length) return span
  const part = parts[k]
  const c = s.charCodeAt(span[0])
  if (c === 0x7b) {
    const ms = members(s, span[0])
    const m = ms?.find(([key]) => wildcardMatch(part, key))
    return m === undefined ? undefined : lookup(s, m[1], parts, k + 1)
  }
  if (c === 0x5b) {
    const es = elements(s, span[0])
    if (es === undefined) return undefined
    if (part === "#") {
      if (k + 1 === parts.length) return String(es.length)
      const results: Array<string> = []
      for (const e of es) {
        const r = lookup(s, e, parts, k + 1)
        if (r !== undefined) results.push(typeof r === "string" ? r : s.slice(r[0], r[1]))
      }
      return `[${results.join(",")}]`
    }
    if (!/^[0-9]+$/.test(part)) return undefined
    const idx = Number(part)
    return idx < es.length ? lookup(s, es[idx], parts, k + 1) : undefined
  }
  return undefined
}

/** gjson `Get(json, path).String()` for the supported subset. */
export const gjsonGet = (json: string, path: string): string => {
  const start = skipWs(json, 0)
  const end = valueEnd(json, start)
  if (end < 0) return ""
  const r = lookup(json, [start, end], components(path), 0)
  if (r === undefined) return ""
  if (typeof r === "string") return r
  const raw = json.slice(r[0], r[1])
  const c = raw.charCodeAt(0)
  if (c === 0x22) return unescapeString(raw)
  return raw === "null" ? "" : raw
}
