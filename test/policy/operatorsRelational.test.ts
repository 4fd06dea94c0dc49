/**
 * `<`, `<=`, `>`, `>=` (policy-language.md §6.3, Q8): MapInt on both sides, exact signed 64-bit
 * (bigint). Int64 attributes use their value; anything else parses the operand text with Go `ParseInt`
 * (sign, decimal digits, in range), else 0.
 */
import { describe, expect, it } from "vitest"
import { parseGoInt } from "../../src/services/policy/Predicates.js"
import { bash, ff, holds, ke, nf, pe, proc } from "./fixtures.js"

const big = 1548965940603299403n // the unit-test literal (> 2^53)

describe("int64 attributes against literals", () => {
  it.each([
    ["sf.ts > 999", true],
    ["sf.ts > 1000", false],
    ["sf.ts >= 1000", true],
    ["sf.ts < 1001", true],
    ["sf.ts < 1000", false],
    ["sf.ts <= 1000", true],
    ["sf.proc.pid > 099", true], // 010 is 10 in relational operators
    ["sf.proc.pid < 1000000000000000000000", false], // out of range → 0
    ["sf.proc.pid > 1000000000000000000000", true]
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

describe("coercion of everything else to 0 (Q8, kept)", () => {
  it("coerces quoted numbers, floats and unknown names to 0", () => {
    expect(holds(`sf.ret < "-1"`, pe({}, -1))).toBe(true) // sf.ret < 0
    expect(holds(`sf.ts > "5000"`, pe())).toBe(true) // ts > 0
    expect(holds("sf.ts > 10.5", pe())).toBe(true)
    expect(holds("sf.ts > sf.res", pe())).toBe(true)
    expect(holds("5 > 3", pe())).toBe(true)
    expect(holds("5 < 3", pe())).toBe(false)
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
