// Policy engine cost alone, against the decode floor measured in the same process: reads and flattens a
// trace (a file or a directory) chunk by chunk and times only `evaluate` over each chunk, for each rule set
// named on the command line; each pass also times a raw Avro decode of the same input (bench/decode-floor.js).
// Passes alternate floor and sets, so both see the same machine load; medians are printed, and the ratios
// are the medians of each pass's ratio (set ÷ that pass's floor). A first pass is
// not counted: it pays for warming up (V8 compiling the hot code, the index's buckets and the straight-line
// code built on first use, the per-process results), which a processor pays once at start. `npm run bench`
// runs one process per set, as a processor loads one set: sets sharing a process share the leaf tests'
// code, and one set's shapes slow down the next one's.
//
//   node bench/policy-engine.js TRACE SET...
//
// A SET is a policy path (file or directory), gen:N (N generated rules), falco+PATH (falcosecurity/rules'
// falco_rules.yaml, named by SF_FALCO_RULES, loaded before PATH), or `many`: every rule set at hand loaded
// together, in this order: SF_FALCO_RULES's falco_rules.yaml with falco-incubating_rules.yaml and
// falco-sandbox_rules.yaml beside it, policies/runtimeintegrity, and the conformance sets of
// ../shared/conformance/policies (runtimeintegrity, distribution, tests/falco.yaml). Missing parts are
// left out and named on stderr (the falcosecurity files are not in the repository).
//
//   BENCH_ENGINE_PASSES  passes counted, after the warm-up pass (default 5)
//
// Prints one JSON line per set: active rules, records, records dropped by filters, records matched, rules
// evaluated per record (the rules of the record's bucket in the type/operation index; 0 for a record a
// filter drops), engine and floor seconds (medians; wall, and CPU seconds of the process, which move less
// when other work shares the machine), their ratios, records/s and rule evaluations/s (records × rules per
// record / engine seconds; `nominalEvalsPerSec` counts every active rule for every record).
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { compilePolicies, listPolicyFiles, loadPolicies } from "../dist/index.js"
import { isDropped, rulesFor } from "../dist/services/policy/PolicySet.js"
import { decodeFloor } from "./decode-floor.js"
import { timedEvaluation } from "./timed-evaluation.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const conformance = path.resolve(root, "..", "shared", "conformance", "policies")
const [trace, ...specs] = process.argv.slice(2)
const passes = Number(process.env.BENCH_ENGINE_PASSES ?? 5)

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

/** The files of `paths` (files or directories) compiled as one set, in that order. */
const compileAll = async (paths) => {
  const files = []
  for (const p of paths) files.push(...(await Effect.runPromise(listPolicyFiles(p))))
  const r = compilePolicies(files.map((f) => ({ path: f, text: fs.readFileSync(f, "utf8") })))
  if (r._tag === "Left") throw new Error(r.left.message)
  return r.right
}

const falcoRules = () => {
  const falco = process.env.SF_FALCO_RULES
  return falco !== undefined && fs.existsSync(falco) ? falco : undefined
}

/** The parts of `many` that exist, and the names of those that do not. */
const manyParts = () => {
  const falco = falcoRules()
  const wanted = [
    ...(falco === undefined
      ? ["falco_rules.yaml (set SF_FALCO_RULES)"]
      : [falco, path.join(path.dirname(falco), "falco-incubating_rules.yaml"), path.join(path.dirname(falco), "falco-sandbox_rules.yaml")]),
    path.join(root, "policies", "runtimeintegrity"),
    path.join(conformance, "runtimeintegrity"),
    path.join(conformance, "distribution"),
    path.join(conformance, "tests", "falco.yaml")
  ]
  return { present: wanted.filter((p) => fs.existsSync(p)), missing: wanted.filter((p) => !fs.existsSync(p)) }
}

/** The compiled set of a spec, or undefined (with a note on stderr) when its files are absent. */
const setOf = async (spec) => {
  if (spec === "many") {
    const { present, missing } = manyParts()
    if (missing.length > 0) console.error(`many: without ${missing.join(", ")}`)
    return compileAll(present)
  }
  if (spec.startsWith("falco+")) {
    const falco = falcoRules()
    if (falco === undefined) {
      console.error(`${spec}: skipped (set SF_FALCO_RULES to falcosecurity/rules' falco_rules.yaml to measure it)`)
      return undefined
    }
    return compileAll([falco, spec.slice(6)])
  }
  return Effect.runPromise(loadPolicies(spec.startsWith("gen:") ? generated(Number(spec.slice(4))) : spec))
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const sets = []
for (const spec of specs) {
  const set = await setOf(spec)
  if (set !== undefined) sets.push({ spec, set, runs: [], dropped: 0, bucketed: 0 })
}

const floor = []
const floorCpu = []
let datums = 0
// Pass 0 warms up and is not counted.
for (let p = 0; p <= passes; p++) {
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  datums = await decodeFloor(trace)
  const c = process.cpuUsage(c0)
  if (p > 0) {
    floor.push(Number(process.hrtime.bigint() - t0) / 1e9)
    floorCpu.push((c.user + c.system) / 1e6)
  }
  for (const s of sets) {
    // The index statistics come from the warm-up pass, outside the timed part.
    const inspect =
      p > 0
        ? undefined
        : (chunk) => {
            for (const r of chunk) {
              if (isDropped(s.set, r)) s.dropped++
              else s.bucketed += rulesFor(s.set, r).length
            }
          }
    const run = await timedEvaluation(s.set, trace, inspect)
    if (p > 0) s.runs.push(run)
  }
}

const floorSeconds = median(floor)
const floorCpuSeconds = median(floorCpu)
for (const s of sets) {
  const { records, matched } = s.runs[0]
  const seconds = median(s.runs.map((r) => r.seconds))
  const cpuSeconds = median(s.runs.map((r) => r.cpuSeconds))
  const rulesPerRecord = s.bucketed / records
  console.log(
    JSON.stringify({
      set: s.spec,
      files: s.set.files.length,
      rules: s.set.enabledRuleCount,
      records,
      datums,
      dropped: s.dropped,
      matched,
      rulesPerRecord,
      seconds,
      floorSeconds,
      // Per pass, then the median: a pass's floor and set ran back to back, at the same machine speed.
      ratio: median(s.runs.map((r, i) => r.seconds / floor[i])),
      cpuSeconds,
      floorCpuSeconds,
      cpuRatio: median(s.runs.map((r, i) => r.cpuSeconds / floorCpu[i])),
      recordsPerSec: records / seconds,
      evalsPerSec: (records * rulesPerRecord) / seconds,
      nominalEvalsPerSec: (records * s.set.enabledRuleCount) / seconds
    })
  )
}
