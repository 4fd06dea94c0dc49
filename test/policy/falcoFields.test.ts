/**
 * Falco's fields on SysFlow data (issue 12, item 3; src/services/policy/FalcoFields.ts, docs/falco.md):
 * what a rule of a Falco-dialect file reads, against records built like the reader builds them.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { compilePolicies } from "../../src/services/policy/PolicySet.js"
import { evaluate } from "../../src/services/policy/PolicySet.js"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { bash, fe, ff, file, nf, nodeApp, OP, pe, proc } from "./fixtures.js"

/** Whether `condition`, as a rule of a Falco file, matches `record`. */
const falco = (condition: string, record: FlatRecord): boolean => {
  const text = `- required_engine_version: 0.57.0\n- rule: r\n  desc: d\n  condition: ${JSON.stringify(condition)}\n  output: o\n  priority: INFO\n`
  const r = compilePolicies([{ path: "f.yaml", text }])
  if (Either.isLeft(r)) throw new Error(r.left.message)
  expect(r.right.rules[0].inactive, condition).toBeUndefined()
  return evaluate(r.right, record).matches.length > 0
}

const sh = proc({ exe: "/bin/sh", exeArgs: "-c id", parent: bash, tty: true })
const exec = pe({ process: sh, ptree: [sh, bash], opFlags: OP.EXEC })

describe("evt.type: the syscalls a record stands for", () => {
  it.each([
    ["evt.type in (execve, execveat) and evt.dir = <", exec, true],
    ["evt.type = execve", pe({ process: sh, ptree: [sh, bash], opFlags: OP.CLONE }), false],
    ["evt.type in (clone, fork, vfork)", pe({ process: sh, ptree: [sh, bash], opFlags: OP.CLONE }), true],
    ["evt.type in (open, openat, openat2)", ff({ opFlags: OP.OPEN | OP.READ_RECV | OP.CLOSE }), true],
    ["evt.type = connect", nf({ opFlags: OP.CONNECT }), true],
    ["evt.type in (accept, accept4)", nf({ opFlags: OP.CONNECT }), false],
    ["evt.type in (symlink, symlinkat)", fe({ opFlags: OP.SYMLINK }), true],
    ["evt.type in (rename, renameat, renameat2)", fe({ opFlags: OP.RENAME }), true],
    ["evt.type != execve", exec, false]
  ])("%s", (c, record, want) => expect(falco(c, record)).toBe(want))

  // evt.type tests compile to operation-flag tests; a transformed evt.type keeps the string comparison.
  const records: ReadonlyArray<readonly [string, FlatRecord]> = [
    ["exec", exec],
    ["clone", pe({ process: sh, ptree: [sh, bash], opFlags: OP.CLONE })],
    ["open-read-close", ff({ opFlags: OP.OPEN | OP.READ_RECV | OP.CLOSE })],
    ["write", ff({ opFlags: OP.WRITE_SEND })],
    ["connect-send", nf({ opFlags: OP.CONNECT | OP.WRITE_SEND })],
    ["accept", nf({ opFlags: OP.ACCEPT })],
    ["symlink", fe({ opFlags: OP.SYMLINK })],
    ["rename", fe({ opFlags: OP.RENAME })]
  ]
  const tests = [
    "evt.type in (execve, execveat)",
    "evt.type in (open, openat, read, close)",
    "evt.type = write",
    "evt.type in (connect, accept, accept4)",
    "evt.type = close",
    "evt.type != read",
    "evt.type in (symlink, rename, unlink, ptrace)"
  ]
  it.each(records.flatMap(([name, r]) => tests.map((t) => [t, name, r] as const)))("%s on %s: the flag test agrees with the syscall names", (t, _name, r) => {
    expect(falco(t, r)).toBe(falco(t.replace("evt.type", "tolower(evt.type)"), r))
  })
})

describe("process, user, container and pod fields", () => {
  it.each([
    ["proc.tty != 0", exec, true],
    ["proc.tty = 0", exec, false],
    ["proc.exepath = /bin/sh and proc.pexepath = /bin/bash", exec, true],
    ["proc.aname[0] = sh and proc.aname[1] = bash and proc.aname[2] = ''", exec, true],
    ["proc.apid[1] = 10", exec, true],
    ["user.uid = 1000 and group.gid = 1000 and group.name = app", exec, true],
    ["container.image.repository = node and container.image.tag = 18", exec, true],
    ["container.privileged = false", exec, true],
    ["container.id != host and container.name = node-app", exec, true],
    ["container.id = host and container.name = host", pe({ container: undefined }), true],
    ["proc.duration > 0", pe({ process: sh, ptree: [sh, bash], ts: 5000n }), true]
  ])("%s", (c, record, want) => expect(falco(c, record)).toBe(want))

  it("container.image.repository keeps a registry port and drops a digest", () => {
    const c = { ...nodeApp, image: "registry:5000/team/app:1.2@sha256:ab" }
    expect(falco("container.image.repository = registry:5000/team/app and container.image.tag = 1.2", pe({ container: c }))).toBe(true)
  })
})

