/**
 * The package's documented library surface, imported by its name as a user would (`sfprocessor`,
 * resolved through package.json "exports" to the build): compile policies and evaluate records read
 * from a trace, without any pipeline. This is the README's example.
 */
import { Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { tempDir } from "../support/cli.js"

describe("import from 'sfprocessor'", () => {
  it("compiles policies and evaluates the records of a trace", async () => {
    const sf = await import("sfprocessor")
    const dir = tempDir()
    const trace = path.join(dir, "t.sf")
    const w = sf.TraceWriter.toFile(trace)
    w.header({ exporter: "lib-test" })
    const sh = w.process({ pid: 7n, exe: "/bin/sh", exeArgs: "-c id" })
    w.processEvent({ proc: sh, opFlags: sf.OpFlag.EXEC })
    w.fileFlow({ proc: sh, file: "/etc/passwd", opFlags: sf.OpFlag.OPEN | sf.OpFlag.READ_RECV })
    w.close()

    const policies = sf.compilePolicies([
      { path: "inline.yaml", text: "- rule: Shell\n  desc: a shell ran\n  condition: sf.proc.name = sh and sf.opflags = EXEC\n  priority: high\n" }
    ])
    const set = await Effect.runPromise(policies)
    const alerts: string[] = []
    await Effect.runPromise(
      sf.readTraceRecords(trace).pipe(
        Stream.runForEach((records) =>
          Effect.sync(() => {
            for (const r of records) {
              const e = sf.evaluate(set, r)
              if (sf.shouldEmit(e, "alert")) alerts.push(sf.encodeJsonEvent({ record: r, rules: e.matches, tags: [] }, "5"))
            }
          })
        )
      )
    )
    expect(alerts.length).toBe(1)
    expect(JSON.parse(alerts[0])).toMatchObject({ type: "PE", proc: { exe: "/bin/sh" }, policies: [{ id: "Shell", priority: 3 }] })
    expect(fs.existsSync(trace)).toBe(true)
  })
})
