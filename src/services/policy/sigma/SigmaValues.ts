/**
 * Sigma values and value modifiers (Sigma specification v2, modifiers appendix v2.1): what one field
 * matcher's `|modifiers` and values compile to.
 *
 * Strings: `*` matches any run of characters, `?` one character; `\*`, `\?` and `\\` are the plain
 * characters, and any other backslash is itself. Matching is case-insensitive unless `cased` (or `re`,
 * `cidr`, or an encoding modifier, whose outputs are exact byte patterns). Values of a list are ORed;
 * `all` ANDs them. Modifiers are applied in the order written; `contains`/`startswith`/`endswith` only
 * drop the anchors, so they may come before or after a transformation.
 *
 * Pure compile-time code: the returned tests are plain closures for the hot path.
 */
import { Either } from "effect"
import { goLower } from "../Predicates.js"
import type { SigmaScalar } from "./SigmaRule.js"

/** A test of one string value of a field (lowercased first by the caller unless `cased`). */
export interface StringTest {
  readonly kind: "string"
  /** Identifies the test (for sharing identical tests across rules). */
  readonly key: string
  readonly cased: boolean
  readonly test: (value: string) => boolean
}

/** `lt`/`lte`/`gt`/`gte`: the field's value read as an integer. */
export interface NumberTest {
  readonly kind: "number"
  readonly key: string
  readonly test: (value: number) => boolean
}

/** `fieldref`: the value compared with another field of the same record. */
export interface FieldRefTest {
  readonly kind: "fieldref"
  readonly field: string
  readonly op: "eq" | "contains" | "startswith" | "endswith"
  readonly cased: boolean
}

export type ValueTest = StringTest | NumberTest | FieldRefTest

/** What a field matcher compiles to. */
export type FieldSpec =
  | {
      readonly kind: "values"
      /** Per value written: its alternatives (ORed; several after `base64offset`, `windash`, `expand`). */
      readonly values: ReadonlyArray<ReadonlyArray<ValueTest>>
      /** `all`: every value must match (else any). */
      readonly all: boolean
      /** `neq`: the field differs from every value. */
      readonly negate: boolean
    }
  /** `Field: null`: the field is empty or absent. */
  | { readonly kind: "null" }
  /** `Field|exists: true|false`. */
  | { readonly kind: "exists"; readonly exists: boolean }

/** Why a matcher cannot compile: `unsupported` when SysFlow cannot support it, else the rule is wrong. */
export interface ValueError {
  readonly message: string
  /** The modifier at fault, when there is one. */
  readonly modifier?: string
  /** Index of the value at fault, when there is one. */
  readonly valueIndex?: number
  readonly unsupported: boolean
}

export interface ValueOptions {
  /** `expand` placeholders: name (without `%`) → values. */
  readonly placeholders: ReadonlyMap<string, ReadonlyArray<string>>
  /**
   * Implicit position of values without `contains`/`startswith`/`endswith` (keyword searches are
   * substring searches of the whole record).
   */
  readonly implicitContains?: boolean
}

// ---------------------------------------------------------------------------------------------------
// Sigma strings: literal runs and wildcards

const STAR = 0
const QMARK = 1
type Tok = string | typeof STAR | typeof QMARK

/** Parses wildcards and their escapes (specification: "Escaping"). */
export const parseSigmaString = (s: string): ReadonlyArray<Tok> => {
  const out: Array<Tok> = []
  let lit = ""
  const flush = () => {
    if (lit !== "") out.push(lit)
    lit = ""
  }
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === "\\") {
      const n = s[i + 1]
      if (n === "*" || n === "?" || n === "\\") {
        lit += n
        i++
      } else lit += c
    } else if (c === "*") {
      flush()
      out.push(STAR)
    } else if (c === "?") {
      flush()
      out.push(QMARK)
    } else lit += c
  }
  flush()
  return out
}

const literalOf = (toks: ReadonlyArray<Tok>): string | undefined => {
  let s = ""
  for (const t of toks) {
    if (typeof t !== "string") return undefined
    s += t
  }
  return s
}

// ---------------------------------------------------------------------------------------------------
// Modifiers

const TIME_MODIFIERS = new Set(["minute", "hour", "day", "week", "month", "year"])
const ENCODINGS = new Set(["base64", "base64offset", "utf16le", "utf16be", "utf16", "wide"])
const POSITIONS = new Set(["contains", "startswith", "endswith"])
const TYPES = new Set(["re", "cidr", "lt", "lte", "gt", "gte", "exists", "fieldref"])
const RE_FLAGS = new Set(["i", "m", "s"])

