// `npm run bench`: records/s, CPU seconds and peak RSS of sfprocessor pipelines on a generated trace,
// each as the median of BENCH_REPEAT runs (default 3), with the ratio to a raw Avro decode of the same
// file measured in the same run. Then peak RSS at 4x the input, to show memory stays flat.
//
//   BENCH_RECORDS   events in the generated input (default 1000000)
//   BENCH_REPEAT    runs per pipeline (default 3)
//   BENCH_MEMCHECK  0 to skip the 4x memory comparison
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { fileSink } from "../dist/services/avro/OcfWriter.js"
import { generateSyntheticTrace } from "../dist/services/trace/SampleTraces.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const work = path.join(root, ".bench")
fs.mkdirSync(work, { recursive: true })
const records = Number(process.env.BENCH_RECORDS ?? 1_000_000)
const repeat = Number(process.env.BENCH_REPEAT ?? 3)
const memcheck = process.env.BENCH_MEMCHECK !== "0"

/** Generates (once, cached by size) a synthetic trace; returns its path and datum count. */
const input = (events) => {
  const file = path.join(work, `synthetic-${events}.sf`)
  const meta = `${file}.json`
  if (!fs.existsSync(meta)) {
    process.stderr.write(`generating ${events} events into ${file} ...\n`)
    const sink = fileSink(file)
    // The generator closes the sink when it is done.
    const datums = generateSyntheticTrace(sink, { records: events, seed: 7 })
    fs.writeFileSync(meta, JSON.stringify({ datums }))
  }
  return { file, datums: JSON.parse(fs.readFileSync(meta, "utf8")).datums }
}

/** Runs a node script with the usage hook; returns wall/CPU/RSS as the process measured itself. */
const measure = (args) => {
  const usageFile = path.join(work, "usage.json")
  fs.rmSync(usageFile, { force: true })
  const res = spawnSync(process.execPath, ["--import", path.join(root, "bench", "usage-hook.js"), ...args], {
    cwd: work,
    env: { ...process.env, BENCH_USAGE_FILE: usageFile },
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 1 << 30
  })
  if (res.status !== 0) throw new Error(`${args.join(" ")} exited ${res.status}: ${res.stderr.toString().slice(-2000)}`)
  return { ...JSON.parse(fs.readFileSync(usageFile, "utf8")), stdout: res.stdout.toString() }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const sharedPolicies = path.resolve(root, "..", "shared", "conformance", "policies", "runtimeintegrity")
const hasShared = fs.existsSync(sharedPolicies)
const ourPolicies = path.join(root, "policies", "runtimeintegrity")

/** reader -> [policyengine(alert, policies)] -> exporter(...) */
const pipelineFile = (name, exporter, policies) => {
  const file = path.join(work, `${name}.json`)
  const reader = { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" }
  const engine = { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode: "alert", policies }
  const exp = { processor: "exporter", in: policies ? "evt eventchan" : "flat flattenerchan", format: "json", ...exporter }
  fs.writeFileSync(file, JSON.stringify({ pipeline: policies ? [reader, engine, exp] : [reader, exp] }))
  return file
}

const exportFile = { export: "file", "file.path": path.join(work, "export.out") }
const pipelines = [
  { name: "reader -> exporter(null, json)", config: pipelineFile("null", { export: "null" }) },
  { name: "reader -> exporter(file, json)", config: pipelineFile("file", exportFile) },
  { name: "reader -> policyengine(alert, ours) -> exporter(null)", config: pipelineFile("ours-null", { export: "null" }, ourPolicies) },
  ...(hasShared
    ? [
        { name: "reader -> policyengine(alert, conformance RI) -> exporter(null)", config: pipelineFile("ri-null", { export: "null" }, sharedPolicies) },
        { name: "reader -> policyengine(alert, conformance RI) -> exporter(file)", config: pipelineFile("ri-file", exportFile, sharedPolicies) }
      ]
    : [])
]

const bin = path.join(root, "bin", "sfprocessor.js")
const run = (target, times) => {
  const runs = Array.from({ length: times }, () => measure(target))
  return {
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.userMs + r.systemMs)),
    rssMiB: Math.max(...runs.map((r) => r.maxRssKiB)) / 1024,
    stdout: runs[0].stdout
  }
}

