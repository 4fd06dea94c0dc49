/**
 * `<`, `<=`, `>`, `>=` (policy-language.md §6.3, Q8): MapInt on both sides, exact signed 64-bit
 * (bigint). Int64 attributes use their value; anything else parses the operand text with Go `ParseInt`
 * (sign, decimal digits, in range), else 0.
 */
import { describe, expect, it } from "vitest"
import { parseGoInt } from "../../src/services/policy/Predicates.js"
import { bash, compiled, errorsOf, ff, holds, ke, nf, pe, proc, ruleText, warningsOf } from "./fixtures.js"

const big = 1548965940603299403n // the unit-test literal (> 2^53)

describe("int64 attributes against literals", () => {
  it.each([
    ["sf.ts > 999", true],
    ["sf.ts > 1000", false],
    ["sf.ts >= 1000", true],
    ["sf.ts < 1001", true],
    ["sf.ts < 1000", false],
    ["sf.ts <= 1000", true],
    ["sf.proc.pid > 099", true] // 010 is 10 in relational operators
  ])("%s: %s", (condition, want) => expect(holds(condition, pe())).toBe(want))

  it("is exact beyond 2^53", () => {
    const r = pe({ ts: big })
    expect(holds(`sf.ts >= ${big}`, r)).toBe(true)
    expect(holds(`sf.ts > ${big}`, r)).toBe(false)
    expect(holds(`sf.ts > ${big - 1n}`, r)).toBe(true)
    expect(holds(`sf.ts < ${big + 1n}`, r)).toBe(true)
    expect(holds(`sf.ts <= ${big - 1n}`, r)).toBe(false)
    expect(holds("sf.ts <= 9223372036854775807", r)).toBe(true)
    expect(holds("sf.ts > -9223372036854775808", r)).toBe(true)
  })

  it("compares signed values", () => {
    expect(holds("sf.ret < 0", pe({}, -1))).toBe(true)
    expect(holds("sf.ret < -1", pe({}, -1))).toBe(false)
    expect(holds("sf.ret <= -1", pe({}, -1))).toBe(true)
  })

  it("compares two int64 attributes", () => {
    expect(holds("sf.proc.pid > sf.pproc.pid", pe())).toBe(true)
    expect(holds("sf.proc.pid <= sf.pproc.pid", pe())).toBe(false)
    expect(holds("sf.endts > sf.ts", ff())).toBe(true)
  })

  it("reads the flow counters as true counts (Q13)", () => {
    expect(holds("sf.flow.wbytes > 1024", ff({}, 2, { wb: 1025n }))).toBe(true)
    expect(holds("sf.flow.wbytes > 1024", ff({}, 2, { wb: 1024n }))).toBe(false)
    expect(holds("sf.flow.rbytes >= 100 and sf.flow.wbytes <= 200", nf())).toBe(true)
  })

  it("sees sf.proc.tty as 0/1", () => {
    const tty = proc({ tty: true })
    expect(holds("sf.proc.tty > 0", pe({ process: tty }))).toBe(true)
    expect(holds("sf.proc.tty > 0", pe())).toBe(false)
  })
})

describe("operands an int64 attribute cannot be compared with (issue 10: compile errors)", () => {
  // The reference compared them with 0: `sf.proc.pid > abc` fired on every record.
  const why = (pos: string, text: string, shown: string, problem: string, attr = "sf.proc.pid") =>
    `test.yaml:${pos}: error: '${text}' ${problem}: '${shown}' needs a 64-bit integer (the reference compared ${attr} with 0)`

  it.each([
    ["sf.proc.pid > abc", "5:19", "abc", "is not an integer"],
    ["sf.proc.pid < 10.5", "5:19", "10.5", "is not an integer"],
    ["sf.proc.pid >= 1e3", "5:20", "1e3", "is not an integer"],
    ["sf.proc.pid > sf.res", "5:19", "sf.res", "is not an integer"],
    ["sf.proc.pid > 1000000000000000000000", "5:19", "1000000000000000000000", "is outside the signed 64-bit integer range"],
    ["sf.proc.pid < -9223372036854775809", "5:19", "-9223372036854775809", "is outside the signed 64-bit integer range"],
    [`sf.proc.pid <= "50"`, "5:20", `"50"`, "is quoted: relational operators need an unquoted integer"],
    ["abc < sf.proc.pid", "5:5", "abc", "is not an integer"]
  ])("%s", (condition, pos, text, problem) => {
    expect(errorsOf(ruleText(condition))).toEqual([why(pos, text, condition, problem)])
  })

  it("applies to every attribute with a 64-bit value (sf.ret, sf.proc.tty, aliases)", () => {
    expect(errorsOf(ruleText(`sf.ret < "-1"`))).toEqual([why("5:14", `"-1"`, `sf.ret < "-1"`, "is quoted: relational operators need an unquoted integer", "sf.ret")])
    expect(errorsOf(ruleText("proc.tty > yes"))).toEqual([why("5:16", "yes", "proc.tty > yes", "is not an integer", "proc.tty")])
    expect(errorsOf(ruleText("fd.sport >= http"))).toEqual([why("5:17", "http", "fd.sport >= http", "is not an integer", "fd.sport")])
  })

  it("reports it inside a macro, at the macro's position, and in every rule set loaded", () => {
    const text = `- macro: m\n  condition: sf.ts > now\n${ruleText("m")}`
    expect(errorsOf(text)).toEqual([why("2:22", "now", "sf.ts > now", "is not an integer", "sf.ts")])
  })

  it("accepts the bounds of the range, negative numbers and leading zeros", () => {
    expect(compiled(ruleText("sf.ts <= 9223372036854775807 and sf.ts > -9223372036854775808 and sf.ret > -1 and sf.proc.pid > 007")).warnings).toEqual([])
  })
})

