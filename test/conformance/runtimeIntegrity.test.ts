/**
 * The reference's runtimeintegrity policy set, run by `sfprocessor` in alert mode over each shared
 * trace, against the reference's alerts (../shared/golden/<trace>.runtimeintegrity.jsonl.gz): the same
 * records, the same rules in the same order, byte for byte after our documented fixes. The rules that
 * fire per trace are printed as the conformance record.
 */
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { lines, runCli, tempDir, writePipeline } from "../support/cli.js"
import { applyFixes, goldenLines } from "../support/golden.js"
import { hasShared, sharedPath, sharedTraces } from "../support/shared.js"

const alertPipeline = (out: string) => ({
  pipeline: [
    { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
    {
      processor: "policyengine",
      in: "flat flattenerchan",
      out: "evt eventchan",
      mode: "alert",
      policies: sharedPath("conformance", "policies", "runtimeintegrity")
    },
    { processor: "exporter", in: "evt eventchan", export: "file", format: "json", "file.path": out }
  ]
})

const rulesFired = (jsonLines: ReadonlyArray<string>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const l of jsonLines) {
    for (const p of (JSON.parse(l) as { policies: Array<{ id: string }> }).policies) counts[p.id] = (counts[p.id] ?? 0) + 1
  }
  return counts
}

describe.skipIf(!hasShared)("runtimeintegrity policies over the shared traces", () => {
  for (const { name } of sharedTraces) {
    it(`${name}: the reference's alerts`, async () => {
      const dir = tempDir()
      const out = path.join(dir, "alerts.jsonl")
      const res = await runCli(["-log", "error", "-config", writePipeline(dir, alertPipeline(out)), "-driver", "file", sharedPath("traces", name)])
      expect(res.stderr).toBe("")
      expect(res.code).toBe(0)
      const ours = lines(out)
      const golden = goldenLines(`${name}.runtimeintegrity.jsonl.gz`).map(applyFixes)
      console.log(`${name}: ${ours.length} alerts; rules fired: ${JSON.stringify(rulesFired(ours))}`)
      expect(rulesFired(ours)).toEqual(rulesFired(golden))
      expect(ours).toEqual(golden)
    })
  }
})
