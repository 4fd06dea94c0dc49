/**
 * Falco's condition grammar beyond the reference's (issue 12, item 2), from the libs filter grammar and
 * Falco's documentation of operators: `==`, `glob`, `iglob`, `regex`, `intersects`, `bcontains`,
 * `bstartswith`, escapes in quoted strings, empty lists, bare values with `* + ~ ! @ \`, field
 * transformers and `val()`. Our own conditions keep their meaning (conditionGrammar.test.ts).
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { parseCondition } from "../../src/services/policy/ConditionParser.js"
import { bash, errorsOf, ff, file, holds, pe, proc, ruleText } from "./fixtures.js"

const curl = proc({ exe: "/usr/bin/curl", exeArgs: "-s http://x.io/a.sh", parent: bash })
const run = (p = curl) => pe({ process: p, ptree: [p, bash] })

const syntaxError = (text: string) => {
  const r = parseCondition(text)
  if (Either.isRight(r)) throw new Error(`expected a syntax error for ${text}`)
  return r.left
}

describe("operators", () => {
  it("== is =", () => {
    expect(holds("proc.name == curl", run())).toBe(true)
    expect(holds("proc.name == wget", run())).toBe(false)
  })

  it.each([
    ["proc.exe glob /usr/bin/*", true],
    ["proc.exe glob '/usr/*/cu?l'", true],
    ["proc.exe glob '/usr/bin/[a-c]url'", true],
    ["proc.exe glob '/usr/bin/[!c]url'", false],
    ["proc.exe glob /usr/bin", false],
    ["proc.exe glob /USR/bin/*", false],
    ["proc.exe iglob /USR/BIN/*", true],
    ["proc.exe glob '/usr/bin/\\\\*'", false]
  ])("glob/iglob (fnmatch, whole value): %s → %s", (c, want) => expect(holds(c, run())).toBe(want))

  it.each([
    ["proc.args regex '.*http://[a-z.]+/.*'", true],
    ["proc.args regex 'http'", false], // a full match, as libs
    ["proc.name regex 'c(u|x)rl'", true]
  ])("regex (full match): %s → %s", (c, want) => expect(holds(c, run())).toBe(want))

  it("intersects: some element of a multi-valued field is in the list", () => {
    expect(holds("proc.aname intersects (bash, zsh)", run())).toBe(true)
    expect(holds("proc.aname intersects (zsh)", run())).toBe(false)
  })

  it("bcontains / bstartswith compare hex bytes with the value's UTF-8 bytes", () => {
    expect(holds("proc.name bcontains 7572", run())).toBe(true) // "ur"
    expect(holds("proc.name bstartswith 6375", run())).toBe(true) // "cu"
    expect(holds("proc.name bstartswith 7572", run())).toBe(false)
  })

  it("in () is an empty list: never true; not (x in ()) always", () => {
    expect(holds("proc.name in ()", run())).toBe(false)
    expect(holds("not proc.name pmatch ()", run())).toBe(true)
  })
})

describe("values", () => {
  it("quoted strings take Falco's escapes (\\\" \\\\ \\x41 \\t)", () => {
    const p = proc({ exe: "/bin/sh", exeArgs: '-c "echo \\x"\tA', parent: bash })
    expect(holds('proc.args = "-c \\"echo \\\\x\\"\\t\\x41"', run(p))).toBe(true)
    expect(holds("proc.args contains 'it\\'s'", run(proc({ exe: "/bin/sh", exeArgs: "say it's", parent: bash })))).toBe(true)
  })

  it("a bad escape is a syntax error at the backslash", () => {
    expect(syntaxError('x = "a\\qb"')).toEqual({ offset: 6, message: "unsupported string escape sequence: \\q" })
    expect(syntaxError("x = 'a\\\"b'")).toEqual({ offset: 6, message: "invalid \\\" escape in a '-quoted string" })
  })

  it("bare values may hold * + ~ ! @ \\ (Falco's bare strings)", () => {
    const p = proc({ exe: "/usr/bin/x", exeArgs: "a+b~c!d@e\\f", parent: bash })
    expect(holds("proc.args = a+b~c!d@e\\f", run(p))).toBe(true)
    expect(holds("proc.exe glob *x", run(p))).toBe(true)
    expect(holds("proc.args in (*x, a+b~c!d@e\\f)", run(p))).toBe(true)
  })

  it("bare subjects are unchanged: '!' alone is still an error", () => {
    expect(syntaxError("x ! y")).toEqual({ offset: 2, message: "unexpected character '!'" })
  })
})

