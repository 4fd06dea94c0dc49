/**
 * Sigma values and value modifiers, from the Sigma specification v2 (rules specification "Value
 * Modifiers", "Escaping", "Special Field Values"; modifiers appendix v2.1): each modifier on the
 * examples the specification gives, plus the near misses that must not match.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { goLower } from "../../src/services/policy/Predicates.js"
import type { SigmaScalar } from "../../src/services/policy/sigma/SigmaRule.js"
import { compileFieldValues, type FieldSpec, type ValueOptions } from "../../src/services/policy/sigma/SigmaValues.js"

const noPlaceholders: ValueOptions = { placeholders: new Map() }

const spec = (mods: string, values: SigmaScalar | Array<SigmaScalar>, options = noPlaceholders): FieldSpec => {
  const r = compileFieldValues(mods === "" ? [] : mods.split("|"), Array.isArray(values) ? values : [values], options)
  if (Either.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

/** Evaluates a compiled field matcher against one field value (as the compiler's leaves do). */
const test = (s: FieldSpec, field: string): boolean => {
  switch (s.kind) {
    case "null":
      return field === ""
    case "exists":
      return (field !== "") === s.exists
    case "values": {
      const one = (alts: (typeof s.values)[number]) =>
        alts.some((v) => {
          if (v.kind === "string") return v.test(v.cased ? field : goLower(field))
          if (v.kind === "number") return v.test(/^-?\d+$/.test(field) ? Number(field) : NaN)
          throw new Error("fieldref is tested in sigmaRules.test.ts")
        })
      const r = s.all ? s.values.every(one) : s.values.some(one)
      return s.negate ? !r : r
    }
  }
}

const matches = (mods: string, values: SigmaScalar | Array<SigmaScalar>, field: string, options = noPlaceholders): boolean =>
  test(spec(mods, values, options), field)

const errorOf = (mods: string, values: SigmaScalar | Array<SigmaScalar>) => {
  const r = compileFieldValues(mods === "" ? [] : mods.split("|"), Array.isArray(values) ? values : [values], noPlaceholders)
  if (Either.isRight(r)) throw new Error(`expected an error for |${mods}`)
  return r.left
}

describe("plain values", () => {
  it("are whole-value matches, case-insensitive by default", () => {
    expect(matches("", "/usr/bin/Curl", "/usr/bin/curl")).toBe(true)
    expect(matches("", "/usr/bin/curl", "/usr/bin/curl2")).toBe(false)
    expect(matches("", "root", "ROOT")).toBe(true)
  })

  it("a list of values is ORed", () => {
    expect(matches("", ["/bin/sh", "/bin/bash"], "/bin/bash")).toBe(true)
    expect(matches("", ["/bin/sh", "/bin/bash"], "/bin/zsh")).toBe(false)
  })

  it("numbers and booleans compare as their text", () => {
    expect(matches("", 4444, "4444")).toBe(true)
    expect(matches("", 4444, "44444")).toBe(false)
    expect(matches("", true, "true")).toBe(true)
  })

  it("'' is the empty value", () => {
    expect(matches("", "", "")).toBe(true)
    expect(matches("", "", "x")).toBe(false)
  })

  it("null matches an empty or absent field only", () => {
    expect(matches("", null, "")).toBe(true)
    expect(matches("", null, "x")).toBe(false)
    expect(errorOf("contains", null).message).toContain("'null' must be the only value")
  })
})

describe("wildcards and escapes", () => {
  it("* matches any run, ? one character", () => {
    expect(matches("", "/usr/*/python?", "/usr/local/bin/python3")).toBe(true)
    expect(matches("", "/usr/*/python?", "/usr/local/bin/python")).toBe(false)
    expect(matches("", "*curl*", "/usr/bin/CURL -s")).toBe(true)
  })

  it("\\* and \\? are plain characters; \\\\ before a wildcard is a backslash", () => {
    expect(matches("", "a\\*b", "a*b")).toBe(true)
    expect(matches("", "a\\*b", "axxb")).toBe(false)
    expect(matches("", "what\\?", "what?")).toBe(true)
    expect(matches("", "what\\?", "whats")).toBe(false)
    expect(matches("", "c:\\\\*", "c:\\windows")).toBe(true)
    // A backslash not followed by a wildcard is itself.
    expect(matches("", "c:\\temp", "c:\\temp")).toBe(true)
    // Three backslashes: an escaped backslash, then an escaped wildcard.
    expect(matches("", "x\\\\\\*", "x\\*")).toBe(true)
  })

  it("several wildcards, without regular-expression backtracking", () => {
    expect(matches("", "*a*b*c*", "xxaxxbxxcxx")).toBe(true)
    expect(matches("", "*a*b*c*", "xxaxxcxxbxx")).toBe(false)
    expect(matches("", "a*?", "a")).toBe(false)
    expect(matches("", "a*?", "ab")).toBe(true)
    expect(matches("", "??", "\u{1F600}")).toBe(true) // one astral character is two UTF-16 units
    expect(matches("contains", "x\\*y*z", "--x*yQQz--")).toBe(true)
    expect(matches("contains", "x\\*y*z", "--xQyQQz--")).toBe(false)
    // A long command line against a pattern a backtracking regex would take polynomial time on.
    expect(matches("", "*a*a*a*a*a*b", "a".repeat(20_000))).toBe(false)
  })

  it("wildcards combine with contains / startswith / endswith", () => {
    expect(matches("contains", "curl*|*bash", "sh -c curl http://x | bash")).toBe(true)
    expect(matches("startswith", "/tmp/?", "/tmp/a/b")).toBe(true)
    expect(matches("endswith", ".s?", "/tmp/x.sh")).toBe(true)
  })
})

