// Policy engine cost alone: reads and flattens a trace (a file or a directory) chunk by chunk, and times only `evaluate` over
// each chunk, for the rule sets named on the command line (a path, or gen:N for N generated rules).
// Prints one JSON line per rule set: records, rules, engine seconds, rule evaluations per second.
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { loadPolicies } from "../dist/index.js"
import { timedEvaluation } from "./timed-evaluation.js"

const [trace, ...sets] = process.argv.slice(2)

/** N rules of the shapes real rule sets use: names, lists, prefixes, substrings, relations. */
const generated = (n) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-bench-rules-"))
  let text = "- list: bench_tools\n  items: [nmap, masscan, socat, ncat, tcpdump, strace, gdb]\n"
  for (let i = 0; i < n; i++) {
    const shape = i % 5
    const cond = [
      `sf.proc.name = prog${i} and sf.file.path startswith /opt/app${i}/`,
      `sf.opflags = EXEC and sf.proc.name in (bench_tools) and sf.proc.args contains "--rule${i}"`,
      `sf.type = NF and sf.net.dport = ${1000 + i} and sf.container.id != ""`,
      `sf.file.path pmatch (/etc/app${i}, /var/lib/app${i}) and sf.proc.uid > ${i}`,
      `sf.proc.exe endswith /bin/tool${i} or sf.pproc.name = parent${i}`
    ][shape]
    text += `- rule: bench rule ${i}\n  desc: generated rule ${i}\n  condition: ${cond}\n  priority: low\n`
  }
  fs.writeFileSync(path.join(dir, "rules.yaml"), text)
  return dir
}

for (const spec of sets) {
  const policyPath = spec.startsWith("gen:") ? generated(Number(spec.slice(4))) : spec
  const set = await Effect.runPromise(loadPolicies(policyPath))
  const { records, matched, seconds } = await timedEvaluation(set, trace)
  console.log(JSON.stringify({ set: spec, rules: set.enabledRuleCount, records, matched, seconds, evalsPerSec: (records * set.enabledRuleCount) / seconds }))
}
