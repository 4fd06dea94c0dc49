/**
 * Falco's operators and field transformers beyond the reference's set (libs filter grammar): `glob` /
 * `iglob` (fnmatch: `*`, `?`, `[…]`, `[!…]`, `\x`; `*` also crosses `/`), `regex` (a full match, as libs'
 * RE2::FullMatch; JavaScript syntax, which reads RE2's common subset alike), `bcontains` / `bstartswith`
 * (hex bytes against the value's UTF-8 bytes), and the transformers `tolower`, `toupper`, `b64`
 * (base64-decode), `basename`, `len`. Plain functions: built once at compile time, run per record.
 */
import type { Transformer } from "../../domain/policy/PolicyAst.js"

/** A test on one string value, built from the operator's literal; or the reason the literal is wrong. */
export type ValueTest = ((v: string) => boolean) | { readonly problem: string }

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")

/** An fnmatch pattern (no FNM_PATHNAME) as an anchored regular expression. */
export const globToRegExp = (pattern: string, ignoreCase: boolean): RegExp => {
  let out = ""
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === "*") out += ".*"
    else if (c === "?") out += "."
    else if (c === "\\" && i + 1 < pattern.length) out += escapeRegExp(pattern[++i])
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2)
      if (end < 0) out += "\\["
      else {
        let body = pattern.slice(i + 1, end)
        const negate = body.startsWith("!") || body.startsWith("^")
        if (negate) body = body.slice(1)
        out += `[${negate ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`
        i = end
      }
    } else out += escapeRegExp(c)
  }
  return new RegExp(`^${out}$`, ignoreCase ? "is" : "s")
}

const hexBytes = (hex: string): string | undefined =>
  hex.length % 2 === 0 && /^[0-9A-Fa-f]*$/.test(hex) ? Buffer.from(hex, "hex").toString("latin1") : undefined

/** The test `value <op> literal` for Falco's pattern and byte operators. */
export const valueTest = (op: "glob" | "iglob" | "regex" | "bcontains" | "bstartswith", literal: string): ValueTest => {
  switch (op) {
    case "glob":
    case "iglob": {
      const re = globToRegExp(literal, op === "iglob")
      return (v) => re.test(v)
    }
    case "regex": {
      try {
        const re = new RegExp(`^(?:${literal})$`, "s")
        return (v) => re.test(v)
      } catch (e) {
        return { problem: `invalid regular expression '${literal}': ${(e as Error).message}` }
      }
    }
    case "bcontains":
    case "bstartswith": {
      const bytes = hexBytes(literal)
      if (bytes === undefined) return { problem: `'${literal}' is not a hex byte string (an even number of hex digits): '${op}' compares bytes` }
      const latin1 = (v: string) => Buffer.from(v, "utf8").toString("latin1")
      return op === "bcontains" ? (v) => latin1(v).includes(bytes) : (v) => latin1(v).startsWith(bytes)
    }
  }
}

/** A field transformer on a value's string rendering (`len` gives the decimal length). */
export const transform = (t: Transformer, multiValued: boolean): ((v: string) => string) => {
  switch (t) {
    case "tolower":
      return (v) => v.toLowerCase()
    case "toupper":
      return (v) => v.toUpperCase()
    case "b64":
      return (v) => Buffer.from(v, "base64").toString("utf8")
    case "basename":
      return (v) => v.slice(v.lastIndexOf("/") + 1)
    case "len":
      // A list's length is its element count; a string's, its byte count (as libs).
      return multiValued ? (v) => String(v === "" ? 0 : v.split(",").length) : (v) => String(Buffer.byteLength(v, "utf8"))
  }
}