describe("generic modifiers", () => {
  it("contains, startswith, endswith", () => {
    expect(matches("contains", "-d", "/usr/bin/base64 -d")).toBe(true)
    expect(matches("contains", "-D", "/usr/bin/base64 -d")).toBe(true)
    expect(matches("startswith", "bash -c ", "bash -c id")).toBe(true)
    expect(matches("startswith", "bash -c ", "/bin/bash -c id")).toBe(false)
    expect(matches("endswith", "/base64", "/usr/bin/base64")).toBe(true)
    expect(matches("endswith", "/base64", "/usr/bin/base64x")).toBe(false)
  })

  it("all ANDs the values", () => {
    expect(matches("contains|all", ["curl", "| bash"], "curl -s x | bash")).toBe(true)
    expect(matches("contains|all", ["curl", "| bash"], "curl -s x > f")).toBe(false)
  })

  it("cased matches case-sensitively", () => {
    expect(matches("contains|cased", "Evil", "an Evil thing")).toBe(true)
    expect(matches("contains|cased", "Evil", "an evil thing")).toBe(false)
  })

  it("exists: true / false", () => {
    expect(matches("exists", true, "x")).toBe(true)
    expect(matches("exists", true, "")).toBe(false)
    expect(matches("exists", false, "")).toBe(true)
    expect(errorOf("exists", "yes").message).toContain("true or false")
  })

  it("neq: the field differs from every value", () => {
    expect(matches("neq", ["root", "daemon"], "alice")).toBe(true)
    expect(matches("neq", ["root", "daemon"], "root")).toBe(false)
  })
})

describe("regular expressions", () => {
  it("re is case-sensitive and unanchored; i, m, s sub-modifiers", () => {
    expect(matches("re", "(.){200,}", "x".repeat(200))).toBe(true)
    expect(matches("re", "(.){200,}", "x".repeat(199))).toBe(false)
    expect(matches("re", "curl .* \\| ?bash", "sh -c curl http://x | bash")).toBe(true)
    expect(matches("re", "CURL", "curl")).toBe(false)
    expect(matches("re|i", "CURL", "curl")).toBe(true)
    expect(matches("re", "^b$", "a\nb")).toBe(false)
    expect(matches("re|m", "^b$", "a\nb")).toBe(true)
    expect(matches("re", "a.b", "a\nb")).toBe(false)
    expect(matches("re|s", "a.b", "a\nb")).toBe(true)
  })

  it("a leading PCRE inline flag group is honoured", () => {
    expect(matches("re", "(?i)CURL", "curl")).toBe(true)
  })

  it("a bad pattern is a compile error naming the modifier (S3)", () => {
    const e = errorOf("re", "a(b")
    expect(e.modifier).toBe("re")
    expect(e.message).toContain("invalid regular expression")
  })

  it("re cannot be combined with contains or encodings", () => {
    expect(errorOf("re|contains", "x").message).toContain("cannot be combined")
    expect(errorOf("base64|re", "x").message).toContain("cannot be combined")
  })
})

