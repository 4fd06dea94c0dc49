/**
 * The policy monitor's timing on Effect's Clock, driven by TestClock (policy-language.md §8.6): the
 * debounce (a new set is compiled once changes have been quiet for `monitor.debounce`, each change
 * restarting the wait) and the interval (the engine switches to a newly compiled set at chunk
 * boundaries at most every `monitor.interval`). Changes are real file writes in a temp dir, seen through
 * fs.watch or the monitor's poll; only the policy clock is simulated.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Logger, TestClock } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import type { PolicyEvent } from "../../src/domain/policyEvent.js"
import { makePolicyEngineStage } from "../support/stages.js"
import { startPolicyMonitor } from "../../src/services/policy/PolicyMonitor.js"
import { tempDir } from "../support/cli.js"
import { bash, pe, proc } from "./fixtures.js"

const rule = (name: string, condition: string) => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  priority: low\n`
const shellRule = rule("Shell exec", "sf.type = PE and sf.proc.name = bash")

const policyDir = (text: string): string => {
  const dir = tempDir("sfp-mon-")
  fs.writeFileSync(path.join(dir, "rules.yaml"), text)
  return dir
}

/** Real time passing (filesystem events, file reads), outside the TestClock. */
const realPause = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

/** Waits (in real time) until `cond` holds; fails naming `what` after about 5 s. */
const eventually = (what: string, cond: () => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000 && !cond(); i++) yield* realPause(5)
    if (!cond()) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

/** Waits (in real time) until something sleeps until `at` on the TestClock. */
const sleepingUntil = (at: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < 1000; i++) {
      if (Chunk.some(yield* TestClock.sleeps(), (t) => t === at)) return
      yield* realPause(5)
    }
    return yield* Effect.die(new Error(`nothing sleeps until ${at}`))
  })

const captureLogs = (lines: string[]) =>
  Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void lines.push((Array.isArray(message) ? message : [message]).join(" "))))

describe("policy monitor timing (TestClock)", () => {
  it.scoped("compiles once changes have been quiet for the debounce period; a change restarts the wait", () =>
    Effect.gen(function* () {
      const dir = policyDir(shellRule)
      let compiles = 0
      yield* startPolicyMonitor({
        path: dir,
        initial: 0,
        debounce: Duration.seconds(10),
        compile: Effect.sync(() => ++compiles),
        onNewSet: () => Effect.void,
        onFailure: Effect.void
      })
      yield* sleepingUntil(10_000) // the first wait: a change, or the poll at 10 s
      yield* TestClock.adjust("1 second")
      fs.writeFileSync(path.join(dir, "rules.yaml"), shellRule + rule("Python", "sf.proc.name = python"))
      yield* sleepingUntil(11_000) // woken by the change: waits for 10 s of quiet
      yield* TestClock.adjust("4 seconds")
      fs.writeFileSync(path.join(dir, "extra.yml"), rule("Any exec", "sf.opflags = EXEC"))
      yield* sleepingUntil(15_000) // the second change restarts the quiet period
      yield* realPause(50) // late events of the same writes land before the clock moves on
      yield* TestClock.adjust("9999 millis")
      yield* realPause(50)
      expect(compiles).toBe(0)
      yield* TestClock.adjust("1 millis")
      yield* eventually("the compile at 15 s", () => compiles === 1)
      // Nothing changed since: the polls that follow compile nothing.
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("10 seconds")
        yield* realPause(20)
      }
      expect(compiles).toBe(1)
    })
  )

  it.scoped("the engine switches to a newly compiled set at most every monitor.interval, at a chunk boundary", () => {
    const logs: string[] = []
    return Effect.gen(function* () {
      const dir = policyDir(shellRule)
      const stage = yield* makePolicyEngineStage({ policies: dir, monitor: "local", "monitor.interval": "30", "monitor.debounce": "1" })
      const record = (): FlatRecord => pe({ process: proc({ exe: "/bin/bash", exeArgs: "-c id", parent: bash }) })
      const matched = (out: ReadonlyArray<PolicyEvent>) => out.flatMap((e) => e.rules.map((r) => r.name))
      const compiled = () => logs.filter((l) => l.startsWith("New rule set compiled")).length
      /** Moves the TestClock a second at a time until the monitor compiled its `n`th set. */
      const untilCompiled = (n: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < 20 && compiled() < n; i++) {
            yield* TestClock.adjust("1 second")
            yield* realPause(20)
          }
          yield* eventually(`compiled set ${n}`, () => compiled() >= n)
        })
      expect(matched(yield* stage.onChunk([record()]))).toEqual(["Shell exec"])

      // A change at t=0 compiles within seconds; the running set stays until 30 s after the start.
      fs.writeFileSync(path.join(dir, "extra.yml"), rule("Any exec", "sf.opflags = EXEC"))
      yield* untilCompiled(1)
      expect(yield* TestClock.currentTimeMillis).toBeLessThan(30_000)
      expect(matched(yield* stage.onChunk([record()]))).toEqual(["Shell exec"])
      yield* TestClock.adjust(29_999 - (yield* TestClock.currentTimeMillis))
      expect(matched(yield* stage.onChunk([record()]))).toEqual(["Shell exec"])
      yield* TestClock.adjust("1 millis")
      expect(matched(yield* stage.onChunk([record()]))).toEqual(["Any exec", "Shell exec"]) // extra.yml before rules.yaml: files load in name order

      // The next change, compiled right after the switch, waits for the next 30 s.
      fs.writeFileSync(path.join(dir, "extra.yml"), rule("Python", "sf.proc.name = python"))
      yield* untilCompiled(2)
      expect(yield* TestClock.currentTimeMillis).toBeLessThan(60_000)
      expect(matched(yield* stage.onChunk([record()]))).toEqual(["Any exec", "Shell exec"])
      yield* TestClock.adjust(59_999 - (yield* TestClock.currentTimeMillis))
      expect(matched(yield* stage.onChunk([record()]))).toEqual(["Any exec", "Shell exec"])
      yield* TestClock.adjust("1 millis")
      expect(matched(yield* stage.onChunk([record()]))).toEqual(["Shell exec"])
      expect(logs.filter((l) => l.startsWith("Policy engine reloaded"))).toHaveLength(2)
    }).pipe(Effect.provide(captureLogs(logs)))
  })
})
