/**
 * A processor started from the built CLI that a test drives while it runs (signals, output waits), and
 * cleanup of the ones a failed test leaves running.
 */
import type { ChildProcess } from "node:child_process"
import { afterEach, expect } from "vitest"
import { type CliResult, runCli } from "../support/cli.js"

export interface Running {
  readonly result: Promise<CliResult>
  readonly signal: (s: NodeJS.Signals) => void
  readonly stdout: () => string
  readonly stderr: () => string
  /** Waits until `re` has matched `count` lines of stdout+stderr. */
  readonly waitForOutput: (re: RegExp, count?: number, timeoutMs?: number) => Promise<void>
}

/** Processors still running when a test ends (it failed half-way): killed so nothing is left behind. */
const live = new Set<ChildProcess>()
afterEach(() => {
  for (const c of live) c.kill("SIGKILL")
  live.clear()
})

export const startCli = (args: ReadonlyArray<string>): Running => {
  let out = ""
  let err = ""
  let child: ChildProcess | undefined
  let exited = false
  const result = runCli(args, {
    onSpawn: (c) => {
      child = c
      live.add(c)
      c.stdout?.on("data", (d: string) => (out += d))
      c.stderr?.on("data", (d: string) => (err += d))
    }
  }).finally(() => {
    exited = true
    if (child !== undefined) live.delete(child)
  })
  return {
    result,
    signal: (s) => child?.kill(s),
    stdout: () => out,
    stderr: () => err,
    waitForOutput: async (re, count = 1, timeoutMs = 15_000) => {
      const g = new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g")
      const deadline = Date.now() + timeoutMs
      while ((`${out}\n${err}`.match(g)?.length ?? 0) < count) {
        if (exited || Date.now() > deadline) {
          throw new Error(`no ${count}× ${re} in the output${exited ? " (the process exited)" : ""}:\n${out}\n${err}`)
        }
        await new Promise((r) => setTimeout(r, 20))
      }
    }
  }
}

/** Stops the processor with SIGINT; it must end promptly with exit 0. */
export const interrupt = async (run: Running): Promise<CliResult> => {
  const t0 = Date.now()
  run.signal("SIGINT")
  const res = await run.result
  expect(Date.now() - t0).toBeLessThan(5_000)
  expect(res.signal).toBeNull()
  expect(res.code).toBe(0)
  expect(res.stdout).toContain("Ctrl+C pressed in terminal")
  return res
}

