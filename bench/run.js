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

const pipelineFile = (name, exporter) => {
  const file = path.join(work, `${name}.json`)
  fs.writeFileSync(
    file,
    JSON.stringify({
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        { processor: "exporter", in: "flat flattenerchan", format: "json", ...exporter }
      ]
    })
  )
  return file
}

const pipelines = [
  { name: "reader -> exporter(null, json)", config: pipelineFile("null", { export: "null" }) },
  { name: "reader -> exporter(file, json)", config: pipelineFile("file", { export: "file", "file.path": path.join(work, "export.out") }) }
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
const lpad = (s, n) => String(s).padStart(n)
console.log(`${pad("pipeline", 36)} ${lpad("records/s", 11)} ${lpad("wall s", 8)} ${lpad("CPU s", 8)} ${lpad("peak RSS MiB", 13)} ${lpad("vs floor", 9)}`)
for (const r of rows) {
  const rate = datums / (r.wallMs / 1000)
  console.log(
    `${pad(r.name, 36)} ${lpad(Math.round(rate).toLocaleString("en-US"), 11)} ${lpad((r.wallMs / 1000).toFixed(2), 8)} ${lpad((r.cpuMs / 1000).toFixed(2), 8)} ${lpad(r.rssMiB.toFixed(0), 13)} ${lpad((rate / floorRate).toFixed(2), 9)}`
  )
}

if (memcheck) {
  const big = input(records * 4)
  const small = run([bin, "-log", "error", "-config", pipelines[1].config, "-driver", "file", file], 1)
  const large = run([bin, "-log", "error", "-config", pipelines[1].config, "-driver", "file", big.file], 1)
  console.log(`\nmemory: reader -> exporter(file, json) peak RSS ${small.rssMiB.toFixed(0)} MiB at ${datums} datums, ${large.rssMiB.toFixed(0)} MiB at ${big.datums} datums (${(large.rssMiB / small.rssMiB).toFixed(2)}x)`)
}
