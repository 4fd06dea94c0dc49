/**
 * `contains`, `icontains`, `startswith`, `endswith` (policy-language.md §6.4): MapStr on both sides, both
 * split on commas, any pair; an empty right side always matches.
 */
import { describe, expect, it } from "vitest"
import { goLower } from "../../src/services/policy/Predicates.js"
import { bash, ff, file, holds, nf, pe, proc } from "./fixtures.js"

describe("contains", () => {
  it("tests for a substring, case-sensitively", () => {
    expect(holds("sf.proc.exe contains bin/py", pe())).toBe(true)
    expect(holds("sf.proc.exe contains /usr/bin/python", pe())).toBe(true)
    expect(holds("sf.proc.exe contains BIN", pe())).toBe(false)
    expect(holds("sf.container.name contains node", pe())).toBe(true)
  })

  it("is always true for an empty right side", () => {
    expect(holds(`sf.proc.args contains ""`, pe({ process: proc({ exeArgs: "" }) }))).toBe(true)
    expect(holds(`sf.proc.exe contains ''`, pe())).toBe(true)
    expect(holds(`sf.proc.exe contains "zzz,"`, pe())).toBe(true) // splits to "zzz" and ""
  })

  it("looks inside any element of a multi-valued attribute", () => {
    expect(holds("sf.proc.aname contains as", pe())).toBe(true)
    expect(holds("sf.proc.aname contains thon", pe())).toBe(true)
    expect(holds(`sf.proc.aname contains "zz,ash"`, pe())).toBe(true)
    expect(holds("sf.opflags contains SEND", nf({ opFlags: 1 << 9 }))).toBe(true)
    expect(holds("sf.opflags contains SEND", ff())).toBe(false)
  })

  it("tests `[zzz]` as written (Q2, fixed: the reference tested for '')", () => {
    expect(holds(`sf.proc.exe contains "[zzz]"`, pe())).toBe(false)
    expect(holds(`sf.file.path contains "[zzz]"`, ff({ file: file("/tmp/[zzz]/x") }))).toBe(true)
  })

  it("can compare a literal subject with an attribute", () => {
    expect(holds("/usr/bin/python3 contains sf.proc.exe", pe())).toBe(true)
    expect(holds("/usr/bin/pytho contains sf.proc.exe", pe())).toBe(false)
  })
})

describe("icontains", () => {
  it("lowercases both sides", () => {
    expect(holds("sf.proc.exe icontains /USR/BIN/PYTHON", pe())).toBe(true)
    expect(holds("sf.proc.exe icontains Bin/Py", pe())).toBe(true)
    expect(holds("sf.proc.exe icontains /usr/sbin", pe())).toBe(false)
    expect(holds("sf.proc.aname icontains BASH", pe())).toBe(true)
  })

  it("lowercases per code point like Go (İ → i, Σ → σ everywhere)", () => {
    expect(goLower("İSTANBUL")).toBe("istanbul")
    expect(goLower("ΟΔΟΣ")).toBe("οδοσ")
    expect(goLower("ABC")).toBe("abc")
    const p = proc({ exe: "/opt/İSTANBUL/ΟΔΟΣ" })
    expect(holds("sf.proc.exe icontains /opt/istanbul", pe({ process: p }))).toBe(true)
    expect(holds("sf.proc.exe icontains 'οδοσ'", pe({ process: p }))).toBe(true)
    expect(holds("sf.proc.exe icontains 'ΟΔΟΣ'", pe({ process: p }))).toBe(true)
  })

  it("is always true for an empty right side", () => {
    expect(holds(`sf.proc.exe icontains ""`, pe())).toBe(true)
  })
})

describe("startswith and endswith", () => {
  it("test a prefix / suffix, case-sensitively", () => {
    expect(holds("sf.proc.exe startswith /usr/", pe())).toBe(true)
    expect(holds("sf.proc.exe startswith /USR/", pe())).toBe(false)
    expect(holds("sf.proc.args startswith cos-write.py", pe())).toBe(true)
    expect(holds("sf.proc.exe endswith /python", pe())).toBe(true)
    expect(holds("sf.proc.exe endswith /pytho", pe())).toBe(false)
  })

  it("apply to each element of a multi-valued attribute", () => {
    expect(holds("sf.proc.aname startswith ba", pe())).toBe(true)
    expect(holds("sf.proc.aname startswith ash", pe())).toBe(false)
    expect(holds("sf.proc.aname endswith on", pe())).toBe(true)
    expect(holds("sf.proc.aname endswith pyth", pe())).toBe(false)
    expect(holds("sf.proc.aexe startswith /bin/", pe())).toBe(true)
    expect(holds("sf.proc.aexe endswith /bash", pe())).toBe(true)
  })

  it("apply to each element of any comma-separated string", () => {
    const r = pe({ process: proc({ exeArgs: "-c,ls -la" }) })
    expect(holds("sf.proc.args startswith ls", r)).toBe(true)
    expect(holds("sf.proc.args endswith -c", r)).toBe(true)
    expect(holds(`sf.proc.args startswith "x,-c"`, r)).toBe(true)
  })

  it("are always true for an empty right side", () => {
    expect(holds(`sf.proc.exe startswith ""`, pe())).toBe(true)
    expect(holds(`sf.proc.exe endswith ''`, pe())).toBe(true)
  })

  it("compare attributes with attributes", () => {
    const self = proc({ exe: "/bin/bash", exeArgs: "-c x", parent: bash })
    expect(holds("sf.proc.cmdline startswith sf.proc.exe", pe({ process: self, ptree: [self, bash] }))).toBe(true)
    expect(holds("sf.proc.cmdline endswith sf.proc.exe", pe({ process: self, ptree: [self, bash] }))).toBe(false)
  })

  it("sf.proc.cwd is the process's working directory (schema v5), empty when the trace has none", () => {
    const inTmp = pe({ process: proc({ exe: "/bin/sh", cwd: "/tmp/x" }) })
    expect(holds("sf.proc.cwd startswith /tmp", inTmp)).toBe(true)
    expect(holds("sf.proc.cwd = /tmp/x", inTmp)).toBe(true)
    expect(holds(`sf.proc.cwd = ""`, pe())).toBe(true)
  })
})
