/**
 * The `policyengine` processor: modes, drop filters, order, actions, configuration errors and the
 * policy monitor (policy-language.md §8).
 */
import { it } from "@effect/vitest"
import { Effect, Logger, TestClock } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import type { PolicyEvent } from "../../src/domain/policyEvent.js"
import { RunOptions } from "../../src/services/kernel/RunOptions.js"
import { makePolicyEngineStage } from "../support/stages.js"
import { tempDir } from "../support/cli.js"
import { bash, fe, ff, nf, pe, proc } from "./fixtures.js"

const rules = `
- list: shells
  items: [bash, sh]
- rule: Shell exec
  desc: a shell was executed
  condition: sf.type = PE and sf.proc.name in (shells)
  priority: high
  tags: [shell]
- rule: Python activity
  desc: anything python does
  condition: sf.proc.name = python
  priority: low
  tags: [py]
`

const policyDir = (text: string, name = "rules.yaml"): string => {
  const dir = tempDir("sfp-pol-")
  fs.writeFileSync(path.join(dir, name), text)
  return dir
}

/** Captures log lines (message text) while running `self`. */
const captureLogs = (lines: string[]) =>
  Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void lines.push((Array.isArray(message) ? message : [message]).join(" "))))

const names = (e: PolicyEvent) => e.rules.map((r) => r.name)
const shellRecord = (): FlatRecord => pe({ process: proc({ exe: "/bin/bash", exeArgs: "-c id", parent: bash }) })

