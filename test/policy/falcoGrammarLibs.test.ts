/**
 * The rest of libs' filter grammar (issue 12, item 2), from the grammar libs documents in its parser
 * (userspace/libsinsp/filter/parser.h) and the behaviour its tests describe: the list modifiers
 * `oneof`/`anyof`/`allof` after a string operator, a transformed field or `val()` as the right side of
 * `in`/`pmatch`/`intersects`, a list's name after `in` without parentheses, quoted and free-form field
 * arguments, the `getopt()` transformer, libs' bare strings as values and its lexing of quoted strings. In a Falco file values are
 * read as libs reads them; our dialect keeps the reference's lexical rules (conditionGrammar.test.ts).
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import type { Expr } from "../../src/domain/policy/PolicyAst.js"
import { parseCondition } from "../../src/services/policy/ConditionParser.js"
import { bash, errorsOf, holds, pe, proc, ruleText } from "./fixtures.js"

const FALCO = "- required_engine_version: 0.57.0"
const curl = proc({ exe: "/usr/bin/curl", exeArgs: "-s http://x.io/a.sh", parent: bash })
const run = pe({ process: curl, ptree: [curl, bash] })
/** Whether a Falco file's rule with `condition` matches curl's exec. */
const falcoHolds = (condition: string, prelude = "") => holds(condition, run, `${FALCO}\n${prelude}`)

const parsed = (text: string, falco = true): Expr => {
  const r = parseCondition(text, { falco })
  if (Either.isLeft(r)) throw new Error(`${text}: ${r.left.message} at ${r.left.offset}`)
  return r.right
}
const syntaxError = (text: string, falco = true) => {
  const r = parseCondition(text, { falco })
  if (Either.isRight(r)) throw new Error(`expected a syntax error for ${text}`)
  return r.left
}

describe("list modifiers: exactly one / at least one / every element satisfies the operator", () => {
  it.each([
    ["proc.name == oneof (curl, bash)", true],
    ["proc.name == oneof (curl)", true],
    ["proc.name == oneof (bash, sh)", false],
    ["proc.name == oneof (curl, curl)", false], // two elements are equal to it
    ["proc.name = anyof (curl, bash)", true],
    ["proc.name = anyof (bash, sh)", false],
    ["proc.name = anyof (curl, curl)", true],
    ["proc.name == allof (curl)", true],
    ["proc.name == allof (curl, bash)", false],
    ["proc.name == allof (curl, curl)", true],
    ["proc.name != oneof (curl, curl, bash)", true], // exactly one differs
    ["proc.name != oneof (curl, bash)", true],
    ["proc.name != oneof (bash, sh)", false],
    ["proc.name != anyof (curl, bash)", true],
    ["proc.name != allof (bash, sh)", true], // not in the list
    ["proc.name != allof (curl, bash)", false],
    ["proc.name contains oneof (cur, bash)", true],
    ["proc.name contains oneof (cu, rl)", false],
    ["proc.name contains allof (cu, rl)", true],
    ["proc.name startswith anyof (c, w)", true],
    ["proc.name endswith allof (rl, url)", true],
    ["proc.name glob oneof ('c*', bash)", true],
    ["proc.name glob allof ('c*', '*l')", true],
    ["proc.name iglob anyof ('C*')", true],
    ["proc.name regex anyof ('c.*', 'b.*')", true],
    ["proc.name icontains allof (CU, RL)", true],
    ["toupper(proc.name) == oneof (CURL, BASH)", true],
    ["proc.name == oneof ()", false],
    ["proc.name == anyof ()", false],
    ["proc.name == allof ()", false],
    ["not proc.name == oneof (bash, sh)", true],
    ["proc.name == oneof (bash) or proc.name == anyof (curl)", true]
  ])("%s → %s", (c, want) => expect(falcoHolds(c)).toBe(want))

  it("take a list's name, with or without parentheses, expanded as in 'in'", () => {
    const lists = "- list: tools\n  items: [curl, wget]\n- list: more\n  items: [tools, curl]"
    expect(falcoHolds("proc.name == anyof tools", lists)).toBe(true)
    expect(falcoHolds("proc.name == oneof (tools)", lists)).toBe(true)
    expect(falcoHolds("proc.name == oneof more", lists)).toBe(false) // curl twice
    expect(falcoHolds("proc.name != allof tools", lists)).toBe(false)
  })

  it("are parsed as one predicate with the operator, the modifier and the elements", () => {
    expect(parsed("proc.name != allof (a, 'b c')")).toMatchObject({
      kind: "modified",
      op: "!=",
      modifier: "allof",
      subject: { text: "proc.name" },
      elements: [{ kind: "atom", atom: { text: "a" } }, { kind: "atom", atom: { text: "'b c'" } }]
    })
  })

  it("are ordinary words where no list follows, or after a relational operator", () => {
    expect(parsed("proc.name == oneof")).toMatchObject({ kind: "compare", right: { text: "oneof" } })
    expect(parsed("proc.name == oneof and proc.name == anyof (cat)")).toMatchObject({
      kind: "and",
      operands: [{ kind: "compare", right: { text: "oneof" } }, { kind: "modified", modifier: "anyof" }]
    })
    expect(parsed("proc.name == oneof oneof")).toMatchObject({ kind: "modified", elements: [{ atom: { text: "oneof" } }] })
    expect(syntaxError("proc.pid < oneof (1, 2)")).toEqual({ offset: 11, message: "expected a number after '<', found 'oneof'" })
  })

  it("keep the operator's checks: a bad regex in one element is an error at it", () => {
    expect(errorsOf(ruleText("proc.name regex anyof (a, '(')", FALCO))[0]).toMatch(/^test\.yaml:5:31: error: invalid regular expression/)
  })
})

