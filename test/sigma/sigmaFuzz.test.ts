/**
 * Robustness: whatever a rule file holds, reading and compiling it gives rules or diagnostics, never an
 * exception (S3: the reference crashed on some modifiers). Random conditions from Sigma's tokens, random
 * modifier chains and values, random YAML shapes.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { parseCondition } from "../../src/services/policy/sigma/SigmaCondition.js"
import { KNOWN_MODIFIERS } from "../../src/services/policy/sigma/SigmaValues.js"
import { compile, ruleYaml } from "./support.js"

const token = fc.constantFrom("sel", "filter_1", "sel*", "them", "and", "or", "not", "1", "all", "of", "(", ")", "|", "count()", "near", ">", "5", "*", "?", "é")

describe("never an exception", () => {
  it("conditions", () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 30 }), fc.array(fc.constantFrom(" ", "", "\t", "\n"), { minLength: 30, maxLength: 30 }), (toks, seps) => {
        const text = toks.map((t, i) => t + seps[i]).join("")
        const r = parseCondition(text)
        if (r._tag === "Left") expect(r.left.offset).toBeGreaterThanOrEqual(0)
      }),
      { numRuns: 2000, seed: 20261206 }
    )
  })

  it("field matchers: modifier chains and values", () => {
    const modifier = fc.constantFrom(...KNOWN_MODIFIERS, "base64Offset", "hour", "", "utf8")
    const value = fc.oneof(
      fc.constantFrom("'a*b'", "'\\\\*'", "'10.0.0.0/8'", "'a(b'", "'%x%'", "null", "true", "42", "''", "'-enc'", "[]", "[1, 'x', null]"),
      fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s))
    )
    fc.assert(
      fc.property(
        fc.constantFrom("Image", "CommandLine", "DestinationIp", "DestinationPort", "LogonId", "Nope", ""),
        fc.array(modifier, { maxLength: 4 }),
        value,
        (field, mods, v) => {
          const key = JSON.stringify([field, ...mods].join("|"))
          const load = compile({ "r.yml": ruleYaml({ title: "f", detection: `s:\n    ${key}: ${v}\ncondition: s` }) })
          expect(load.rules.length + load.failed + load.skippedFiles).toBeGreaterThan(0)
        }
      ),
      { numRuns: 1500, seed: 20261206 }
    )
  })

  it("rule file shapes", () => {
    const scalar = fc.constantFrom("x", "1", "null", "[]", "{}", "[a, {b: c}]", "{a: [1, {b: 2}]}", "'|all'", "|")
    const block = fc.array(fc.tuple(fc.constantFrom("title", "id", "logsource", "detection", "condition", "sel", "tags", "level", "sysflow", "category", "'|all'"), scalar), {
      maxLength: 8
    })
    fc.assert(
      fc.property(block, fc.integer({ min: 0, max: 2 }), (pairs, indent) => {
        const text = pairs.map(([k, v], i) => `${" ".repeat((i % (indent + 1)) * 2)}${k}: ${v}`).join("\n")
        const load = compile({ "r.yml": text })
        expect(load.rules.length + load.diagnostics.length).toBeGreaterThan(0)
      }),
      { numRuns: 1500, seed: 20261206 }
    )
  })
})
