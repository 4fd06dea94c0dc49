/**
 * ECS timestamps (data-model.md §5.4): Go `time.Unix(0, ns).UTC().Format(time.RFC3339Nano)`, i.e.
 * `2021-05-25T16:25:14.570130505Z` with the fraction's trailing zeros trimmed and no dot when the fraction
 * is zero (`2020-10-07T19:52:06.664Z`, `1970-01-01T00:00:00Z`).
 */

const NS_PER_S = 1_000_000_000n

// The seconds part repeats a lot (a process start, a pod ts, the events of one second): memoise the last.
let lastSec = Number.NaN
let lastSecText = ""

const secondsText = (sec: number): string => {
  if (sec !== lastSec) {
    // toISOString: `YYYY-MM-DDTHH:MM:SS.sssZ` for years 0..9999 (int64 nanoseconds span 1677..2262).
    lastSecText = new Date(sec * 1000).toISOString().slice(0, 19)
    lastSec = sec
  }
  return lastSecText
}

/** RFC3339Nano (UTC, trailing fractional zeros trimmed) of a Unix time in nanoseconds. */
export const isoTime = (ns: bigint): string => {
  let sec = ns / NS_PER_S
  let frac = Number(ns - sec * NS_PER_S)
  if (frac < 0) {
    frac += 1_000_000_000
    sec -= 1n
  }
  const head = secondsText(Number(sec))
  if (frac === 0) return head + "Z"
  let digits = 9
  while (frac % 10 === 0) {
    frac /= 10
    digits--
  }
  const f = String(frac)
  return head + "." + (f.length < digits ? "0".repeat(digits - f.length) + f : f) + "Z"
}
