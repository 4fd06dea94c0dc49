// Sigma evaluation cost alone: reads and flattens a trace (a file or a directory) chunk by chunk, and times
// only `evaluate` over each chunk, for the Sigma rule sets named on the command line (`rules[=config]`).
// Prints one JSON line per rule set: records, rules loaded, rules not loaded, engine seconds, records/s.
import { Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { evaluate, loadSigmaPolicies, readTraceRecords } from "../dist/index.js"

const [trace, ...sets] = process.argv.slice(2)

for (const spec of sets) {
  const [rules, config] = spec.split("=")
  const set = await Effect.runPromise(loadSigmaPolicies(rules, config))
  const notLoaded = set.warnings.filter((d) => d.severity === "error").length
  let records = 0
  let matched = 0
  let ns = 0n
  const files = fs.statSync(trace).isDirectory() ? fs.readdirSync(trace).sort().map((n) => path.join(trace, n)) : [trace]
  await Effect.runPromise(
    Stream.fromIterable(files).pipe(
      Stream.flatMap((f) => readTraceRecords(f)),
      Stream.runForEach((chunk) =>
        Effect.sync(() => {
          const t0 = process.hrtime.bigint()
          for (const r of chunk) if (evaluate(set, r).matches.length > 0) matched++
          ns += process.hrtime.bigint() - t0
          records += chunk.length
        })
      )
    )
  )
  const seconds = Number(ns) / 1e9
  console.log(JSON.stringify({ set: rules, rules: set.enabledRuleCount, notLoaded, records, matched, seconds, recordsPerSec: records / seconds }))
}
