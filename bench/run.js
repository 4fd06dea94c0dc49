// `npm run bench`: records/s, CPU seconds and peak RSS of sfprocessor pipelines on a generated trace,
// each as the median of BENCH_REPEAT runs (default 3), with the ratio to a raw Avro decode of the same
// file measured in the same run. Then peak RSS at 4x the input, to show memory stays flat.
//
// Input: the five shared traces (../shared/traces) replayed N times, as a directory of copies named
// rNNN_<trace> (repetition-major in name order) — the input the Go original was measured on — or, when
// ../shared is absent, a generated trace of about the same size.
//
//   BENCH_REPLAY    repetitions of the five traces (default 31: 2.0 M datums)
//   BENCH_RECORDS   events in the generated fallback input (default 1000000)
//   BENCH_REPEAT    runs per pipeline (default 3)
//   BENCH_MEMCHECK  0 to skip the memory comparison (N=5 vs N=31, or 1x vs 4x generated)
//   SIGMA_RULES     a directory of Sigma rules (e.g. a SigmaHQ checkout's rules/linux) for the Sigma table
//   SF_FALCO_RULES  falcosecurity/rules' falco_rules.yaml, to measure it with our runtimeintegrity set and in "many"
//   (the "workers auto" rows set SFPROCESSOR_WORKERS=auto: one file worker per core, docs/parallel.md)
import { spawn, spawnSync } from "node:child_process"
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
const replayN = Number(process.env.BENCH_REPLAY ?? 31)
const sharedTraces = path.resolve(root, "..", "shared", "traces")
const repeat = Number(process.env.BENCH_REPEAT ?? 3)
const memcheck = process.env.BENCH_MEMCHECK !== "0"

/** The replay directory of the five shared traces, N times (made once, cached by N). */
const replay = (n) => {
  const dir = path.join(work, `replay-${n}`)
  const meta = `${dir}.json`
  if (!fs.existsSync(meta)) {
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir)
    const traces = fs.readdirSync(sharedTraces).sort()
    for (let i = 0; i < n; i++) {
      for (const t of traces) fs.copyFileSync(path.join(sharedTraces, t), path.join(dir, `r${String(i).padStart(3, "0")}_${t}`))
    }
    const datums = Number(spawnSync(process.execPath, [path.join(root, "bench", "decode-floor.js"), dir]).stdout.toString().trim())
    fs.writeFileSync(meta, JSON.stringify({ datums }))
  }
  return { file: dir, datums: JSON.parse(fs.readFileSync(meta, "utf8")).datums, what: `${n} × the five shared traces` }
}

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
  return { file, datums: JSON.parse(fs.readFileSync(meta, "utf8")).datums, what: `generated, ${events} events` }
}

const useReplay = fs.existsSync(sharedTraces)
const inputOf = (scale) => (useReplay ? replay(scale === 1 ? replayN : 5) : input(scale === 1 ? records : records * 4))

/** Runs a node script with the usage hook; returns wall/CPU/RSS as the process measured itself. */
const measure = (args, env = {}) => {
  const usageFile = path.join(work, "usage.json")
  fs.rmSync(usageFile, { force: true })
  const res = spawnSync(process.execPath, ["--import", path.join(root, "bench", "usage-hook.js"), ...args], {
    cwd: work,
    env: { ...process.env, ...env, BENCH_USAGE_FILE: usageFile },
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
// The "workers" rows run the same pipelines with one file worker per core (docs/parallel.md).
const workers = { SFPROCESSOR_WORKERS: "auto" }
const pipelines = [
  { name: "reader -> exporter(null, json)", config: pipelineFile("null", { export: "null" }) },
  { name: "  the same, workers auto", config: pipelineFile("null", { export: "null" }), env: workers },
  { name: "reader -> exporter(file, json)", config: pipelineFile("file", exportFile) },
  { name: "reader -> policyengine(alert, ours) -> exporter(null)", config: pipelineFile("ours-null", { export: "null" }, ourPolicies) },
  ...(hasShared
    ? [
        { name: "reader -> policyengine(alert, conformance RI) -> exporter(null)", config: pipelineFile("ri-null", { export: "null" }, sharedPolicies) },
        { name: "reader -> policyengine(alert, conformance RI) -> exporter(file)", config: pipelineFile("ri-file", exportFile, sharedPolicies) },
        { name: "  the same, workers auto", config: pipelineFile("ri-file", exportFile, sharedPolicies), env: workers }
      ]
    : [])
]

const bin = path.join(root, "bin", "sfprocessor.js")
const run = (target, times, env) => {
  const runs = Array.from({ length: times }, () => measure(target, env))
  return {
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.userMs + r.systemMs)),
    rssMiB: Math.max(...runs.map((r) => r.maxRssKiB)) / 1024,
    stdout: runs[0].stdout
  }
}

const { file, datums, what } = inputOf(1)
const size = (p) => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).reduce((n, f) => n + fs.statSync(path.join(p, f)).size, 0) : fs.statSync(p).size)
console.log(`sfprocessor benchmark — ${os.cpus().length} CPUs, node ${process.version}`)
console.log(`input: ${path.relative(root, file)} (${what}) — ${datums} Avro datums, ${(size(file) / 2 ** 20).toFixed(1)} MiB deflate OCF`)
console.log(`median of ${repeat} runs; rate = datums / wall time; ratio = rate / floor rate\n`)

