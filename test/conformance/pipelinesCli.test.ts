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

const pipelines = hasShared ? fs.readdirSync(sharedPath("conformance", "pipelines")).sort() : []

describe.skipIf(!hasShared)("the reference's pipelines load with -test", () => {
  for (const name of pipelines) {
    it(name, async () => {
      const args = ["-test", "-config", sharedPath("conformance", "pipelines", name)]
      // pipeline.otel.json has its own drivers block; the others need -driver.
      if (name !== "pipeline.otel.json") args.push("-driver", "file")
      const res = await runCli(args, {
        env: { POLICYENGINE_POLICIES: sharedPath("conformance", "policies", "runtimeintegrity") }
      })
      if (name === "pipeline.template.json") {
        // The template's values are descriptions ("number of engine threads (default is 5)"): Q20 makes
        // an unparseable concurrency a configuration error.
        expect(res.code).toBe(1)
        expect(res.stderr).toContain("policyengine: concurrency must be a positive integer, got 'number of engine threads (default is 5)'")
      } else if (res.code !== 0) {
        expect(res.code).toBe(1)
        expect(res.stderr).toMatch(/Unable to load pipeline error: {2}.*(not implemented yet|not supported by sfprocessor)/)
      }
      expect(res.stderr).not.toMatch(/internal error|TypeError|at .*\.js:\d+/)
    })
  }
})