/** The modifiers understood (for messages). */
export const KNOWN_MODIFIERS: ReadonlyArray<string> = [
  ...POSITIONS, "all", "cased", "neq", "windash", "expand", ...ENCODINGS, ...TYPES, "i", "m", "s"
]

/** `\B[-/]\b` positions (pySigma's windash): a dash or slash starting a word, e.g. `-enc`, `/c`. */
const WINDASH_CHARS = ["-", "/", "\u2013", "\u2014", "\u2015"]
const WINDASH_POSITION = /(?<![\w])[-/\u2013\u2014\u2015](?=\w)/g
/** At most this many dash positions in one value (5^n alternatives). */
const MAX_WINDASH_POSITIONS = 4

const windash = (s: string): Array<string> => {
  const positions = Array.from(s.matchAll(WINDASH_POSITION), (m) => m.index)
  if (positions.length > MAX_WINDASH_POSITIONS) return []
  let out = [s]
  for (const p of positions) out = out.flatMap((v) => WINDASH_CHARS.map((c) => v.slice(0, p) + c + v.slice(p + 1)))
  return Array.from(new Set(out))
}

/** pySigma's three base64 variants of a value at byte offsets 0, 1 and 2 of an encoded string. */
const base64Offsets = (bytes: Buffer): Array<string> => {
  const starts = [0, 2, 3]
  const ends = [undefined, -3, -2]
  return [0, 1, 2].map((i) => {
    const enc = Buffer.concat([Buffer.alloc(i, 0x20), bytes]).toString("base64")
    return enc.slice(starts[i], ends[(bytes.length + i) % 3])
  })
}

/** A value under transformation: alternatives of token lists, and whether they are raw bytes (latin1). */
interface Working {
  alts: Array<ReadonlyArray<Tok>>
  binary: boolean
}

const bytesOf = (s: string, binary: boolean): Buffer => Buffer.from(s, binary ? "latin1" : "utf8")

const PLACEHOLDER = /%([A-Za-z0-9_.-]+)%/g

const parseIPv4 = (s: string): number | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (m === null) return undefined
  const parts = m.slice(1).map(Number)
  if (parts.some((p) => p > 255)) return undefined
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0
}

