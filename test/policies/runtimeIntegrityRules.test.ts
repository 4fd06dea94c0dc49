/**
 * Every rule of policies/runtimeintegrity, exercised on generated traces: each rule reports the activity
 * it is written for, with its priority and tags, and stays quiet for the benign twins its exclusions are
 * written for. The cases are in processRules.ts, fileRules.ts and networkRules.ts.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { Priority } from "../../src/domain/policyEvent.js"
import type { CompiledPolicySet } from "../../src/services/policy/PolicySet.js"
import { fileRules } from "./fileRules.js"
import { networkRules } from "./networkRules.js"
import { processRules } from "./processRules.js"
import type { RuleSpec } from "./ruleSpec.js"
import { alertsFor, attr, describeRecord, expectNoAlert, load, runtimeIntegrityDir, Scene } from "./support.js"

const specs: ReadonlyArray<RuleSpec> = [...processRules, ...fileRules, ...networkRules]

let set: CompiledPolicySet
beforeAll(async () => {
  set = await load(runtimeIntegrityDir)
})

describe("the runtime-integrity specifications", () => {
  it("cover every rule of the set, each with at least one firing case and one quiet case", () => {
    expect(specs.map((s) => s.rule).sort()).toEqual(set.rules.map((r) => r.name).sort())
    for (const s of specs) {
      expect(s.fires.length, s.rule).toBeGreaterThan(0)
      expect(s.quiet.length, s.rule).toBeGreaterThan(0)
    }
  })
})

for (const spec of specs) {
  describe(spec.rule, () => {
    for (const c of spec.fires) {
      it(`fires for ${c.title}`, () => {
        const scene = new Scene()
        c.build(scene)
        const alerts = alertsFor(set, scene.records(), spec.rule)
        expect(alerts.map((a) => describeRecord(a.record))).toHaveLength(c.alerts ?? 1)
        const on = c.on ?? spec.on
        expect(alerts.map((a) => a.record.type)).toEqual(typeof on === "string" ? alerts.map(() => on) : on)
        for (const { rule, record } of alerts) {
          expect(rule.priority).toBe(Priority[spec.priority])
          expect(rule.tags).toEqual(spec.tags)
          // The rule's output, rendered on the alert's record: what it names is the record's.
          const output = rule.renderOutput?.(record)
          expect(output, spec.rule).toContain(`command=${attr(record, "sf.proc.cmdline")} pid=${attr(record, "sf.proc.pid")}`)
          if (record.type === "FF" || record.type === "FE") expect(output).toContain(`(file=${attr(record, "sf.file.path")} `)
          if (record.type === "NF") expect(output).toContain(`->${attr(record, "sf.net.dip")}:${attr(record, "sf.net.dport")} `)
          // Only what a record may lack is <NA>: the container on the host, the second file of a file flow.
          expect(output).not.toContain("%sf.")
          expect(output!.replace(/ new=\S*| container=.*$/g, "")).not.toContain("<NA>")
        }
      })
    }
    for (const c of spec.quiet) {
      it(`stays quiet for ${c.title}`, () => {
        const scene = new Scene()
        c.build(scene)
        expectNoAlert(set, scene.records(), spec.rule)
      })
    }
  })
}
