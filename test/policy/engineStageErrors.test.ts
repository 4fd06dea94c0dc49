/**
 * A policy set that does not compile, as the policyengine processor reports it (issue 10 §6: a log
 * line is one line): with several errors, each is logged on its own line and the failure names the
 * first and the count; a single error is the failure itself.
 */
import { it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect } from "vitest"
import { makePolicyEngineStage } from "../support/stages.js"
import { tempDir } from "../support/cli.js"

const policyDir = (text: string): string => {
  const dir = tempDir("sfp-pol-")
  fs.writeFileSync(path.join(dir, "rules.yaml"), text)
  return dir
}

const rule = (name: string, condition: string) => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  priority: low\n`

describe("policyengine compile failures", () => {
  it.scopedLive("several errors: one log line each, and a one-line failure naming the first", () =>
    Effect.gen(function* () {
      const logs: string[] = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void logs.push((Array.isArray(message) ? message : [message]).join(" "))))
      const dir = policyDir(rule("a", "sf.proc.pid > abc") + rule("b", "sf.ts < 1e3"))
      const err = yield* Effect.flip(makePolicyEngineStage({ policies: dir }).pipe(Effect.provide(capture)))
      const file = path.join(dir, "rules.yaml")
      const first = `${file}:3:28: error: 'abc' is not an integer: 'sf.proc.pid > abc' needs a 64-bit integer (the reference compared sf.proc.pid with 0)`
      const second = `${file}:7:22: error: '1e3' is not an integer: 'sf.ts < 1e3' needs a 64-bit integer (the reference compared sf.ts with 0)`
      expect(logs.filter((l) => l.includes(": error: "))).toEqual([first, second])
      expect(err.message).toBe(`Unable to compile local policies from ${dir}: 2 errors (each logged above), the first: ${first}`)
    })
  )

  it.scopedLive("one error: the failure is that error", () =>
    Effect.gen(function* () {
      const dir = policyDir(rule("a", "sf.proc.pid > abc"))
      const err = yield* Effect.flip(makePolicyEngineStage({ policies: dir }))
      expect(err.message).toMatch(new RegExp(`^Unable to compile local policies from ${dir}: ${dir}/rules\\.yaml:3:28: error: 'abc' is not an integer`))
      expect(err.message).not.toContain("\n")
    })
  )
})