describe("policyengine processor", () => {
  it.scopedLive("alert mode emits only records that matched, each once with every matched rule in rule order", () =>
    Effect.gen(function* () {
      const stage = yield* makePolicyEngineStage({ policies: policyDir(rules), mode: "alert" })
      const input = [shellRecord(), ff(), nf(), fe({ process: proc({ exe: "/usr/bin/ls", parent: bash }) })]
      const out = yield* stage.onChunk(input)
      expect(out.map((e) => e.record)).toEqual([input[0], input[1], input[2]])
      expect(out.map(names)).toEqual([["Shell exec"], ["Python activity"], ["Python activity"]])
      expect(out[0].rules[0]).toMatchObject({ name: "Shell exec", desc: "a shell was executed", priority: 3, tags: ["shell"] })
    })
  )

  it.scopedLive("enrich mode emits every record in input order, matched or not", () =>
    Effect.gen(function* () {
      const stage = yield* makePolicyEngineStage({ policies: policyDir(rules), mode: "enrich" })
      const input = [fe({ process: proc({ exe: "/usr/bin/ls", parent: bash }) }), shellRecord(), ff()]
      const out = yield* stage.onChunk(input)
      expect(out.map((e) => e.record)).toEqual(input)
      expect(out.map(names)).toEqual([[], ["Shell exec"], ["Python activity"]])
    })
  )

  it.scopedLive("drop filters remove records before any rule, in both modes", () =>
    Effect.gen(function* () {
      const text = `${rules}\n- filter: no network\n  condition: sf.type = NF\n`
      for (const mode of ["alert", "enrich"]) {
        const stage = yield* makePolicyEngineStage({ policies: policyDir(text), mode })
        const out = yield* stage.onChunk([nf(), ff()])
        expect(out.map((e) => e.record.type)).toEqual(["FF"])
      }
    })
  )

  it.scopedLive("an unknown mode means enrich, with a warning (Q21)", () =>
    Effect.gen(function* () {
      const logs: string[] = []
      const stage = yield* makePolicyEngineStage({ policies: policyDir(rules), mode: "audit" }).pipe(Effect.provide(captureLogs(logs)))
      expect(logs).toContain("unknown mode 'audit', using enrich")
      expect((yield* stage.onChunk([fe()])).length).toBe(1)
    })
  )

  it.scopedLive("without policies: enrich forwards everything untouched; alert is a configuration error", () =>
    Effect.gen(function* () {
      const stage = yield* makePolicyEngineStage({ mode: "enrich" })
      const out = yield* stage.onChunk([ff(), nf()])
      expect(out.map((e) => e.rules.length)).toEqual([0, 0])
      const err = yield* Effect.flip(makePolicyEngineStage({}))
      expect(err.message).toBe("policyengine: configuration attribute 'policies' missing from policy engine plugin settings")
    })
  )

  it.scopedLive.each(["0", "-2", "many", "1.5"])("concurrency %s is a configuration error (Q20)", (value) =>
    Effect.gen(function* () {
      const err = yield* Effect.flip(makePolicyEngineStage({ policies: policyDir(rules), concurrency: value }))
      expect(err.message).toBe(`policyengine: concurrency = "${value}": must be a whole number, 1 or more`)
    })
  )

  it.scopedLive("a policy file that does not compile fails init with its file:line:col", () =>
    Effect.gen(function* () {
      const dir = policyDir("- rule: Broken\n  desc: x\n  condition: sf.proc.name = = bash\n  priority: low\n")
      const err = yield* Effect.flip(makePolicyEngineStage({ policies: dir }))
      expect(err.message).toContain(`Unable to compile local policies from ${dir}`)
      expect(err.message).toMatch(new RegExp(`${dir}/rules\\.yaml:3:\\d+: error: `))
    })
  )

  it.scopedLive("with -perflog, bench.ruleindex and bench.rulesetsize evaluate only the chosen rules", () =>
    Effect.gen(function* () {
      const logs: string[] = []
      const perflog = Effect.provideService(RunOptions, { test: false, perflog: true })
      const onlySecond = yield* makePolicyEngineStage({ policies: policyDir(rules), "bench.ruleindex": "1" }).pipe(perflog, Effect.provide(captureLogs(logs)))
      expect(logs).toContain("Benchmarking 1 rule(s)")
      expect(logs).toContain("Rule Name: Python activity, Description: anything python does")
      expect((yield* onlySecond.onChunk([shellRecord(), ff()])).map(names)).toEqual([["Python activity"]])
      const firstOne = yield* makePolicyEngineStage({ policies: policyDir(rules), "bench.rulesetsize": "1" }).pipe(perflog)
      expect((yield* firstOne.onChunk([shellRecord(), ff()])).map(names)).toEqual([["Shell exec"]])
      // Without -perflog the keys do nothing, as in the reference.
      const all = yield* makePolicyEngineStage({ policies: policyDir(rules), "bench.ruleindex": "1" })
      expect((yield* all.onChunk([shellRecord(), ff()])).map(names)).toEqual([["Shell exec"], ["Python activity"]])
    })
  )

  it.scopedLive("language sigma reads the files as Sigma rules: a Falco-syntax file is reported, and a set with no rule fails", () =>
    Effect.gen(function* () {
      const err = yield* Effect.flip(makePolicyEngineStage({ policies: policyDir(rules), language: "sigma" }))
      expect(err.message).toContain("error: a Sigma rule must be a mapping; file skipped")
      // The second error, logged above the message: "no Sigma rule could be loaded from <dir>".
      expect(err.message).toContain("2 errors")
    })
  )
})

describe("actions", () => {
  const actionDir = () => {
    const dir = tempDir("sfp-act-")
    fs.writeFileSync(
      path.join(dir, "tagger.mjs"),
      `export const Action = { getName: () => "tagger", getFunc: () => (ctx) => { ctx.tags.push("seen:" + ctx.rules.map((r) => r.name).join("+")) } }\n`
    )
    fs.writeFileSync(
      path.join(dir, "later.mjs"),
      `export default { getName: () => "later", getFunc: () => async (ctx) => { await new Promise((r) => setTimeout(r, 5)); ctx.tags.push("async") } }\n`
    )
    fs.writeFileSync(path.join(dir, "broken.mjs"), `export const Action = { getName: () => "broken", getFunc: () => () => { throw new Error("boom") } }\n`)
    fs.writeFileSync(path.join(dir, "notes.txt"), "not an action")
    return dir
  }
  const actionRules = `
- rule: First
  desc: d
  condition: sf.type = PE
  actions: [tagger]
  priority: low
- rule: Second
  desc: d
  condition: sf.type = PE
  actions: [later, broken, tagger]
  priority: medium
`

  it.scopedLive("run for each matched rule in rule order, after the rule is attached; async ones are awaited; errors are logged, not fatal", () =>
    Effect.gen(function* () {
      const logs: string[] = []
      const stage = yield* makePolicyEngineStage({ policies: policyDir(actionRules), actiondir: actionDir() })
      const out = yield* stage.onChunk([shellRecord(), ff()]).pipe(Effect.provide(captureLogs(logs)))
      expect(out.length).toBe(1)
      expect(out[0].tags).toEqual(["seen:First", "seen:First+Second", "async"])
      expect(logs).toContain("Error in action: boom")
    })
  )

  it.scopedLive("an unknown action name is a compile warning", () =>
    Effect.gen(function* () {
      const logs: string[] = []
      const dir = policyDir("- rule: R\n  desc: d\n  condition: sf.type = PE\n  actions: [nosuch]\n  priority: low\n")
      yield* makePolicyEngineStage({ policies: dir, actiondir: actionDir() }).pipe(Effect.provide(captureLogs(logs)))
      expect(logs.some((l) => l.includes("warning: Unknown action identifier 'nosuch' found in rule 'R'"))).toBe(true)
    })
  )
})