describe("fd fields", () => {
  it.each([
    ["fd.l4proto = tcp", nf(), true],
    ["fd.l4proto = udp", nf(), false],
    ["fd.sip = 10.1.2.3 and fd.sport = 443 and fd.cip = 172.17.0.2 and fd.cport = 40000", nf(), true],
    ["fd.lport = 40000 and fd.rport = 443 and fd.rip = 10.1.2.3", nf({ opFlags: OP.CONNECT }), true],
    ["fd.lport = 443 and fd.rport = 40000 and fd.is_server = true", nf({ opFlags: OP.ACCEPT }), true],
    ["fd.type = file and fd.typechar = f", ff({ file: file("/etc/shadow") }), true],
    ["fd.type = ipv4 and fd.typechar = 4 and fd.name = 172.17.0.2:40000->10.1.2.3:443", nf(), true],
    ["fd.type = directory", ff({ file: file("/etc", "d") }), true]
  ])("%s", (c, record, want) => expect(falco(c, record)).toBe(want))
})

describe("evt.* of file events", () => {
  it("symlink: target is what the link points to (SysFlow's file), linkpath the link (its new file)", () => {
    const link = fe({ opFlags: OP.SYMLINK, file: file("/etc/shadow"), newFile: file("/tmp/l") })
    expect(falco("evt.arg.target = /etc/shadow and evt.arg.linkpath = /tmp/l", link)).toBe(true)
  })

  it("rename: oldpath and newpath", () => {
    const mv = fe({ opFlags: OP.RENAME, file: file("/tmp/a"), newFile: file("/usr/bin/a") })
    expect(falco("evt.arg.oldpath = /tmp/a and evt.arg.newpath = /usr/bin/a", mv)).toBe(true)
  })

  it("evt.res is SUCCESS or the errno name; evt.rawres the return code", () => {
    expect(falco("evt.res = SUCCESS and evt.rawres = 0", exec)).toBe(true)
    expect(falco("evt.res = ENOENT and evt.rawres < 0", pe({ process: sh, ptree: [sh, bash] }, -2))).toBe(true)
  })

  it("evt.num is never 0, so Falco's never_true macro stays false", () => {
    expect(falco("evt.num = 0", exec)).toBe(false)
  })
})

describe("syscalls SysFlow does not record", () => {
  it("make evt.type tests false with a warning where they are written; a rule that can therefore never fire is listed inactive", () => {
    const text =
      "- required_engine_version: 0.57.0\n- macro: module_load\n  condition: evt.type in (init_module, finit_module)\n" +
      "- rule: kmod\n  desc: d\n  condition: module_load and proc.name = insmod\n  output: o\n  priority: INFO\n" +
      "- rule: not dup\n  desc: d\n  condition: evt.type != dup and evt.type = execve\n  output: o\n  priority: INFO\n"
    const r = compilePolicies([{ path: "f.yaml", text }])
    if (Either.isLeft(r)) throw new Error(r.left.message)
    expect(r.right.rules.map((x) => [x.name, x.inactive])).toEqual([
      ["kmod", "its condition is never true on SysFlow data"],
      ["not dup", undefined]
    ])
    expect(r.right.warnings.map((d) => `${d.line}:${d.column} ${d.message}`)).toEqual([
      "3:14 SysFlow records none of the syscalls 'init_module', 'finit_module': this evt.type test is never true",
      "4:3 rule 'kmod' is inactive: its condition is never true on SysFlow data",
      "11:26 SysFlow records none of the syscalls 'dup': this evt.type test is never true"
    ])
    expect(evaluate(r.right, exec).matches.map((m) => m.name)).toEqual(["not dup"])
  })
})

describe("network fields (CIDR)", () => {
  it.each([
    ["fd.net = 10.0.0.0/8", true],
    ["fd.net != 127.0.0.0/8", true],
    ["fd.snet = 10.1.2.0/24", true],
    ["fd.snet = 172.16.0.0/12", false],
    ["fd.cnet in (172.16.0.0/12, 192.168.0.0/16)", true],
    ["fd.rnet in (10.1.2.3, ::1/128)", true],
    ["fd.lnet = 10.0.0.0/8", false]
  ])("%s", (c, want) => expect(falco(c, nf({ opFlags: OP.CONNECT }))).toBe(want))

  it("a network that is not a.b.c.d/n is an error at the test", () => {
    const text = "- required_engine_version: 0.57.0\n- rule: r\n  desc: d\n  condition: fd.net = 10.0.0.0/33\n  output: o\n  priority: INFO\n"
    const r = compilePolicies([{ path: "f.yaml", text }])
    expect(Either.isLeft(r) && r.left.message).toBe("f.yaml:4:23: error: '10.0.0.0/33' is not an IPv4 network (a.b.c.d/n): fd.net compares networks")
  })
})

describe("type checks (Falco files)", () => {
  const errors = (condition: string): ReadonlyArray<string> => {
    const text = `- required_engine_version: 0.57.0\n- rule: r\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: INFO\n`
    const r = compilePolicies([{ path: "f.yaml", text }])
    return Either.isLeft(r) ? r.left.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.column} ${d.message}`) : []
  }

  it.each([
    ["proc.pid contains 1", ["32 'contains' compares strings and proc.pid is numeric"]],
    ["proc.name > 3", ["26 '>' compares numbers and proc.name is not numeric"]],
    ["proc.pid = abc", ["25 'abc' is not a number and proc.pid is numeric"]],
    ["fd.sport in (80, https)", ["14 'https' is not a number and fd.sport is numeric"]],
    ["proc.pid = 0x1F or fd.sport in (80, 443) or proc.tty != 0", []],
    ["evt.arg.uid = nobody", []]
  ])("%s", (c, want) => expect(errors(c)).toEqual(want))

  it("our dialect keeps the reference's checks (warnings, X55/X56)", () => {
    const r = compilePolicies([{ path: "f.yaml", text: "- rule: r\n  desc: d\n  condition: sf.proc.pid = abc\n" }])
    expect(Either.isRight(r)).toBe(true)
  })
})
