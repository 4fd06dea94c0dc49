// Policy engine cost alone: reads and flattens a trace (a file or a directory) chunk by chunk, and times only `evaluate` over
// each chunk, for the rule sets named on the command line (a path, gen:N for N generated rules, or falco+PATH for
// falcosecurity/rules' falco_rules.yaml, named by SF_FALCO_RULES, loaded together with PATH: the file is not in the
// repository, so without it the case is skipped with a note on stderr).
// Prints one JSON line per rule set: records, rules, engine seconds, rule evaluations per second.
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { compilePolicies, listPolicyFiles, loadPolicies } from "../dist/index.js"
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

/** SF_FALCO_RULES and the files of `other`, compiled as one set (falco_rules.yaml first); undefined without the file. */
const withFalcoRules = async (other) => {
  const falco = process.env.SF_FALCO_RULES
  if (falco === undefined || !fs.existsSync(falco)) {
    console.error(`falco+${other}: skipped (set SF_FALCO_RULES to falcosecurity/rules' falco_rules.yaml to measure it)`)
    return undefined
  }
  const files = [falco, ...(await Effect.runPromise(listPolicyFiles(other)))]
  const r = compilePolicies(files.map((f) => ({ path: f, text: fs.readFileSync(f, "utf8") })))
  if (r._tag === "Left") throw new Error(r.left.message)
  return r.right
}

for (const spec of sets) {
  const set = spec.startsWith("falco+")
    ? await withFalcoRules(spec.slice(6))
    : await Effect.runPromise(loadPolicies(spec.startsWith("gen:") ? generated(Number(spec.slice(4))) : spec))
  if (set === undefined) continue
  const { records, matched, seconds } = await timedEvaluation(set, trace)
  console.log(JSON.stringify({ set: spec, rules: set.enabledRuleCount, records, matched, seconds, evalsPerSec: (records * set.enabledRuleCount) / seconds }))
}