const floor = run([path.join(root, "bench", "decode-floor.js"), file], repeat)
if (Number(floor.stdout.trim()) !== datums) throw new Error(`floor decoded ${floor.stdout.trim()} datums, expected ${datums}`)
const rows = [{ name: "floor: raw Avro decode (avsc)", ...floor }]
for (const p of pipelines) rows.push({ name: p.name, ...run([bin, "-log", "error", "-config", p.config, "-driver", "file", file], repeat, p.env) })

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

// File workers against one thread (the "workers auto" rows), and both against the Go original's rates
// measured on the same input and machine class (docs/performance.md: reader -> null ~53,000 records/s,
// runtimeintegrity -> file ~15,000-18,000).
const rateOf = (name) => {
  const i = rows.findIndex((r) => r.name === name)
  return i < 0 ? undefined : { one: datums / (rows[i].wallMs / 1000), two: datums / (rows[i + 1].wallMs / 1000) }
}
const nullRates = rateOf("reader -> exporter(null, json)")
const riRates = rateOf("reader -> policyengine(alert, conformance RI) -> exporter(file)")
const vsGo = (rate, lo, hi) => (lo === hi ? `${(rate / lo).toFixed(1)}x` : `${(rate / hi).toFixed(1)}-${(rate / lo).toFixed(1)}x`)
console.log("")
console.log(`reader -> null: one thread ${vsGo(nullRates.one, 53_000, 53_000)} the Go original; workers auto ${(nullRates.two / nullRates.one).toFixed(2)}x of one thread (${vsGo(nullRates.two, 53_000, 53_000)} Go)`)
if (riRates !== undefined) {
  console.log(`runtimeintegrity -> file: one thread ${vsGo(riRates.one, 15_000, 18_000)} the Go original; workers auto ${(riRates.two / riRates.one).toFixed(2)}x of one thread (${vsGo(riRates.two, 15_000, 18_000)} Go)`)
}

// What the machine gives a memory-bound workload on two cores: two one-thread processes, each on half of
// the files, at the same time, against one on all of them (docs/parallel.md, "Cost").
if (fs.statSync(file).isDirectory()) {
  const halves = [0, 1].map((h) => {
    const dir = path.join(work, `half-${h}`)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir)
    fs.readdirSync(file).sort().forEach((f, i) => i % 2 === h && fs.symlinkSync(path.join(file, f), path.join(dir, f)))
    return dir
  })
  const nullConfig = pipelines[0].config
  const started = process.hrtime.bigint()
  const both = halves.map((dir) =>
    new Promise((resolve) => spawn(process.execPath, [bin, "-log", "error", "-config", nullConfig, "-driver", "file", dir], { stdio: "ignore", env: { ...process.env, SFPROCESSOR_WORKERS: "1" } }).on("exit", resolve))
  )
  await Promise.all(both)
  const bothMs = Number(process.hrtime.bigint() - started) / 1e6
  console.log(`machine: two one-thread processes on half of the files each, at once: ${(bothMs / 1000).toFixed(2)} s; one on all of them: ${(rows[1].wallMs / 1000).toFixed(2)} s (${(rows[1].wallMs / bothMs).toFixed(2)}x)`)
}