describe("coercion of everything else to 0 (Q8, kept)", () => {
  it("coerces literals compared with literals", () => {
    expect(holds("5 > 3", pe())).toBe(true)
    expect(holds("5 < 3", pe())).toBe(false)
    expect(holds("5 > abc", pe())).toBe(true) // a constant: abc is 0
  })

  it("warns that string, boolean, multi-valued, 32-bit parent and [path] operands compare as 0", () => {
    expect(warningsOf(ruleText("sf.proc.name < 5 or evt.rawres >= 0 or sf.pproc.uid > 0 or sf.ke.message[a] > 1"))).toEqual([
      "test.yaml:5:5: warning: 'sf.proc.name' has no 64-bit integer value: '<' compares it as 0",
      "test.yaml:5:25: warning: 'evt.rawres' has no 64-bit integer value: '>=' compares it as 0",
      "test.yaml:5:44: warning: 'sf.pproc.uid' has no 64-bit integer value: '>' compares it as 0",
      "test.yaml:5:64: warning: 'sf.ke.message[a]' has no 64-bit integer value: '>' compares it as 0"
    ])
  })

  it("coerces string, boolean, multi-valued and 32-bit parent attributes to 0", () => {
    expect(holds("sf.proc.name < 5", pe())).toBe(true)
    expect(holds("sf.proc.name > 0", pe())).toBe(false)
    expect(holds("sf.file.is_open_write > 0", ff())).toBe(false)
    expect(holds("sf.net.port > 0", nf())).toBe(false)
    expect(holds("evt.rawres >= 0", pe())).toBe(true)
    const parent = proc({ pid: 11n, exe: "/bin/sh", uid: 1000 })
    const child = proc({ parent })
    expect(holds("sf.pproc.uid > 0", pe({ process: child, ptree: [child, parent] }))).toBe(false)
    expect(holds("sf.pproc.uid = 1000", pe({ process: child, ptree: [child, parent] }))).toBe(true) // MapStr sees it
  })

  it("coerces a [path] operand to 0 (its text is parsed)", () => {
    expect(holds("sf.ke.message[a] > 1", ke('{"a": 5}'))).toBe(false)
    expect(holds("sf.ke.message[a] < 1", ke('{"a": 5}'))).toBe(true)
    expect(holds("sf.ke.message[a] = 5", ke('{"a": 5}'))).toBe(true)
  })

  it("keeps the unparsed zero of a missing parent", () => {
    expect(holds("sf.pproc.pid > 0", pe({ process: proc(), ptree: undefined }))).toBe(false)
    expect(holds("sf.pproc.pid = 10", pe())).toBe(true)
    void bash
  })
})

describe("parseGoInt (strconv.ParseInt(s, 10, 64))", () => {
  it.each([
    ["0", 0n],
    ["42", 42n],
    ["+42", 42n],
    ["-42", -42n],
    ["010", 10n],
    ["9223372036854775807", 9223372036854775807n],
    ["-9223372036854775808", -9223372036854775808n],
    ["9223372036854775808", 0n],
    ["-9223372036854775809", 0n],
    ["", 0n],
    ["-", 0n],
    ["1.5", 0n],
    ["1e3", 0n],
    ["0x10", 0n],
    ['"50"', 0n],
    [" 5", 0n],
    ["1_000", 0n]
  ])("%j → %s", (text, want) => expect(parseGoInt(text)).toBe(want))
})