const { file, datums } = input(records)
console.log(`sfprocessor benchmark — ${os.cpus().length} CPUs, node ${process.version}`)
console.log(`input: ${path.relative(root, file)} — ${datums} Avro datums (${records} events), ${(fs.statSync(file).size / 2 ** 20).toFixed(1)} MiB deflate OCF`)
console.log(`median of ${repeat} runs; rate = datums / wall time; ratio = rate / floor rate\n`)

const floor = run([path.join(root, "bench", "decode-floor.js"), file], repeat)
if (Number(floor.stdout.trim()) !== datums) throw new Error(`floor decoded ${floor.stdout.trim()} datums, expected ${datums}`)
const rows = [{ name: "floor: raw Avro decode (avsc)", ...floor }]
for (const p of pipelines) rows.push({ name: p.name, ...run([bin, "-log", "error", "-config", p.config, "-driver", "file", file], repeat) })

const floorRate = datums / (floor.wallMs / 1000)
const pad = (s, n) => String(s).padEnd(n)
if (!hasShared) console.log("(../shared is absent: the conformance runtimeintegrity pipelines are skipped)\n")
const lpad = (s, n) => String(s).padStart(n)
console.log(`${pad("pipeline", 62)} ${lpad("records/s", 11)} ${lpad("wall s", 8)} ${lpad("CPU s", 8)} ${lpad("peak RSS MiB", 13)} ${lpad("vs floor", 9)}`)
for (const r of rows) {
  const rate = datums / (r.wallMs / 1000)
  console.log(
    `${pad(r.name, 62)} ${lpad(Math.round(rate).toLocaleString("en-US"), 11)} ${lpad((r.wallMs / 1000).toFixed(2), 8)} ${lpad((r.cpuMs / 1000).toFixed(2), 8)} ${lpad(r.rssMiB.toFixed(0), 13)} ${lpad((rate / floorRate).toFixed(2), 9)}`
  )
}

// The policy engine alone (evaluate only, timed inside the process), against the decode of the same file.
const sets = ["gen:10", "gen:100", "gen:500", ourPolicies, ...(hasShared ? [sharedPolicies] : [])]
const engine = measure([path.join(root, "bench", "policy-engine.js"), file, ...sets]).stdout.trim().split("\n").map((l) => JSON.parse(l))
console.log(`\n${pad("policy engine alone (evaluate)", 40)} ${lpad("rules", 6)} ${lpad("rule evals/s", 14)} ${lpad("records/s", 11)} ${lpad("engine s", 9)} ${lpad("engine/decode", 14)}`)
for (const e of engine) {
  const label = e.set.startsWith("gen:") ? `${e.set.slice(4)} generated rules` : e.set === ourPolicies ? "policies/runtimeintegrity (ours)" : "conformance runtimeintegrity"
  console.log(
    `${pad(label, 40)} ${lpad(e.rules, 6)} ${lpad(Math.round(e.evalsPerSec).toLocaleString("en-US"), 14)} ${lpad(Math.round(e.records / e.seconds).toLocaleString("en-US"), 11)} ${lpad(e.seconds.toFixed(2), 9)} ${lpad((e.seconds / (floor.wallMs / 1000)).toFixed(2), 14)}`
  )
}

if (memcheck) {
  const big = input(records * 4)
  const small = run([bin, "-log", "error", "-config", pipelines[1].config, "-driver", "file", file], 1)
  const large = run([bin, "-log", "error", "-config", pipelines[1].config, "-driver", "file", big.file], 1)
  console.log(`\nmemory: reader -> exporter(file, json) peak RSS ${small.rssMiB.toFixed(0)} MiB at ${datums} datums, ${large.rssMiB.toFixed(0)} MiB at ${big.datums} datums (${(large.rssMiB / small.rssMiB).toFixed(2)}x)`)
}