describe("a field on the right of in / pmatch / intersects", () => {
  it.each([
    ["proc.name in val(proc.name)", true],
    ["proc.pname in val(proc.name)", false],
    ["proc.pname intersects val(proc.pname)", true],
    ["toupper(proc.name) in toupper(proc.name)", true],
    ["proc.name in tolower(proc.pname)", false],
    ["proc.exe pmatch val(proc.name)", true] // the engine's pmatch: the value contains an element
  ])("%s → %s", (c, want) => expect(falcoHolds(c)).toBe(want))

  it("is parsed as the list's one element", () => {
    expect(parsed("some.field in b64(test.field)")).toMatchObject({ kind: "list", op: "in", elements: [{ kind: "atom", atom: { text: "test.field", transformers: ["b64"] } }] })
  })
})

describe("a list's name after 'in' without parentheses (Falco files)", () => {
  it("is the list", () => {
    expect(falcoHolds("proc.name in tools", "- list: tools\n  items: [curl, wget]")).toBe(true)
    expect(falcoHolds("proc.name in tools", "- list: tools\n  items: [wget]")).toBe(false)
  })

  it("stays a syntax error in our dialect", () => {
    expect(syntaxError("x in a", false)).toEqual({ offset: 5, message: "expected '(' after 'in', found 'a'" })
  })
})

describe("field arguments", () => {
  it.each([
    ["test.str['a aa'] = a", "test.str['a aa']"],
    ['test.str[""] = empty', 'test.str[""]'],
    ["test.str[+0.25e+10] = a", "test.str[+0.25e+10]"],
    ["test.str[0a!@#456:/\\.;!$%^&*(){}|] = v", "test.str[0a!@#456:/\\.;!$%^&*(){}|]"],
    ['test.str["with \\"escapes\\""] = a', 'test.str["with \\"escapes\\""]']
  ])("%s: the argument is part of the field", (c, field) => {
    expect(parsed(c)).toMatchObject({ kind: "compare", left: { text: field } })
  })

  it("make a Falco rule inactive when the field has no SysFlow source (proc.env[...])", () => {
    expect(falcoHolds("proc.env['HOME'] = /root or proc.name = curl")).toBe(false)
  })
})

