// The NATS fleet tier (docs/nats.md), in records/s: an edge publishing a trace to JetStream, and central
// processors consuming it (nats driver -> policy engine, alert mode, runtime-integrity rules -> JSON file),
// one alone and two sharing the consumer; each next to the single-node run it stands for. Starts its own
// nats-server -js on a free loopback port with a temporary store; without nats-server on PATH it prints a
// note and exits 0. It measures; it judges nothing.
//
//   node bench/nats.js               (after npm run build; bench/run.js runs it as its last section)
//   BENCH_NATS_RECORDS  events in the generated trace (default 1000000: smaller, start-up hides scaling)
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { fileSink } from "../dist/services/avro/OcfWriter.js"
import { generateSyntheticTrace } from "../dist/services/trace/SampleTraces.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bin = path.join(root, "bin", "sfprocessor.js")
const work = path.join(root, ".bench")
const events = Number(process.env.BENCH_NATS_RECORDS ?? 1_000_000)

const natsServer = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" }).stdout.trim()
if (natsServer === "") {
  console.log("\nnats: skipped (nats-server is not installed; apt-get install nats-server)")
  process.exit(0)
}

fs.mkdirSync(work, { recursive: true })
const trace = path.join(work, `nats-synthetic-${events}.sf`)
if (!fs.existsSync(trace)) generateSyntheticTrace(fileSink(trace), { records: events, seed: 9 })

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer()
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-bench-nats-"))
const port = await freePort()
const url = `nats://127.0.0.1:${port}`
const server = spawn(natsServer, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", path.join(tmp, "store")], { stdio: "ignore" })
for (let i = 0; ; i++) {
  const ok = await new Promise((resolve) => net.connect(port, "127.0.0.1").once("connect", function () { this.destroy(); resolve(true) }).once("error", () => resolve(false)))
  if (ok) break
  if (i > 200) throw new Error("nats-server did not start")
  await sleep(50)
}

const policies = path.join(root, "policies", "runtimeintegrity")
const reader = { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" }
const engine = (out) => [
  { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode: "alert", policies },
  { processor: "exporter", in: "evt eventchan", export: "file", format: "json", "file.path": out }
]
const write = (name, pipeline) => {
  const file = path.join(tmp, name)
  fs.writeFileSync(file, JSON.stringify(pipeline))
  return file
}

/** Runs the CLI to its end; wall seconds and the summary's records. */
const timed = (config, input) => {
  const t = performance.now()
  const res = spawnSync(process.execPath, [bin, "-config", config, "-driver", "file", input], { encoding: "utf8", maxBuffer: 1 << 28 })
  const seconds = (performance.now() - t) / 1000
  if (res.status !== 0) throw new Error(`exit ${res.status}: ${res.stdout}${res.stderr}`)
  const exported = Number((res.stdout + res.stderr).match(/([\d,]+) exported/)?.[1].replace(/,/g, "") ?? NaN)
  return { seconds, exported }
}

const nc = await connect({ servers: url })
const jsm = await jetstreamManager(nc)
const consumerState = async (name) => {
  try {
    const c = await jsm.consumers.info("SYSFLOW", name)
    return c.num_pending + c.num_ack_pending
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** N central processors on one consumer: seconds from their start until it is drained. */
const centrals = async (n, consumer) => {
  const t = performance.now()
  const procs = Array.from({ length: n }, (_, i) =>
    spawn(process.execPath, [bin, "-log", "error", "-config", write(`central-${consumer}-${i}.json`, {
      drivers: [{ driver: "nats", out: "flat flattenerchan", "nats.url": url, "nats.consumer": consumer }],
      pipeline: engine(path.join(tmp, `central-${consumer}-${i}.out`))
    }), "nats"], { stdio: "ignore" })
  )
  while ((await consumerState(consumer)) > 0) await sleep(50)
  const seconds = (performance.now() - t) / 1000
  await Promise.all(procs.map((p) => new Promise((r) => { p.once("exit", r); p.kill("SIGTERM") })))
  return seconds
}

try {
  const fmt = (n) => Math.round(n).toLocaleString("en-US").padStart(10)
  const single = timed(write("single.json", { pipeline: [reader, { processor: "exporter", in: "flat flattenerchan", export: "file", format: "json", "file.path": path.join(tmp, "single.out") }] }), trace)
  const singleEval = timed(write("single-eval.json", { pipeline: [reader, ...engine(path.join(tmp, "single-eval.out"))] }), trace)
  const edge = timed(write("edge.json", { pipeline: [reader, { processor: "exporter", in: "flat flattenerchan", export: "nats", "nats.url": url }] }), trace)
  const records = edge.exported
  const info = await jsm.streams.info("SYSFLOW")
  const one = await centrals(1, "bench1")
  const two = await centrals(2, "bench2")
  console.log(`\nnats (${natsServer}, JetStream file store on ${os.tmpdir()}): ${records} flat records of a generated trace, ${info.state.messages} messages, ${(info.state.bytes / records).toFixed(0)} bytes/record in the stream`)
  console.log(`${"".padEnd(64)} ${"records/s".padStart(10)} ${"wall s".padStart(7)}`)
  const row = (name, n, s) => console.log(`${name.padEnd(64)} ${fmt(n / s)} ${s.toFixed(2).padStart(7)}`)
  row("single node: reader -> exporter(file, json)", single.exported, single.seconds)
  row("edge: reader -> exporter(nats)", records, edge.seconds)
  row("single node: reader -> policy engine -> exporter(file)", records, singleEval.seconds)
  row("central x1: nats driver -> policy engine -> exporter(file)", records, one)
  row("central x2 (one consumer): nats driver -> policy engine -> file", records, two)
} finally {
  await nc.close()
  server.kill("SIGTERM")
  fs.rmSync(tmp, { recursive: true, force: true })
}
