/**
 * `in` and `pmatch` (policy-language.md §5.2, §6.4): elements resolved at compile time (list references
 * expanded recursively, other atoms unquoted once), every value split on commas; `in` is any-equal,
 * `pmatch` is any-substring (not prefix, not glob).
 */
import { describe, expect, it } from "vitest"
import { ff, holds, pe, proc, warningsOf, ruleText } from "./fixtures.js"

describe("in", () => {
  it("matches any inline element", () => {
    expect(holds("sf.proc.name in (bash, python)", pe())).toBe(true)
    expect(holds("sf.proc.name in (bash, zsh)", pe())).toBe(false)
    expect(holds("sf.proc.name in (python)", pe())).toBe(true)
    expect(holds("sf.proc.pid in (1, 100)", pe())).toBe(true)
  })

  it("is an equality, not a substring test", () => {
    expect(holds("sf.proc.name in (pyth, ython)", pe())).toBe(false)
  })

  it("unquotes inline elements once", () => {
    expect(holds(`sf.proc.name in ("python")`, pe())).toBe(true)
    expect(holds(`sf.proc.name in ('python')`, pe())).toBe(true)
    expect(holds(`sf.proc.name in ('"python"')`, pe())).toBe(false)
  })

  it("splits elements on commas (Q1)", () => {
    expect(holds(`sf.proc.name in ("zsh,python")`, pe())).toBe(true)
  })

  it("matches any element of a multi-valued subject", () => {
    expect(holds("sf.proc.aname in (bash)", pe())).toBe(true)
    expect(holds("sf.proc.aname in (zsh, sh)", pe())).toBe(false)
    expect(holds("not sf.proc.aname in (bash)", pe())).toBe(false)
  })

  it("expands list references, nested lists included", () => {
    const prelude = `
- list: shells
  items: [bash, zsh]
- list: interpreters
  items: [python, perl]
- list: all_binaries
  items: [shells, interpreters, node]
`
    expect(holds("sf.proc.name in (all_binaries)", pe(), prelude)).toBe(true)
    expect(holds("sf.proc.name in (shells)", pe(), prelude)).toBe(false)
    expect(holds("sf.proc.name in (shells, python)", pe(), prelude)).toBe(true)
    expect(holds("sf.pproc.name in (all_binaries)", pe(), prelude)).toBe(true)
  })

  it("unquotes list items twice in total (YAML, then expansion; Q7)", () => {
    const prelude = `
- list: login_binaries
  items: [login, '"python"']
`
    expect(holds("sf.proc.name in (login_binaries)", pe(), prelude)).toBe(true)
  })

  it("never maps list items to attributes", () => {
    expect(holds("sf.proc.name in (sf.proc.name)", pe())).toBe(false)
    expect(holds("sf.proc.name in (sf.proc.name)", pe({ process: proc({ exe: "/x/sf.proc.name" }) }))).toBe(true)
  })

  it("replaces an element that names a list, even when meant as a value", () => {
    const prelude = `
- list: python
  items: [ruby]
`
    expect(holds("sf.proc.name in (python)", pe(), prelude)).toBe(false)
  })

  it("treats an unknown name as a literal", () => {
    expect(holds("sf.proc.name in (no_such_list)", pe())).toBe(false)
  })

  it("matches only an empty value for `items: []` (Q6)", () => {
    const prelude = `
- list: empty
  items: []
`
    expect(holds("sf.proc.args in (empty)", pe(), prelude)).toBe(false)
    expect(holds("sf.proc.args in (empty)", pe({ process: proc({ exeArgs: "" }) }), prelude)).toBe(true)
  })

  it("ignores bracket groups, with a warning (Q7)", () => {
    expect(holds("sf.proc.name in (bash, [python])", pe())).toBe(false)
    expect(holds("sf.proc.name in ([python])", pe())).toBe(false)
    expect(holds("sf.proc.name in (python, [bash])", pe())).toBe(true)
    expect(warningsOf(ruleText("sf.proc.name in (bash, [python])"))).toEqual([
      "test.yaml:5:28: warning: bracket group in 'in' list is ignored"
    ])
  })

  it("compares a literal subject at compile time", () => {
    expect(holds("python in (bash, python)", pe())).toBe(true)
    expect(holds(`"a,b" in (b)`, pe())).toBe(true)
  })
})

describe("pmatch", () => {
  it("is a substring test against every element", () => {
    expect(holds("sf.proc.exe pmatch (bin/pyt)", pe())).toBe(true)
    expect(holds("sf.proc.exe pmatch (/usr/local, thon)", pe())).toBe(true)
    expect(holds("sf.proc.exe pmatch (/usr/local, /sbin)", pe())).toBe(false)
    expect(holds("sf.proc.exe pmatch (/usr/bin/*)", pe())).toBe(false) // not a glob
  })

  it("applies to each element of a multi-valued subject", () => {
    expect(holds("sf.proc.aname pmatch (ash)", pe())).toBe(true)
    expect(holds("sf.proc.aname pmatch (zsh)", pe())).toBe(false)
  })

  it("expands lists like in", () => {
    const prelude = `
- list: downloader_binaries
  items: [wget, curl]
- list: tools
  items: [downloader_binaries, python]
`
    expect(holds("sf.proc.name pmatch (tools)", pe(), prelude)).toBe(true)
    expect(holds("sf.proc.name pmatch (downloader_binaries)", pe(), prelude)).toBe(false)
  })

  it("is always true with an empty element (`items: []`, Q6)", () => {
    const prelude = `
- list: empty
  items: []
`
    expect(holds("sf.proc.exe pmatch (empty)", pe(), prelude)).toBe(true)
    expect(holds(`sf.proc.exe pmatch ("")`, pe())).toBe(true)
    expect(holds("sf.file.path pmatch (empty)", ff(), prelude)).toBe(true)
  })
})