describe("values as libs reads them in Falco files", () => {
  it.each([
    ["a.b = not", "not"],
    ["test.str = 0a!@#456:/\\.;!$%^&*[]{}|", "0a!@#456:/\\.;!$%^&*[]{}|"],
    ["a.b = %{x}", "%{x}"]
  ])("%s: the value is %s", (c, v) => {
    expect(parsed(c)).toMatchObject({ kind: "compare", right: { text: v } })
  })

  it("also in lists", () => {
    expect(parsed("test.list in (0a!@#456:/\\.;!$%^&*[]{}|, value)")).toMatchObject({
      elements: [{ atom: { text: "0a!@#456:/\\.;!$%^&*[]{}|" } }, { atom: { text: "value" } }]
    })
  })

  it("our dialect keeps the reference's lexical rules", () => {
    expect(syntaxError("x = a|b", false)).toEqual({ offset: 5, message: "unexpected character '|'" })
    expect(syntaxError("a.b = not", false)).toEqual({ offset: 6, message: "expected a value after '=', found 'not'" })
  })

  it("a quoted string ends at the first quote not preceded by a backslash", () => {
    expect(parsed("test.str = 'escape single quote \\\\' '")).toMatchObject({ right: { quoted: true } })
    expect(parsed("test.str = 'multiple \\\\' \\\\\\\\''")).toMatchObject({ right: { quoted: true } })
  })

  it("a relational operator takes a number (decimal, hexadecimal, with exponent) or a transformed field", () => {
    expect(parsed("proc.pid > 0x1F and proc.pid <= +1.5e+3 and len(proc.name) < len(proc.pname)")).toMatchObject({ kind: "and" })
    expect(syntaxError("test.num <= a")).toEqual({ offset: 12, message: "expected a number after '<=', found 'a'" })
    expect(syntaxError("test.num < 0xAAA.1")).toEqual({ offset: 16, message: "expected 'and', 'or' or end of condition, found '.1'" })
    expect(parsed("test.num <= a", false)).toMatchObject({ kind: "compare" }) // our dialect: a literal, with the reference's warnings
  })

  it("a bare word without a '.' is a macro's name, never a field", () => {
    expect(syntaxError("macro > 12")).toEqual({ offset: 0, message: "'macro' is not a field (a field's name has a '.'); a macro's name stands alone" })
    expect(parsed("macro and a.b exists")).toMatchObject({ kind: "and" })
    expect(parsed("macro > 12", false)).toMatchObject({ kind: "compare" })
  })

  it("'exists' needs no blank after it", () => {
    expect(parsed("test.op existsand macro")).toMatchObject({ kind: "and", operands: [{ kind: "exists" }, { kind: "macro", name: "macro" }] })
  })
})

describe("getopt(argv, optstring)[c]: argv read as getopt(3) reads short options", () => {
  it.each([
    ['getopt(("-n", ""), "n") intersects ("n")', true],
    ['getopt(("-t", "hello"), "t:") intersects ("t", "hello")', true],
    ['getopt(("-nt", "hello"), "nt:") intersects ("n", "t", "hello")', true],
    ['getopt(("-thello"), "t:") intersects ("hello")', true],
    ['getopt(("-n"), "n") intersects ("t")', false],
    ['getopt(("-n", "--", "-t"), "nt:") intersects ("t")', false], // -- ends the options
    ['getopt(("arg1", "-n"), "n") intersects ("n")', false], // so does the first non-option
    ['getopt(("-", "-n"), "n") intersects ("n")', false],
    ['getopt(("--exec", "-n"), "n") intersects ("n")', true], // long options are skipped
    ['getopt(("-x", "-n"), "n") intersects ("?", "n")', true], // an unknown option is ?
    ['getopt(("-x", "-n"), "n") intersects ("x")', false],
    ['getopt(("-lpe", "/bin/sh"), "lp:e:") intersects ("/bin/sh")', false], // p takes "e" as its argument
    ['getopt(("-lpe", "/bin/sh"), "lpe:") intersects ("/bin/sh")', true],
    ['getopt(("-t"), "t:") intersects ("")', true], // a missing argument is an empty value
    ['getopt(("-t"), "t:") intersects ("t")', false],
    ['getopt(("-t", "val1", "-t", "val2"), "t:")[t] = val2', true], // the selected option's last value
    ['getopt(("-n", "-t", "x"), "nt:")["n"] = n', true], // an option without argument: its character
    ['getopt(("-n"), "nt:")[t] = ""', true] // absent: no value
  ])("%s → %s", (c, want) => expect(falcoHolds(c)).toBe(want))

  it("on a field: its value split at blanks (SysFlow keeps a process's arguments as one string)", () => {
    const nc = proc({ exe: "/usr/bin/nc", exeArgs: "-lvp 4444 -e /bin/sh", parent: bash })
    const exec = pe({ process: nc, ptree: [nc, bash] })
    expect(holds('getopt(proc.args, "lvp:e:")[e] = /bin/sh', exec, FALCO)).toBe(true)
    expect(holds('getopt(proc.args, "lvp:e:")[p] = 4444', exec, FALCO)).toBe(true)
    expect(holds('getopt(proc.args, "lvp:e:") intersects (e)', exec, FALCO)).toBe(true)
    expect(holds('getopt(proc.args, "lvp:e:") intersects (c)', exec, FALCO)).toBe(false)
  })

  it("takes one option character as its argument, and needs an option string", () => {
    expect(syntaxError('getopt(proc.args, "nt:")[nt] = x')).toEqual({ offset: 24, message: "getopt()'s argument must be one option character, found 'nt'" })
    expect(syntaxError("getopt(proc.args) = x").message).toBe("expected ',' and the option string after getopt's arguments, found ')'")
    expect(parsed('getopt(proc.args, "nt:")["t"] = value')).toMatchObject({ left: { compose: { name: "getopt", getopt: { optstring: "nt:", selector: "t", argvList: false } } } })
  })
})
