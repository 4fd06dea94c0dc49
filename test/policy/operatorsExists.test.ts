/**
 * `exists` (policy-language.md §6.4): the raw value is non-zero — a non-empty string, a non-zero
 * integer, `true`. Literals (unknown names, `[path]` operands) always exist.
 */
import { describe, expect, it } from "vitest"
import { bash, fe, ff, holds, ke, nf, pe, proc } from "./fixtures.js"

describe("exists", () => {
  it("needs a parent for sf.pproc.* strings", () => {
    expect(holds("sf.pproc.name exists", pe())).toBe(true)
    const orphan = proc()
    expect(holds("sf.pproc.name exists", pe({ process: orphan, ptree: [orphan] }))).toBe(false)
    expect(holds("not sf.pproc.name exists", pe({ process: orphan, ptree: [orphan] }))).toBe(true)
  })

  it("tests integers for non-zero", () => {
    expect(holds("sf.proc.pid exists", pe())).toBe(true)
    expect(holds("sf.proc.pid exists", pe({ process: undefined, ptree: undefined }))).toBe(false)
    expect(holds("sf.pproc.pid exists", pe())).toBe(true)
    expect(holds("sf.ret exists", pe({}, -1))).toBe(true)
    expect(holds("sf.ret exists", pe())).toBe(false)
    expect(holds("sf.net.dport exists", nf())).toBe(true)
    expect(holds("sf.net.dport exists", pe())).toBe(false)
  })

  it("tests booleans for true", () => {
    expect(holds("sf.file.is_open_write exists", ff())).toBe(true)
    expect(holds("sf.file.is_open_read exists", ff())).toBe(false)
    expect(holds("sf.proc.tty exists", pe())).toBe(false)
    expect(holds("sf.proc.tty exists", pe({ process: proc({ tty: true }) }))).toBe(true)
    expect(holds("sf.pproc.tty exists", pe({ process: proc({ parent: proc({ tty: true }) }), ptree: [proc(), proc({ tty: true })] }))).toBe(true)
  })

  it("tests strings and multi-valued attributes for non-empty", () => {
    expect(holds("sf.proc.aname exists", pe())).toBe(true)
    expect(holds("sf.proc.aname exists", pe({ process: undefined, ptree: undefined }))).toBe(false)
    expect(holds("sf.opflags exists", pe())).toBe(true)
    expect(holds("sf.opflags exists", ke("{}"))).toBe(false)
    expect(holds("sf.container.id exists", pe())).toBe(true)
    expect(holds("sf.container.id exists", pe({ container: undefined }))).toBe(false)
  })

  it("finds sf.file.name always (`.` without a file)", () => {
    expect(holds("sf.file.name exists", pe())).toBe(true)
    expect(holds("sf.file.name exists", fe({ file: undefined }))).toBe(true)
  })

  it("treats literals and [path] operands as always existing", () => {
    expect(holds("sf.state exists", pe())).toBe(true)
    expect(holds(`"x" exists`, pe())).toBe(true)
    expect(holds("sf.ke.message[nothing] exists", ke("{}"))).toBe(true)
    void bash
  })
})