describe("encodings", () => {
  it("base64 matches the encoded value, exactly", () => {
    // echo -n 'stratum+tcp://' | base64
    expect(matches("base64|contains", "stratum+tcp://", "echo c3RyYXR1bSt0Y3A6Ly8= | base64 -d")).toBe(true)
    expect(matches("base64|contains", "stratum+tcp://", "echo C3RYYXR1BST0Y3A6LY8= | base64 -d")).toBe(false)
  })

  it("base64offset gives the three offsets (the values the reference's crypto-mining rule lists)", () => {
    const s = spec("base64offset|contains", "--donate-level=")
    if (s.kind !== "values") throw new Error("values expected")
    expect(s.values[0]).toHaveLength(3)
    for (const encoded of ["LS1kb25hdGUtbGV2ZWw9", "0tZG9uYXRlLWxldmVsP", "tLWRvbmF0ZS1sZXZlbD"]) {
      expect(matches("base64offset|contains", "--donate-level=", `xmrig ${encoded}xx`)).toBe(true)
    }
    expect(matches("base64offset|contains", "--donate-level=", "xmrig --donate-level=1")).toBe(false)
  })

  it("utf16le / wide / utf16be / utf16 then base64 (PowerShell-style encoded commands)", () => {
    // "cmd" in UTF-16LE is 63 00 6d 00 64 00 → Y wBtAGQA
    expect(matches("wide|base64", "cmd", "YwBtAGQA")).toBe(true)
    expect(matches("utf16le|base64", "cmd", "YwBtAGQA")).toBe(true)
    // UTF-16BE 00 63 00 6d 00 64 → AGMAbQBk
    expect(matches("utf16be|base64", "cmd", "AGMAbQBk")).toBe(true)
    // BOM FF FE then UTF-16LE → //5jAG0AZAA=
    expect(matches("utf16|base64", "cmd", "//5jAG0AZAA=")).toBe(true)
    expect(matches("wide|base64offset|contains", "cmd", "xYwBtAGQAx")).toBe(true)
  })

  it("an encoding cannot transform a wildcard value", () => {
    expect(errorOf("base64", "a*b").message).toContain("cannot transform a value with wildcards")
  })
})

describe("windash", () => {
  it("a flag's dash may be any of - / – — ―", () => {
    for (const d of ["-", "/", "\u2013", "\u2014", "\u2015"]) expect(matches("windash|contains", " -enc ", ` ${d}enc `)).toBe(true)
    expect(matches("windash|contains", " -enc ", " +enc ")).toBe(false)
  })

  it("dashes inside words are not varied", () => {
    expect(matches("windash", "a-b", "a/b")).toBe(false)
  })
})

describe("numeric and IP modifiers", () => {
  it("lt, lte, gt, gte", () => {
    expect(matches("lt", 1024, "80")).toBe(true)
    expect(matches("lt", 1024, "1024")).toBe(false)
    expect(matches("lte", 1024, "1024")).toBe(true)
    expect(matches("gt", 1024, "4444")).toBe(true)
    expect(matches("gte", 4444, "4444")).toBe(true)
    expect(matches("gt", 10, "abc")).toBe(false)
    expect(errorOf("gt", "many").message).toContain("needs a number")
  })

  it("cidr (IPv4; IPv6 ranges never match SysFlow's IPv4 flows)", () => {
    expect(matches("cidr", "10.0.0.0/8", "10.1.2.3")).toBe(true)
    expect(matches("cidr", "10.0.0.0/8", "11.1.2.3")).toBe(false)
    expect(matches("cidr", ["127.0.0.0/8", "172.16.0.0/12"], "172.31.255.1")).toBe(true)
    expect(matches("cidr", "172.16.0.0/12", "172.32.0.1")).toBe(false)
    expect(matches("cidr", "0.0.0.0/0", "8.8.8.8")).toBe(true)
    expect(matches("cidr", "::1/128", "127.0.0.1")).toBe(false)
    expect(errorOf("cidr", "10.0.0.0/33").message).toContain("not a CIDR range")
    expect(errorOf("cidr", "300.0.0.0/8").modifier).toBe("cidr")
  })
})

describe("expand", () => {
  it("replaces placeholders with the config's values", () => {
    const options: ValueOptions = { placeholders: new Map([["Admins", ["root", "admin"]]]) }
    expect(matches("expand", "%Admins%", "admin", options)).toBe(true)
    expect(matches("expand", "%Admins%", "alice", options)).toBe(false)
    // Without `expand`, a placeholder is a literal.
    expect(matches("", "%Admins%", "%admins%", options)).toBe(true)
  })

  it("an undefined placeholder is an error naming it", () => {
    expect(errorOf("expand", "%Servers%").message).toContain("'%Servers%' has no values")
  })
})

describe("errors (S3: never a crash)", () => {
  it("an unknown modifier is named", () => {
    const e = errorOf("contains|base64Offset", "x")
    expect(e.modifier).toBe("base64Offset")
    expect(e.message).toContain("unknown modifier 'base64Offset'")
    expect(e.unsupported).toBe(false)
  })

  it("time modifiers are unsupported (SysFlow fields carry no dates)", () => {
    const e = errorOf("hour", 3)
    expect(e.unsupported).toBe(true)
    expect(e.modifier).toBe("hour")
  })

  it("type modifiers do not combine", () => {
    expect(errorOf("cidr|re", "x").message).toContain("cannot be combined")
  })
})