describe("policy monitor (monitor: local)", () => {
  /** Real time passing (filesystem events, file reads), outside the TestClock. */
  const realPause = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))
  /**
   * Feeds one record per 50 ms of TestClock time (real file events and reads happen in between) until
   * `accept` holds for the output, or fails after `ms` of TestClock time.
   */
  const until = (stage: { onChunk: (c: ReadonlyArray<FlatRecord>) => Effect.Effect<ReadonlyArray<PolicyEvent>> }, record: () => FlatRecord, accept: (out: ReadonlyArray<PolicyEvent>) => boolean, ms: number) =>
    Effect.gen(function* () {
      for (let waited = 0; ; waited += 50) {
        const out = yield* stage.onChunk([record()])
        if (accept(out)) return true
        if (waited >= ms) return false
        yield* TestClock.adjust("50 millis")
        yield* realPause(10)
      }
    })
  /** Moves the TestClock 50 ms at a time until `cond` holds (at most `ms` of TestClock time). */
  const advanceUntil = (cond: () => boolean, ms: number) =>
    Effect.gen(function* () {
      for (let waited = 0; !cond() && waited < ms; waited += 50) {
        yield* TestClock.adjust("50 millis")
        yield* realPause(10)
      }
    })

  it.scoped("a good edit replaces the rule set; a bad edit keeps the old one running and logs the error (TestClock)", () =>
    Effect.gen(function* () {
      const logs: string[] = []
      const dir = policyDir(rules)
      const stage = yield* makePolicyEngineStage({
        policies: dir,
        monitor: "local",
        "monitor.interval": "0",
        "monitor.debounce": "0.2"
      }).pipe(Effect.provide(captureLogs(logs)))
      expect(names((yield* stage.onChunk([shellRecord()]))[0])).toEqual(["Shell exec"])

      // Bad edit: a syntax error. The old rules keep working; the error names file:line:col.
      fs.writeFileSync(path.join(dir, "rules.yaml"), rules.replace("sf.type = PE and", "sf.type = = PE and"))
      yield* advanceUntil(() => logs.some((l) => l.startsWith("Keeping the running rule set")), 30_000)
      const stillOld = yield* stage.onChunk([shellRecord()]).pipe(Effect.provide(captureLogs(logs)))
      expect(names(stillOld[0])).toEqual(["Shell exec"])
      expect(logs.some((l) => /Policy reload failed: .*rules\.yaml:\d+:\d+: error: /.test(l))).toBe(true)

      // Good edit in a new file: the new rule appears.
      fs.writeFileSync(path.join(dir, "rules.yaml"), rules)
      fs.writeFileSync(path.join(dir, "extra.yml"), "- rule: Any exec\n  desc: d\n  condition: sf.opflags = EXEC\n  priority: medium\n")
      const swapped = yield* until(stage, shellRecord, (out) => out.length === 1 && names(out[0]).includes("Any exec"), 30_000).pipe(
        Effect.provide(captureLogs(logs))
      )
      expect(swapped).toBe(true)
    })
  )
})
