/**
 * `=` and `!=` (policy-language.md §6.2, §6.4): MapStr on both sides, both split on commas, true if any
 * pair is byte-equal (Q1); one bounding quote trimmed from literals and record values (Q3); `!=` is
 * "no pair equal" (Q4).
 */
import { describe, expect, it } from "vitest"
import { bash, fe, ff, file, holds, ke, nf, OP, pe, proc } from "./fixtures.js"

describe("= on string attributes", () => {
  it("compares byte-exactly", () => {
    expect(holds("sf.proc.exe = /usr/bin/python", pe())).toBe(true)
    expect(holds("sf.proc.exe = /usr/bin/Python", pe())).toBe(false)
    expect(holds("sf.proc.exe = /usr/bin/pytho", pe())).toBe(false)
    expect(holds("sf.proc.name = python", pe())).toBe(true)
    expect(holds("sf.proc.cmdline = '/usr/bin/python cos-write.py x'", pe())).toBe(true)
  })

  it("removes one bounding quote at each end of a literal (Q3)", () => {
    expect(holds(`sf.proc.name = "python"`, pe())).toBe(true)
    expect(holds(`sf.proc.name = 'python'`, pe())).toBe(true)
    expect(holds(`sf.proc.name = '"python"'`, pe())).toBe(false) // only one quote per end
    expect(holds(`sf.proc.name = ''python''`, pe())).toBe(false)
  })

  it("removes one bounding quote at each end of a record value too (Q3)", () => {
    const quoted = proc({ exe: '"/opt/app"', exeArgs: 'say "hi"' })
    expect(holds("sf.proc.exe = /opt/app", pe({ process: quoted }))).toBe(true)
    expect(holds(`sf.proc.args = 'say "hi'`, pe({ process: quoted }))).toBe(true)
  })

  it("equals an empty string only when the value is empty", () => {
    expect(holds(`sf.proc.args = ""`, pe({ process: proc({ exeArgs: "" }) }))).toBe(true)
    expect(holds(`sf.proc.args = ""`, pe())).toBe(false)
    expect(holds(`sf.pproc.args = ''`, pe())).toBe(true)
  })

  it("compares two attributes", () => {
    expect(holds("sf.proc.exe = sf.pproc.exe", pe())).toBe(false)
    expect(holds("sf.proc.exe != sf.pproc.exe", pe())).toBe(true)
    const self = proc({ exe: "/bin/bash", parent: bash })
    expect(holds("sf.proc.exe = sf.pproc.exe", pe({ process: self, ptree: [self, bash] }))).toBe(true)
  })
})

describe("comma splitting (Q1)", () => {
  it("matches any element of a multi-valued attribute", () => {
    expect(holds("sf.proc.aname = python", pe())).toBe(true)
    expect(holds("sf.proc.aname = bash", pe())).toBe(true)
    expect(holds("sf.proc.aname = pyth", pe())).toBe(false)
    expect(holds("sf.proc.apid = 10", pe())).toBe(true)
    expect(holds("sf.net.ip = 10.1.2.3", nf())).toBe(true)
    expect(holds("sf.net.port = 443", nf())).toBe(true)
    expect(holds("sf.net.port = 40000", nf())).toBe(true)
  })

  it("splits any string, record values and literals alike", () => {
    expect(holds("sf.proc.args = b", pe({ process: proc({ exeArgs: "a,b" }) }))).toBe(true)
    expect(holds(`sf.proc.name = "bash,python"`, pe())).toBe(true)
    expect(holds(`sf.proc.name = "bash,zsh"`, pe())).toBe(false)
    expect(holds(`sf.proc.name = ",zsh"`, pe({ process: proc({ exe: "" }) }))).toBe(false) // name is "."
    expect(holds(`sf.proc.args = ",zsh"`, pe({ process: proc({ exeArgs: "" }) }))).toBe(true) // "" = ""
  })

  it("finds an element in the middle, at the start and at the end", () => {
    const r = pe({ process: proc({ exeArgs: "aa,bb,cc" }) })
    for (const v of ["aa", "bb", "cc"]) expect(holds(`sf.proc.args = ${v}`, r)).toBe(true)
    for (const v of ["a", "b", "c", "a,b", "aaa", "b,c,d"]) expect(holds(`sf.proc.args = '${v}'`, r)).toBe(false)
    for (const v of ["aa,b", "bb,cc,dd", "x,cc", "bb,"]) expect(holds(`sf.proc.args = '${v}'`, r)).toBe(true)
  })

  it("compares two multi-valued attributes pairwise", () => {
    expect(holds("sf.proc.aname = sf.proc.aname", pe())).toBe(true)
    const p = proc({ exeArgs: "zz,bash", parent: bash })
    expect(holds("sf.proc.args = sf.proc.aname", pe({ process: p, ptree: [p, bash] }))).toBe(true)
    expect(holds("sf.proc.args = sf.proc.aname", pe({ process: p, ptree: [p] }))).toBe(false)
  })
})

describe("!= is the negation of any-equal (Q4)", () => {
  it("is false when any element equals", () => {
    expect(holds("sf.proc.aname != bash", pe())).toBe(false)
    expect(holds("sf.proc.aname != python", pe())).toBe(false)
    expect(holds("sf.proc.aname != zsh", pe())).toBe(true)
    expect(holds(`sf.proc.name != "zsh,python"`, pe())).toBe(false)
  })

  it("is true for a different single value", () => {
    expect(holds("sf.proc.name != bash", pe())).toBe(true)
    expect(holds("sf.proc.name != python", pe())).toBe(false)
  })
})

