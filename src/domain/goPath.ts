/**
 * Go path semantics the outputs depend on (data-model §3.5, policy-language §11): `filepath.Base`,
 * `filepath.Dir` (which cleans), `filepath.Clean`, and the sysdig socket-path form parsed with
 * `fmt.Sscanf(path, "%x->%x %s")` (data-model §4.4). Unix separators only.
 */

/** Go `filepath.Base`: last element; `"."` for `""`, `"/"` for a path of slashes. */
export const base = (path: string): string => {
  if (path === "") return "."
  let end = path.length
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--
  if (end === 0) return "/"
  const start = path.lastIndexOf("/", end - 1) + 1
  return start === 0 && end === path.length ? path : path.slice(start, end)
}

/**
 * Whether Clean would return the path unchanged (checked without building anything: nearly every path
 * in a trace is clean already). Conservative: `..` elements always take the full algorithm.
 */
const isClean = (path: string): boolean => {
  const n = path.length
  if (n === 0) return false
  if (n === 1) return path.charCodeAt(0) !== 0x2e // "/" or a one-character name
  if (path.charCodeAt(n - 1) === 0x2f) return false
  let start = path.charCodeAt(0) === 0x2f ? 1 : 0
  for (let i = start; i <= n; i++) {
    if (i === n || path.charCodeAt(i) === 0x2f) {
      const len = i - start
      if (len === 0) return false // "//"
      if (path.charCodeAt(start) === 0x2e && (len === 1 || (len === 2 && path.charCodeAt(start + 1) === 0x2e))) return false
      start = i + 1
    }
  }
  return true
}

/** Go `filepath.Clean`: lexical `.`/`..`/`//` processing; `"."` for `""`. */
export const clean = (path: string): string => (isClean(path) ? path : cleanSlow(path))

const cleanSlow = (path: string): string => {
  if (path === "") return "."
  const rooted = path.charCodeAt(0) === 0x2f
  const n = path.length
  let out = rooted ? "/" : ""
  // `dotdot` = length of the prefix of `out` that `..` may not remove.
  let dotdot = rooted ? 1 : 0
  let r = rooted ? 1 : 0
  while (r < n) {
    const c = path.charCodeAt(r)
    if (c === 0x2f) {
      r++
    } else if (c === 0x2e && (r + 1 === n || path.charCodeAt(r + 1) === 0x2f)) {
      r++
    } else if (
      c === 0x2e &&
      path.charCodeAt(r + 1) === 0x2e &&
      (r + 2 === n || path.charCodeAt(r + 2) === 0x2f)
    ) {
      r += 2
      if (out.length > dotdot) {
        let w = out.length - 1
        while (w > dotdot && out.charCodeAt(w) !== 0x2f) w--
        out = out.slice(0, w)
      } else if (!rooted) {
        out += out.length > 0 ? "/.." : ".."
        dotdot = out.length
      }
    } else {
      if ((rooted && out.length !== 1) || (!rooted && out.length !== 0)) out += "/"
      let e = path.indexOf("/", r)
      if (e < 0) e = n
      out += path.slice(r, e)
      r = e
    }
  }
  return out === "" ? "." : out
}

/**
 * Go `filepath.Dir`: everything before the last element, cleaned; `"."` for `""` and `"./x"`. (Cleaning
 * drops the prefix's trailing slash, so the prefix is cleaned without it.)
 */
export const dir = (path: string): string => {
  const i = path.lastIndexOf("/")
  return i < 0 ? "." : i === 0 ? "/" : clean(path.slice(0, i))
}

/** A file path split into its path and the `src->dst` socket-pair prefix (`""` for ordinary paths). */
export interface SymPath {
  readonly path: string
  readonly symlink: string
}

/**
 * Go's notion of white space: `unicode.IsSpace` (used by `strings.TrimSpace`) and fmt's scanner table are
 * the same set (U+0085 is a space, U+FEFF is not); the scanner special-cases newline itself.
 */
export const isSpace = (c: number): boolean =>
  (c >= 0x09 && c <= 0x0d) ||
  c === 0x20 ||
  c === 0x85 ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000

const isHex = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)

const maxU64 = (1n << 64n) - 1n

/** Scanner state over one string; each step returns the new index or -1 when Sscanf would fail. */
const skipSpace = (s: string, i: number): number => {
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c === 0x0a) return -1 // Sscanf: "unexpected newline"
    if (!isSpace(c)) break
    i++
  }
  return i
}

/** `%x` into a uint64: leading spaces, then at least one hex digit; overflow fails. */
const scanHex = (s: string, i: number): readonly [number, bigint] | undefined => {
  i = skipSpace(s, i)
  if (i < 0) return undefined
  const start = i
  while (i < s.length && isHex(s.charCodeAt(i))) i++
  if (i === start) return undefined
  const v = BigInt("0x" + s.slice(start, i))
  return v > maxU64 ? undefined : [i, v]
}

/**
 * `fmt.Sscanf(raw, "%x->%x %s", &src, &dst, &path)`: on success the path is the `%s` token and the
 * symlink is `%x->%x` re-rendered (lowercase, no leading zeros); otherwise the raw path, no symlink.
 */
export const parseSymPath = (raw: string): SymPath => {
  const fail = { path: raw, symlink: "" }
  // Cheap reject: every match contains "->".
  if (raw.indexOf("->") < 0) return fail
  const a = scanHex(raw, 0)
  if (a === undefined) return fail
  let i = a[0]
  if (raw.charCodeAt(i) !== 0x2d || raw.charCodeAt(i + 1) !== 0x3e) return fail
  const b = scanHex(raw, i + 2)
  if (b === undefined) return fail
  i = b[0]
  // A lone format space needs one or more input spaces (not a newline) or the end of input.
  if (i < raw.length) {
    const c = raw.charCodeAt(i)
    if (!isSpace(c) || c === 0x0a) return fail
    while (i < raw.length && isSpace(raw.charCodeAt(i)) && raw.charCodeAt(i) !== 0x0a) i++
  }
  // `%s`: skip spaces, then a non-empty run of non-spaces.
  i = skipSpace(raw, i)
  if (i < 0 || i >= raw.length) return fail
  let e = i
  while (e < raw.length && !isSpace(raw.charCodeAt(e))) e++
  return { path: raw.slice(i, e), symlink: `${a[1].toString(16)}->${b[1].toString(16)}` }
}
