/**
 * Every pipeline the reference ships loads with `sfprocessor -test`: it validates (exit 0), or it
 * fails on a feature sfprocessor does not have (yet) with a clear message, never with a crash or an
 * unrelated error. The policy path is pointed at the shared policies, as a user would with
 * POLICYENGINE_POLICIES.
 */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { runCli } from "../support/cli.js"
import { hasShared, sharedPath } from "../support/shared.js"

/**
 * What `-test` says for each shipped pipeline on a machine without its targets: it loads, or it stops
 * on something the user must fix, with a clear message (never a crash).
 */
const expected: Record<string, { code: number; stderr?: RegExp }> = {
  // syslog over TCP to localhost:514: connected at init (P5), nothing listens here.
  "pipeline.distribution.json": { code: 1, stderr: /cannot connect to the syslog server at tcp:\/\/localhost:514/ },
  // Elasticsearch at https://localhost:9200: the health check cannot reach it.
  "pipeline.elk.json": { code: 1, stderr: /Health checks for plugin exporter failed: .*localhost:9200/ },
  // The obsolete findings pipeline says export es without an index (P17).
  "pipeline.findings.json": { code: 1, stderr: /es\.index is required with export 'es'/ },
  // syslog over UDP: nothing to connect to; it loads.
  "pipeline.local.json": { code: 0 },
  // Its own drivers block selects otelkafka, which sfprocessor does not support (decisions §8).
  "pipeline.otel.json": { code: 1, stderr: /not supported by sfprocessor/ },
  // Values are descriptions ("on|off (default: off)"): every key's value is checked, the reader's first.
  "pipeline.template.json": {
    code: 1,
    stderr: /pipeline\[0\] \(sysflowreader\): filter\.enabled = "on\|off \(default: off\)": must be on or off; filter\.maxage = "time decay in minutes \(default: 24H\)": must be a whole number/
  },
  "pipeline.terminal.json": { code: 0 }
}

const pipelines = hasShared ? fs.readdirSync(sharedPath("conformance", "pipelines")).sort() : []

describe.skipIf(!hasShared)("the reference's pipelines load with -test", () => {
  it("every shipped pipeline has an expectation", () => {
    expect(pipelines).toEqual(Object.keys(expected).sort())
  })

  for (const name of pipelines) {
    it(name, async () => {
      const args = ["-test", "-log", "error", "-config", sharedPath("conformance", "pipelines", name)]
      // pipeline.otel.json has its own drivers block; the others need -driver.
      if (name !== "pipeline.otel.json") args.push("-driver", "file")
      const res = await runCli(args, {
        env: { POLICYENGINE_POLICIES: sharedPath("conformance", "policies", "runtimeintegrity") }
      })
      const want = expected[name]
      expect(res.code).toBe(want.code)
      if (want.stderr !== undefined) {
        expect(res.stderr).toMatch(/Unable to load pipeline error: {2}/)
        expect(res.stderr).toMatch(want.stderr)
      }
      expect(res.stderr).not.toMatch(/internal error|TypeError|at .*\.js:\d+/)
    })
  }
})