/** A CIDR test over dotted quads. IPv6 ranges never match: SysFlow network flows are IPv4. */
const cidrTest = (v: string): ((ip: string) => boolean) | undefined => {
  const slash = v.indexOf("/")
  const addr = slash < 0 ? v : v.slice(0, slash)
  const bitsText = slash < 0 ? undefined : v.slice(slash + 1)
  if (addr.includes(":")) {
    const bits = bitsText === undefined ? 128 : Number(bitsText)
    if (!/^[0-9a-fA-F:.]+$/.test(addr) || !Number.isInteger(bits) || bits < 0 || bits > 128) return undefined
    return () => false
  }
  const net = parseIPv4(addr)
  const bits = bitsText === undefined ? 32 : Number(bitsText)
  if (net === undefined || bitsText === "" || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  const want = (net & mask) >>> 0
  return (ip) => {
    const n = parseIPv4(ip)
    return n !== undefined && ((n & mask) >>> 0) === want
  }
}

/**
 * Compiles `Field|modifiers: values`. `isNull` values are only allowed alone and without modifiers.
 */
export const compileFieldValues = (
  modifiers: ReadonlyArray<string>,
  values: ReadonlyArray<SigmaScalar>,
  options: ValueOptions
): Either.Either<FieldSpec, ValueError> => {
  const fail = (message: string, extra: Partial<ValueError> = {}) => Either.left<ValueError>({ message, unsupported: false, ...extra })
  let position: "eq" | "contains" | "startswith" | "endswith" = options.implicitContains === true ? "contains" : "eq"
  let all = false
  let cased = false
  let negate = false
  let type: string | undefined
  const reFlags = new Set<string>()
  const steps: Array<string> = []
  for (const m of modifiers) {
    if (m === "") return fail("empty modifier ('||' or a trailing '|')")
    if (TIME_MODIFIERS.has(m)) {
      return Either.left({ message: `modifier '${m}' is not supported: SysFlow fields carry no dates`, modifier: m, unsupported: true })
    }
    if (POSITIONS.has(m)) position = m as typeof position
    else if (m === "all") all = true
    else if (m === "cased") cased = true
    else if (m === "neq") negate = true
    else if (ENCODINGS.has(m) || m === "windash" || m === "expand") steps.push(m)
    else if (TYPES.has(m)) {
      if (type !== undefined) return fail(`modifier '${m}' cannot be combined with '${type}'`, { modifier: m })
      type = m
    } else if (RE_FLAGS.has(m) && type === "re") reFlags.add(m)
    else return fail(`unknown modifier '${m}' (known: ${KNOWN_MODIFIERS.join(", ")})`, { modifier: m })
  }
  if (type !== undefined && steps.length > 0) return fail(`modifier '${steps[0]}' cannot be combined with '${type}'`, { modifier: steps[0] })
  if (type !== undefined && type !== "fieldref" && position !== "eq" && options.implicitContains !== true) {
    return fail(`modifier '${position}' cannot be combined with '${type}'`, { modifier: position })
  }
  if (values.length === 0) return Either.right({ kind: "values", values: [], all, negate })

  if (values.some((v) => v === null)) {
    if (values.length > 1 || modifiers.length > 0) return fail("'null' must be the only value, without modifiers")
    return Either.right({ kind: "null" })
  }

  if (type === "exists") {
    if (values.length !== 1 || typeof values[0] !== "boolean") return fail("'exists' takes one value, true or false", { modifier: "exists" })
    return Either.right({ kind: "exists", exists: values[0] })
  }

  const out: Array<Array<ValueTest>> = []
  for (let vi = 0; vi < values.length; vi++) {
    const raw = values[vi]
    const text = typeof raw === "string" ? raw : String(raw)
    const at = { valueIndex: vi }
    if (type === "lt" || type === "lte" || type === "gt" || type === "gte") {
      const n = typeof raw === "number" ? raw : /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : NaN
      if (!Number.isFinite(n)) return fail(`'${type}' needs a number, got '${text}'`, { modifier: type, ...at })
      const test = type === "lt" ? (x: number) => x < n : type === "lte" ? (x: number) => x <= n : type === "gt" ? (x: number) => x > n : (x: number) => x >= n
      out.push([{ kind: "number", key: `${type}${n}`, test }])
      continue
    }
    if (type === "cidr") {
      const test = cidrTest(text)
      if (test === undefined) return fail(`'${text}' is not a CIDR range`, { modifier: "cidr", ...at })
      out.push([{ kind: "string", key: `cidr${text}`, cased: true, test }])
      continue
    }
    if (type === "re") {
      if (typeof raw !== "string") return fail("'re' needs a string", { modifier: "re", ...at })
      let pattern = raw
      const flags = new Set(reFlags)
      // PCRE inline flags at the start, which JavaScript does not accept: `(?i)`, `(?s)`, `(?im)`.
      const inline = /^\(\?([ims]+)\)/.exec(pattern)
      if (inline !== null) {
        for (const f of inline[1]) flags.add(f)
        pattern = pattern.slice(inline[0].length)
      }
      let re: RegExp
      try {
        re = new RegExp(pattern, Array.from(flags).sort().join(""))
      } catch (e) {
        return fail(`invalid regular expression: ${(e as Error).message}`, { modifier: "re", ...at })
      }
      out.push([{ kind: "string", key: `re/${re.source}/${re.flags}`, cased: true, test: (v) => re.test(v) }])
      continue
    }
    if (type === "fieldref") {
      if (typeof raw !== "string" || raw === "") return fail("'fieldref' needs a field name", { modifier: "fieldref", ...at })
      out.push([{ kind: "fieldref", field: raw, op: position, cased }])
      continue
    }

    // A plain, wildcard or transformed string.
    const w: Working = { alts: [typeof raw === "string" ? parseSigmaString(raw) : [text]], binary: false }
    let encoded = false
    for (const step of steps) {
      if (step === "expand") {
        const next: Array<ReadonlyArray<Tok>> = []
        for (const alt of w.alts) {
          const lit = literalOf(alt)
          const src = lit ?? text
          const names = Array.from(src.matchAll(PLACEHOLDER), (m) => m[1])
          let variants = [src]
          for (const name of names) {
            const vals = options.placeholders.get(name)
            if (vals === undefined) {
              return fail(`placeholder '%${name}%' has no values: define it under 'placeholders' in the Sigma config`, {
                modifier: "expand",
                ...at
              })
            }
            variants = variants.flatMap((v) => vals.map((x) => v.replace(`%${name}%`, x)))
          }
          for (const v of variants) next.push(parseSigmaString(v))
        }
        w.alts = next
        continue
      }
      const lits: Array<string> = []
      for (const alt of w.alts) {
        const lit = literalOf(alt)
        if (lit === undefined) return fail(`modifier '${step}' cannot transform a value with wildcards`, { modifier: step, ...at })
        lits.push(lit)
      }
      switch (step) {
        case "windash": {
          const next = lits.flatMap(windash)
          if (next.length === 0) {
            return fail(`'windash' value has more than ${MAX_WINDASH_POSITIONS} dashes to vary`, { modifier: step, ...at })
          }
          w.alts = next.map((s) => [s])
          break
        }
        case "base64":
          w.alts = lits.map((s) => [bytesOf(s, w.binary).toString("base64")])
          w.binary = false
          encoded = true
          break
        case "base64offset":
          w.alts = lits.flatMap((s) => base64Offsets(bytesOf(s, w.binary)).map((x) => [x]))
          w.binary = false
          encoded = true
          break
        case "utf16le":
        case "wide":
          w.alts = lits.map((s) => [Buffer.from(s, "utf16le").toString("latin1")])
          w.binary = true
          encoded = true
          break
        case "utf16be":
          w.alts = lits.map((s) => [Buffer.from(s, "utf16le").swap16().toString("latin1")])
          w.binary = true
          encoded = true
          break
        case "utf16":
          w.alts = lits.map((s) => ["\xff\xfe" + Buffer.from(s, "utf16le").toString("latin1")])
          w.binary = true
          encoded = true
          break
      }
    }
    const exact = cased || encoded
    out.push(w.alts.map((alt) => stringTest(alt, position, exact)))
  }
  return Either.right({ kind: "values", values: out, all, negate })
}

/**
 * Wildcard matching without regular expressions: the greedy algorithm that backtracks only to the last
 * `*` (O(value × pattern) at worst; a regular expression with several `.*` can backtrack polynomially on
 * a long command line). `?` matches one UTF-16 unit.
 */
const globMatch = (p: ReadonlyArray<string | typeof STAR | typeof QMARK>, s: string): boolean => {
  let i = 0
  let j = 0
  let star = -1
  let mark = 0
  while (i < s.length) {
    const t = j < p.length ? p[j] : undefined
    if (t === QMARK || (typeof t === "string" && t === s[i])) {
      i++
      j++
    } else if (t === STAR) {
      star = j++
      mark = i
    } else if (star >= 0) {
      j = star + 1
      i = ++mark
    } else return false
  }
  while (j < p.length && p[j] === STAR) j++
  return j === p.length
}

/** A matcher for one alternative: a fast path without wildcards, else wildcard matching. */
const stringTest = (toks: ReadonlyArray<Tok>, position: "eq" | "contains" | "startswith" | "endswith", cased: boolean): StringTest => {
  const fold = (s: string) => (cased ? s : goLower(s))
  const lit = literalOf(toks)
  if (lit !== undefined) {
    const l = fold(lit)
    const key = `${position}${cased ? "C" : "i"}${JSON.stringify(l)}`
    switch (position) {
      case "eq":
        return { kind: "string", key, cased, test: (v) => v === l }
      case "contains":
        return { kind: "string", key, cased, test: l === "" ? () => true : (v) => v.includes(l) }
      case "startswith":
        return { kind: "string", key, cased, test: (v) => v.startsWith(l) }
      case "endswith":
        return { kind: "string", key, cased, test: (v) => v.endsWith(l) }
    }
  }
  // One pattern item per character (literal runs split), with `*` around it as the position requires.
  const items: Array<string | typeof STAR | typeof QMARK> = []
  if (position === "contains" || position === "endswith") items.push(STAR)
  for (const t of toks) {
    if (typeof t === "string") {
      const f = fold(t)
      for (let k = 0; k < f.length; k++) items.push(f[k])
    }
    else if (t !== STAR || items[items.length - 1] !== STAR) items.push(t)
  }
  if ((position === "contains" || position === "startswith") && items[items.length - 1] !== STAR) items.push(STAR)
  const key = `glob${cased ? "C" : "i"}${JSON.stringify(items.map((x) => (x === STAR ? "\u0000*" : x === QMARK ? "\u0000?" : x)).join(""))}`
  return { kind: "string", key, cased, test: (v) => globMatch(items, v) }
}