describe("= on integer attributes compares decimal strings", () => {
  it("renders int64 values in decimal", () => {
    expect(holds("sf.proc.pid = 100", pe())).toBe(true)
    expect(holds("sf.proc.pid = 0100", pe())).toBe(false) // a string comparison (§6.3)
    expect(holds("sf.ts = 1000", pe())).toBe(true)
  })

  it("is exact beyond 2^53", () => {
    const big = pe({ ts: 1548965940603299403n })
    expect(holds("sf.ts = 1548965940603299403", big)).toBe(true)
    expect(holds("sf.ts = 1548965940603299404", big)).toBe(false)
    expect(holds("sf.ts = 1548965940603299400", big)).toBe(false)
  })

  it("renders a negative return code", () => {
    expect(holds("sf.ret = -1", pe({}, -1))).toBe(true)
    expect(holds(`sf.ret = "-1"`, pe({}, -1))).toBe(true)
  })
})

describe("= on other renderings", () => {
  it("renders sf.proc.tty and proc.tty as true/false (Q9: the process's own tty)", () => {
    expect(holds("sf.proc.tty = false", pe())).toBe(true)
    const tty = proc({ tty: true, parent: bash })
    expect(holds("proc.tty = true", pe({ process: tty, ptree: [tty, bash] }))).toBe(true)
  })

  it("renders file-open flags as true/false", () => {
    expect(holds("sf.file.is_open_write = true", ff())).toBe(true)
    expect(holds("sf.file.is_open_read = true", ff())).toBe(false)
    expect(holds("sf.file.is_open_write = false", pe())).toBe(true)
  })

  it("renders sf.container.privileged as 0/1", () => {
    expect(holds("sf.container.privileged = 0", pe())).toBe(true)
    expect(holds("sf.container.privileged = false", pe())).toBe(false)
  })

  it("renders op flags per record type (READ/WRITE for files, RECV/SEND for flows)", () => {
    expect(holds("sf.opflags = EXEC", pe())).toBe(true)
    expect(holds("sf.opflags = WRITE", ff())).toBe(true)
    expect(holds("sf.opflags = SEND", ff())).toBe(false)
    expect(holds("sf.opflags = SEND", nf({ opFlags: OP.WRITE_SEND }))).toBe(true)
    expect(holds("sf.opflags = WRITE_SEND", ff())).toBe(false) // never a rendered name
  })

  it("evaluates Falco aliases", () => {
    expect(holds("proc.name = python and proc.exe = /usr/bin/python and proc.pname = bash", pe())).toBe(true)
    expect(holds("fd.name = /tmp/out.txt", ff())).toBe(true) // Q9: the full path
    expect(holds("fd.filename = out.txt and fd.directory = /tmp", ff())).toBe(true)
    expect(holds("container.name = node-app and container.image = node:18", pe())).toBe(true)
    expect(holds("user.name = app and proc.user = app", pe())).toBe(true)
  })

  it("keeps evt.dir the constant `>,<` (Q9, kept)", () => {
    expect(holds("evt.dir = <", pe())).toBe(true)
    expect(holds("evt.dir = >", ff())).toBe(true)
    expect(holds("evt.dir != <", pe())).toBe(false)
    expect(holds("evt.dir=<", nf())).toBe(true)
  })

  it("compares the record type string", () => {
    expect(holds("sf.type = PE", pe())).toBe(true)
    expect(holds("sf.type = FF", pe())).toBe(false)
    expect(holds("sf.type != PE", ff())).toBe(true)
    expect(holds("evt.rawres = NF", nf())).toBe(true)
    expect(holds(`sf.type = "FE,KE"`, fe())).toBe(true)
    expect(holds(`sf.type = "FE,KE"`, ke("{}"))).toBe(true)
    expect(holds(`sf.type = "FE,KE"`, ff())).toBe(false)
  })
})

describe("literals", () => {
  it("compares unknown identifiers as their text (Q5)", () => {
    expect(holds("sf.state = CREATE", pe())).toBe(false)
    expect(holds("sf.state = sf.state", pe())).toBe(true)
    expect(holds("a = a", pe())).toBe(true)
    expect(holds(`"a" = a`, pe())).toBe(true)
    expect(holds("sf.is_open_write = true", ff())).toBe(false)
  })
})

describe("[path] lookups (§6.2, Q2)", () => {
  const message = JSON.stringify({ items: [{ namespace: "robot-shop", name: "web" }], kind: "PodList" })

  it("applies a gjson path to a known string attribute", () => {
    expect(holds("sf.ke.message[items.0.namespace] = 'robot-shop'", ke(message))).toBe(true)
    expect(holds("sf.ke.message[items.0.namespace] = 'default'", ke(message))).toBe(false)
    expect(holds("sf.ke.message[kind] = PodList", ke(message))).toBe(true)
    expect(holds("sf.ke.message[missing] = ''", ke(message))).toBe(true)
  })

  it("gives '' on non-JSON strings: Falco's proc.aname[N] is always empty", () => {
    expect(holds("proc.aname[1] = ''", pe())).toBe(true)
    expect(holds("proc.aname[2] = bash", pe())).toBe(false)
  })

  it("ignores the path for non-string values", () => {
    expect(holds("sf.proc.pid[x] = 100", pe())).toBe(true)
    expect(holds("sf.proc.tty[x] = false", pe())).toBe(true)
  })

  it("keeps a literal with '[' whole when its base is not an attribute (Q2, fixed)", () => {
    expect(holds(`sf.proc.exe = "/usr/bin/python[x]"`, pe())).toBe(false)
    expect(holds(`sf.proc.exe = "/usr/bin/python[x]"`, pe({ process: proc({ exe: "/usr/bin/python[x]" }) }))).toBe(true)
    expect(holds(`sf.proc.exe = "["`, pe())).toBe(false)
    expect(holds(`sf.file.path = "["`, ff({ file: file("[") }))).toBe(true)
  })
})
