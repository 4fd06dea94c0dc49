/**
 * Run-time building blocks of compiled conditions (policy-language.md §6): the per-record attribute
 * memo, the comma-split string comparison core (Q1, Q4), Go-compatible lowercasing for `icontains`, and
 * Go `ParseInt` for relational coercion (Q8). Plain functions, no Effect: this is the hot path.
 */
import type { FlatRecord } from "../../domain/flatRecord.js"
import type { EntityScope } from "./EntityScope.js"

/** A compiled condition. */
export type Pred = (r: FlatRecord) => boolean

export const alwaysTrue: Pred = () => true
export const alwaysFalse: Pred = () => false

/**
 * One slot per distinct operand (attribute, or attribute with `[path]`) of a policy set. Each slot's
 * MapStr string, its lowercase form and its comma-split segments are computed at most once per record,
 * however many rules use them. The memo resets itself when it sees a different record object.
 */
export class RecordMemo {
  /** The record the memo currently holds values for. */
  rec: FlatRecord | undefined = undefined
  /** Generation of `rec`: a stamp equal to `gen` means "computed for this record". */
  gen = 1
  private readonly getters: Array<(r: FlatRecord) => string> = []
  private readonly strStamp: Array<number> = []
  private readonly strVal: Array<string> = []
  private readonly lowStamp: Array<number> = []
  private readonly lowVal: Array<string> = []
  private readonly segStamp: Array<number> = []
  private readonly segVal: Array<ReadonlyArray<string>> = []
  private readonly scopes: Array<EntityScope> = []
  private readonly slots = new Map<unknown, number>()

  /**
   * The slot for `key` (an attribute's MapStr function, so aliases share a slot, or an operand's text),
   * registering `getter` the first time. `scope`: what the value depends on (EntityScope.ts).
   */
  slot(key: unknown, getter: (r: FlatRecord) => string, scope: EntityScope = "record"): number {
    let s = this.slots.get(key)
    if (s === undefined) {
      s = this.getters.length
      this.slots.set(key, s)
      this.getters.push(getter)
      this.scopes.push(scope)
      this.strStamp.push(0)
      this.strVal.push("")
      this.lowStamp.push(0)
      this.lowVal.push("")
      this.segStamp.push(0)
      this.segVal.push(noSegments)
    }
    return s
  }

  /** Starts a new record: every memoised value is stale. */
  begin(r: FlatRecord): void {
    this.rec = r
    this.gen++
  }

  /** What slot `s` depends on. */
  scopeOf(s: number): EntityScope {
    return this.scopes[s]
  }

  /** The string function of slot `s`. */
  getter(s: number): (r: FlatRecord) => string {
    return this.getters[s]
  }

  get slotCount(): number {
    return this.getters.length
  }

  /** MapStr of slot `s` for `r`. */
  str(s: number, r: FlatRecord): string {
    if (r !== this.rec) this.begin(r)
    if (this.strStamp[s] === this.gen) return this.strVal[s]
    const v = this.getters[s](r)
    this.strVal[s] = v
    this.strStamp[s] = this.gen
    return v
  }

  /** `goLower(str(s, r))`. */
  lower(s: number, r: FlatRecord): string {
    const v = this.str(s, r)
    if (this.lowStamp[s] === this.gen) return this.lowVal[s]
    const l = goLower(v)
    this.lowVal[s] = l
    this.lowStamp[s] = this.gen
    return l
  }

  /** `str(s, r).split(",")`. */
  segments(s: number, r: FlatRecord): ReadonlyArray<string> {
    const v = this.str(s, r)
    if (this.segStamp[s] === this.gen) return this.segVal[s]
    const parts = splitCommas(v)
    this.segVal[s] = parts
    this.segStamp[s] = this.gen
    return parts
  }
}

// Multi-valued attributes repeat the same few strings (`OPEN,READ,CLOSE`, ancestry lists): their splits
// are shared, which saves the allocation and gives segments whose hashes are already computed.
const SPLIT_CACHE_SIZE = 4096
const splitCache = new Map<string, ReadonlyArray<string>>()

/** `v.split(",")`, cached (the result is shared: never mutate it). */
export const splitCommas = (v: string): ReadonlyArray<string> => {
  let parts = splitCache.get(v)
  if (parts === undefined) {
    if (splitCache.size >= SPLIT_CACHE_SIZE) splitCache.clear()
    parts = Object.freeze(v.split(","))
    splitCache.set(v, parts)
  }
  return parts
}

