/**
 * Helpers for the NATS tests: edge and central pipeline files, long-running processors with their
 * /metrics endpoint, and a look at the stream and the consumer through the official client.
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { binPath, type CliResult, projectRoot } from "../support/cli.js"

export const reader = { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" }

/** Edge: reader → exporter(nats). */
export const edgePipeline = (url: string, extra: Record<string, unknown> = {}) => ({
  pipeline: [reader, { processor: "exporter", in: "flat flattenerchan", export: "nats", "nats.url": url, ...extra }]
})

/** A policy that matches a good share of the synthetic traces' records, on names, ancestry and flows. */
export const TEST_POLICY = `- rule: Program activity
  desc: records of some programs, by name and ancestry
  condition: sf.proc.name in (nginx, node, python3) or sf.proc.aname contains java
  output: activity of %sf.proc.name (%sf.proc.cmdline) under %sf.proc.aname in %sf.proc.cwd
  priority: medium
  tags: [test]
- rule: Low ports
  desc: network flows to a low port
  condition: sf.type = NF and sf.net.dport < 2000
  output: flow %sf.net.sip -> %sf.net.dip:%sf.net.dport
  priority: high
`

/** Policies: the runtime-integrity set and TEST_POLICY, in a directory. */
export const writePolicies = (dir: string): string => {
  const policies = path.join(dir, "policies")
  fs.mkdirSync(policies, { recursive: true })
  const ri = path.join(projectRoot, "policies", "runtimeintegrity")
  for (const f of fs.readdirSync(ri)) fs.copyFileSync(path.join(ri, f), path.join(policies, f))
  fs.writeFileSync(path.join(policies, "90-test.yaml"), TEST_POLICY)
  return policies
}

/** Alerts as JSON and ECS: policy engine (alert mode) → tee → two file exporters. */
export const alertStages = (policies: string, json: string, ecs: string) => [
  { processor: "policyengine", in: "flat flattenerchan", out: ["evtj eventchan", "evte eventchan"], mode: "alert", policies },
  { processor: "exporter", in: "evtj eventchan", export: "file", format: "json", "file.path": json },
  { processor: "exporter", in: "evte eventchan", export: "file", format: "ecs", "file.path": ecs }
]

export const natsDriverBlock = (url: string, consumer: string, extra: Record<string, unknown> = {}) => ({
  driver: "nats",
  out: "flat flattenerchan",
  "nats.url": url,
  "nats.stream": "SYSFLOW",
  "nats.consumer": consumer,
  "nats.subject": "sysflow.>",
  ...extra
})

export interface Processor {
  readonly child: ChildProcess
  readonly output: () => string
  readonly waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>
  readonly done: Promise<CliResult>
  /** The /metrics and /healthz base URL (SFPROCESSOR_METRICS=127.0.0.1:0). */
  readonly endpoint: () => Promise<string>
}

/** Starts the CLI and keeps it running; its /metrics endpoint listens on a free port. */
export const startProcessor = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): Processor => {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: projectRoot,
    env: { ...process.env, SFPROCESSOR_METRICS: "127.0.0.1:0", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const done = new Promise<CliResult>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })))
  const output = () => stdout + stderr
  const waitFor = async (re: RegExp, ms = 20_000) => {
    const until = Date.now() + ms
    for (;;) {
      const m = output().match(re)
      if (m !== null) return m
      if (child.exitCode !== null || Date.now() > until) throw new Error(`no ${re} in the processor's output:\n${output()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const endpoint = async () => (await waitFor(/Serving \/metrics and \/healthz on (http:\/\/127\.0\.0\.1:\d+)/))[1]
  return { child, output, waitFor, done, endpoint }
}

/** A metric's value (summed over its label sets), from the Prometheus text. */
export const metricValue = (text: string, name: string): number => {
  let sum = 0
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1))
  }
  return sum
}

export const scrape = async (base: string, what: "/metrics" | "/healthz"): Promise<{ status: number; text: string }> => {
  const res = await fetch(`${base}${what}`)
  return { status: res.status, text: await res.text() }
}

/**
 * Waits until `check` holds (polling), or fails with what it last saw. A `get` that throws counts as
 * "not yet" (the stream may not exist until the processor has created it), and its error is what
 * the failure reports.
 */
export const eventually = async <A>(what: string, get: () => Promise<A>, check: (a: A) => boolean, ms = 30_000): Promise<A> => {
  const until = Date.now() + ms
  for (;;) {
    let seen: string
    try {
      const a = await get()
      if (check(a)) return a
      seen = `still ${JSON.stringify(a)}`
    } catch (e) {
      seen = `failed: ${e instanceof Error ? e.message : String(e)}`
    }
    if (Date.now() > until) throw new Error(`${what}: ${seen}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The stream's message count, and the consumer's pending and unacknowledged counts (when it exists). */
export const streamState = async (url: string, consumer?: string) => {
  const nc = await connect({ servers: url })
  try {
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info("SYSFLOW")
    const c = consumer === undefined ? undefined : await jsm.consumers.info("SYSFLOW", consumer)
    return { messages: info.state.messages, pending: c?.num_pending ?? 0, ackPending: c?.num_ack_pending ?? 0, redelivered: c?.num_redelivered ?? 0 }
  } finally {
    await nc.close()
  }
}

/** Every message of the stream, in order: its headers and body. */
export const streamMessages = async (url: string, stream = "SYSFLOW") => {
  const nc = await connect({ servers: url })
  try {
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info(stream)
    const out: Array<{ headers: Record<string, string>; data: Uint8Array }> = []
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq })
      const headers: Record<string, string> = {}
      for (const k of m!.header?.keys() ?? []) headers[k] = m!.header.get(k)
      out.push({ headers, data: m!.data })
    }
    return out
  } finally {
    await nc.close()
  }
}

/** Sorted lines of files (a multiset, whichever central wrote them). */
export const sortedLines = (...files: ReadonlyArray<string>): Array<string> =>
  files.flatMap((f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter((l) => l !== "") : [])).sort()
