// Sigma evaluation cost alone: reads and flattens a trace (a file or a directory) chunk by chunk, and times
// only `evaluate` over each chunk, for the Sigma rule sets named on the command line (`rules[=config]`).
// Prints one JSON line per rule set: records, rules loaded, rules not loaded, engine seconds, records/s.
import { Effect } from "effect"
import { loadSigmaPolicies } from "../dist/index.js"
import { timedEvaluation } from "./timed-evaluation.js"

const [trace, ...sets] = process.argv.slice(2)

for (const spec of sets) {
  const [rules, config] = spec.split("=")
  const set = await Effect.runPromise(loadSigmaPolicies(rules, config))
  const notLoaded = set.warnings.filter((d) => d.severity === "error").length
  const { records, matched, seconds } = await timedEvaluation(set, trace)
  console.log(JSON.stringify({ set: rules, rules: set.enabledRuleCount, notLoaded, records, matched, seconds, recordsPerSec: records / seconds }))
}