const noSegments: ReadonlyArray<string> = [""]

// ---------------------------------------------------------------------------------------------------
// Strings

// Characters whose JavaScript lowercasing differs from Go's `unicode.ToLower` (U+0130 gives two code
// points in JS; capital sigma is context-sensitive in JS).
const GO_LOWER_SPECIAL = /[\u0130\u03a3]/

/** Go `strings.ToLower`: per code point, no context (§6.4 `icontains`). */
export const goLower = (s: string): string => {
  if (!GO_LOWER_SPECIAL.test(s)) return s.toLowerCase()
  let out = ""
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    out += cp === 0x130 ? "i" : cp === 0x3a3 ? "\u03c3" : ch.toLowerCase()
  }
  return out
}

export type StrOp = "=" | "contains" | "icontains" | "startswith" | "endswith"

const pairOp = (l: string, r: string, op: StrOp): boolean => {
  switch (op) {
    case "=":
      return l === r
    case "contains":
      return l.includes(r)
    case "icontains":
      return goLower(l).includes(goLower(r))
    case "startswith":
      return l.startsWith(r)
    case "endswith":
      return l.endsWith(r)
  }
}

/**
 * `compareStr(L, R, op)` (§6.4): both sides split on `,`; true if any pair satisfies `op`.
 * `!=` is `!compareStr(L, R, "=")` (Q4).
 */
export const compareStr = (l: string, r: string, op: StrOp): boolean => {
  if (l.indexOf(",") < 0 && r.indexOf(",") < 0) return pairOp(l, r, op)
  const ls = l.split(",")
  const rs = r.split(",")
  for (let i = 0; i < ls.length; i++) for (let j = 0; j < rs.length; j++) if (pairOp(ls[i], rs[j], op)) return true
  return false
}

/**
 * True if some comma-separated segment of `l` equals the comma-free `r`; `rc`, `cr`, `crc` are
 * `r + ","`, `"," + r`, `"," + r + ","` (precomputed by the caller).
 */
export const hasSegment = (l: string, r: string, rc: string, cr: string, crc: string): boolean =>
  l === r || (l.length > r.length && (l.startsWith(rc) || l.endsWith(cr) || l.includes(crc)))

// ---------------------------------------------------------------------------------------------------
// Integers

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const DECIMAL = /^[+-]?[0-9]+$/

/** Go `strconv.ParseInt(s, 10, 64)`: `"syntax"` or `"range"` on failure. */
export const parseGoIntStrict = (s: string): bigint | "syntax" | "range" => {
  if (!DECIMAL.test(s)) return "syntax"
  const v = BigInt(s)
  return v < INT64_MIN || v > INT64_MAX ? "range" : v
}

/** Go `strconv.ParseInt(s, 10, 64)`, 0 on any failure (§6.3). */
export const parseGoInt = (s: string): bigint => {
  const v = parseGoIntStrict(s)
  return typeof v === "bigint" ? v : 0n
}

/** Go `strconv.ParseBool`. */
export const parseGoBool = (s: string): boolean | undefined => {
  switch (s) {
    case "1":
    case "t":
    case "T":
    case "TRUE":
    case "true":
    case "True":
      return true
    case "0":
    case "f":
    case "F":
    case "FALSE":
    case "false":
    case "False":
      return false
    default:
      return undefined
  }
}

// ---------------------------------------------------------------------------------------------------
// Boolean combinators (constants folded by the caller)

export const andAll = (ps: ReadonlyArray<Pred>): Pred => {
  switch (ps.length) {
    case 1:
      return ps[0]
    case 2: {
      const [a, b] = ps
      return (r) => a(r) && b(r)
    }
    case 3: {
      const [a, b, c] = ps
      return (r) => a(r) && b(r) && c(r)
    }
    default: {
      const arr = ps.slice()
      const n = arr.length
      return (r) => {
        for (let i = 0; i < n; i++) if (!arr[i](r)) return false
        return true
      }
    }
  }
}

export const orAny = (ps: ReadonlyArray<Pred>): Pred => {
  switch (ps.length) {
    case 1:
      return ps[0]
    case 2: {
      const [a, b] = ps
      return (r) => a(r) || b(r)
    }
    case 3: {
      const [a, b, c] = ps
      return (r) => a(r) || b(r) || c(r)
    }
    default: {
      const arr = ps.slice()
      const n = arr.length
      return (r) => {
        for (let i = 0; i < n; i++) if (arr[i](r)) return true
        return false
      }
    }
  }
}