describe("field transformers and val()", () => {
  it.each([
    ["tolower(proc.name) = curl", "/usr/bin/CURL", true],
    ["toupper(proc.name) = CURL", "/usr/bin/curl", true],
    ["basename(proc.exe) = curl", "/usr/bin/curl", true],
    ["tolower(basename(proc.exe)) = curl", "/usr/bin/Curl", true],
    ["len(proc.name) = 4", "/usr/bin/curl", true],
    ["len(proc.name) > 3", "/usr/bin/curl", true],
    ["len(proc.name) < 4", "/usr/bin/curl", false],
    ["proc.name = tolower(proc.name)", "/usr/bin/Curl", false],
    ["proc.name = toupper(proc.name)", "/usr/bin/CURL", true]
  ])("%s (exe %s) → %s", (c, exe, want) => expect(holds(c, run(proc({ exe, parent: bash })))).toBe(want))

  it.each([
    ['join("-", (proc.name, proc.pname)) = curl-bash', true],
    ["join('/', (proc.name, tolower(proc.pname), 'x', 7)) = curl/bash/x/7", true],
    ['join(",", ()) = ""', true],
    ["concat(proc.name, ':', proc.pid) = curl:100", true],
    ["toupper(concat(proc.name, proc.pname)) = CURLBASH", true],
    ["len(join('', (proc.name, proc.pname))) = 8", true]
  ])("multi-value transformers: %s", (c, want) => expect(holds(c, run())).toBe(want))

  it("join/concat parts are fields, quoted strings or numbers (getopt(): falcoGrammarLibs.test.ts)", () => {
    expect(syntaxError('join("-", (macro)) = a')).toEqual({ offset: 11, message: "expected a field, a quoted string or a number, found 'macro'" })
  })

  it("b64 decodes base64", () => {
    const p = proc({ exe: "/bin/sh", exeArgs: "Y3VybA==", parent: bash })
    expect(holds("b64(proc.args) = curl", run(p))).toBe(true)
  })

  it("len of a multi-valued field counts its elements", () => {
    expect(holds("len(proc.aname) = 2", run())).toBe(true)
  })

  it("val() compares two fields", () => {
    const same = ff({ process: proc({ exe: "/tmp/x" }), file: file("/tmp/x") })
    expect(holds("fd.name = val(proc.exe)", same)).toBe(true)
    expect(holds("fd.name = val(proc.exe)", ff({ file: file("/tmp/y") }))).toBe(false)
  })

  it("val() only on a right-hand side, and no transformers inside lists (as libs rejects them)", () => {
    expect(syntaxError("val(proc.name) exists")).toEqual({ offset: 0, message: "val() is allowed only on the right of an operator" })
    expect(syntaxError("fd.name = b64(val(proc.exe))")).toEqual({ offset: 14, message: "val() is allowed only on the right of an operator" })
    expect(syntaxError("fd.name in (a, b64(proc.exe))")).toEqual({ offset: 18, message: "expected ',' or ')' in 'in' list, found '('" })
  })

  it("a transformer on something that is not a field is an error", () => {
    expect(errorsOf(ruleText("tolower(nofield.x) = a"))).toEqual(["test.yaml:5:5: error: 'nofield.x' is not a known attribute: tolower() needs a field"])
  })

  it("bad patterns are errors at the pattern", () => {
    expect(errorsOf(ruleText("proc.name regex 'a('"))).toEqual([
      "test.yaml:5:21: error: invalid regular expression 'a(': Invalid regular expression: /^(?:a()$/s: Unterminated group"
    ])
    expect(errorsOf(ruleText("proc.name bcontains 7g"))).toEqual([
      "test.yaml:5:25: error: '7g' is not a hex byte string (an even number of hex digits): 'bcontains' compares bytes"
    ])
  })
})
