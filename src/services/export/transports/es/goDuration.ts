/**
 * Go's `time.ParseDuration` and `Duration.String()`, for `es.bulk.flushTimeout` and the per-flush
 * statistics line (pipeline.md §11.6). Durations are handled in nanoseconds as `bigint`-free numbers:
 * the values we meet (timeouts, flush times) stay far below 2^53 ns (104 days).
 */

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  "\u00b5s": 1e3, // µ (micro sign), as Go accepts
  "\u03bcs": 1e3, // μ (Greek mu), as Go accepts
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9
}

/** Why a text is not a Go duration, in Go's words (`time: missing unit in duration "30"`). */
export class GoDurationError extends Error {}

/**
 * Parses a Go duration (`"30s"`, `"1m30s"`, `"1.5h"`, `"250ms"`, `"0"`) into nanoseconds. A bare number
 * other than `0` is an error (`missing unit`), as in Go.
 */
export const parseGoDuration = (text: string): number => {
  const quoted = JSON.stringify(text)
  let s = text
  let sign = 1
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1
    s = s.slice(1)
  }
  if (s === "0") return 0
  if (s === "") throw new GoDurationError(`time: invalid duration ${quoted}`)
  let total = 0
  while (s !== "") {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!
    const [whole, intPart, fracPart] = [num[0], num[1], num[2] ?? ""]
    if (intPart === "" && fracPart === "") throw new GoDurationError(`time: invalid duration ${quoted}`)
    s = s.slice(whole.length)
    const unit = /^[^\d.]*/.exec(s)![0]
    if (unit === "") throw new GoDurationError(`time: missing unit in duration ${quoted}`)
    const scale = UNIT_NS[unit]
    if (scale === undefined) throw new GoDurationError(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`)
    s = s.slice(unit.length)
    total += Number(intPart === "" ? "0" : intPart) * scale + (fracPart === "" ? 0 : Number(`0.${fracPart}`) * scale)
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) throw new GoDurationError(`time: invalid duration ${quoted}`)
  return sign * Math.round(total)
}

const trimFraction = (digits: string): string => {
  const t = digits.replace(/0+$/, "")
  return t === "" ? "" : `.${t}`
}

/**
 * Go's `Duration.String()` for a whole number of milliseconds (the stats line truncates to the
 * millisecond): `0s`, `12ms`, `1.5s`, `1m1.234s`, `1h0m0s`.
 */
export const formatGoDurationMs = (ms: number): string => {
  const whole = Math.trunc(ms)
  if (whole === 0) return "0s"
  if (whole < 0) return `-${formatGoDurationMs(-whole)}`
  if (whole < 1000) return `${whole}ms`
  const h = Math.floor(whole / 3_600_000)
  const m = Math.floor((whole % 3_600_000) / 60_000)
  const rest = whole % 60_000
  const seconds = `${Math.floor(rest / 1000)}${trimFraction(String(rest % 1000).padStart(3, "0"))}s`
  if (h > 0) return `${h}h${m}m${seconds}`
  if (m > 0) return `${m}m${seconds}`
  return seconds
}