// The policy engine alone (evaluate only, timed inside the process), against the decode of the same input
// timed in that process (bench/policy-engine.js: medians of passes alternating floor and set, after a warm-up
// pass).
const sets = [
  "gen:10",
  "gen:100",
  "gen:500",
  ourPolicies,
  ...(hasShared ? [sharedPolicies] : []),
  ...(process.env.SF_FALCO_RULES ? [`falco+${ourPolicies}`] : []),
  "many"
]
// One process per set, as a processor loads one set (see bench/policy-engine.js).
const engine = sets.flatMap((set) =>
  measure([path.join(root, "bench", "policy-engine.js"), file, set]).stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l))
)
console.log(`\n${pad("policy engine alone (evaluate)", 40)} ${lpad("rules", 6)} ${lpad("rules/rec", 10)} ${lpad("rule evals/s", 14)} ${lpad("records/s", 11)} ${lpad("engine s", 9)} ${lpad("floor s", 8)} ${lpad("engine/floor", 13)} ${lpad("CPU", 5)}`)
for (const e of engine) {
  const label = e.set.startsWith("gen:")
    ? `${e.set.slice(4)} generated rules`
    : e.set === ourPolicies
      ? "policies/runtimeintegrity (ours)"
      : e.set.startsWith("falco+")
        ? "falco_rules.yaml + runtimeintegrity"
        : e.set === "many"
          ? `every set at hand (${e.files} files)`
          : "conformance runtimeintegrity"
  console.log(
    `${pad(label, 40)} ${lpad(e.rules, 6)} ${lpad(e.rulesPerRecord.toFixed(1), 10)} ${lpad(Math.round(e.evalsPerSec).toLocaleString("en-US"), 14)} ${lpad(Math.round(e.recordsPerSec).toLocaleString("en-US"), 11)} ${lpad(e.seconds.toFixed(2), 9)} ${lpad(e.floorSeconds.toFixed(2), 8)} ${lpad(e.ratio.toFixed(2), 13)} ${lpad(e.cpuRatio.toFixed(2), 5)}`
  )
}
console.log("(rules/rec: rules of the record's type/operation bucket, 0 when a filter drops it; floor: avsc decode in the same process; engine/floor and CPU (the same with CPU seconds): the median of each pass's ratio, one process per set, after a warm-up pass)")

// Sigma evaluation alone: the reference's shipped Sigma rules (with its sysflow.yml) and SIGMA_RULES.
const sharedSigma = path.resolve(root, "..", "shared", "conformance", "policies", "sigma")
const sigmaSets = [
  ...(fs.existsSync(sharedSigma) ? [`${path.join(sharedSigma, "rules")}=${path.join(sharedSigma, "config", "sysflow.yml")}`] : []),
  ...(process.env.SIGMA_RULES ? [process.env.SIGMA_RULES] : [])
]
if (sigmaSets.length > 0) {
  const sigma = measure([path.join(root, "bench", "sigma-engine.js"), file, ...sigmaSets]).stdout.trim().split("\n").map((l) => JSON.parse(l))
  console.log(`\n${pad("sigma engine alone (evaluate)", 40)} ${lpad("rules", 6)} ${lpad("not loaded", 11)} ${lpad("records/s", 11)} ${lpad("engine s", 9)} ${lpad("engine/decode", 14)}`)
  for (const e of sigma) {
    const label = e.set.startsWith(sharedSigma) ? "conformance sigma (51 rules)" : `SIGMA_RULES ${path.basename(path.dirname(e.set))}/${path.basename(e.set)}`
    console.log(
      `${pad(label, 40)} ${lpad(e.rules, 6)} ${lpad(e.notLoaded, 11)} ${lpad(Math.round(e.recordsPerSec).toLocaleString("en-US"), 11)} ${lpad(e.seconds.toFixed(2), 9)} ${lpad((e.seconds / (floor.wallMs / 1000)).toFixed(2), 14)}`
    )
  }
} else console.log("\n(no Sigma rules: ../shared is absent and SIGMA_RULES is not set)")

if (memcheck) {
  // Same pipeline, two input sizes: peak RSS must not grow with the input.
  const other = inputOf(useReplay ? 5 : 4)
  const [small, large] = useReplay ? [other, { file, datums }] : [{ file, datums }, other]
  const fileJson = pipelines.find((p) => p.name === "reader -> exporter(file, json)").config
  const a = run([bin, "-log", "error", "-config", fileJson, "-driver", "file", small.file], 1)
  const b = run([bin, "-log", "error", "-config", fileJson, "-driver", "file", large.file], 1)
  console.log(`\nmemory: reader -> exporter(file, json) peak RSS ${a.rssMiB.toFixed(0)} MiB at ${small.datums} datums, ${b.rssMiB.toFixed(0)} MiB at ${large.datums} datums (${(b.rssMiB / a.rssMiB).toFixed(2)}x)`)
}

// The NATS fleet tier (bench/nats.js, docs/nats.md): edge publish and central consume -> evaluate ->
// export rates; a note instead when nats-server is not installed.
const nats = spawnSync(process.execPath, [path.join(root, "bench", "nats.js")], { cwd: root, stdio: "inherit" })
if (nats.status !== 0) console.log(`\nnats: bench/nats.js exited ${nats.status ?? nats.signal}`)
