/**
 * Shared by the rsyslog end-to-end suites: running the built CLI with a reader -> exporter(syslog, json)
 * pipeline, parsing what rsyslog stored, and the traces with what the file exporter writes for them.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { expect } from "vitest"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { appNameOf } from "../../src/services/export/transports/syslog/Rfc5424.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import type { Rsyslog } from "../support/rsyslog.js"
import { binPath, type CliResult, fileExportPipeline, lines, projectRoot, runCli, type RunOptions, tempDir, writePipeline } from "../support/cli.js"

export const SAMPLE = path.join(projectRoot, "resources", "traces", "sample.sf")
export const SAMPLE_RECORDS = 74
/** APP-NAME of the CLI as the tests run it (`node <projectRoot>/bin/sfprocessor.js`). */
export const APP_NAME = appNameOf(binPath)
export const SOURCE = "sf-e2e-host"

/** A parsed RFC 5424 line as rsyslog stored it (%rawmsg%: what we sent, without the LF). */
export interface Received {
  readonly pri: string
  readonly version: string
  readonly timestamp: string
  readonly hostname: string
  readonly appName: string
  readonly procId: string
  readonly msgId: string
  readonly msg: string
}

const LINE = /^<(\d+)>(\d+) (\S+) (\S+) (\S+) (\S+) (\S+) - (.*)$/

export const parse = (line: string): Received => {
  const m = LINE.exec(line)
  if (m === null) throw new Error(`not an RFC 5424 line of ours: ${line.slice(0, 120)}`)
  return { pri: m[1], version: m[2], timestamp: m[3], hostname: m[4], appName: m[5], procId: m[6], msgId: m[7], msg: m[8] }
}

/** The messages of one test (each test uses its own tag, the MSGID field). */
export const tagged = (tag: string) => (all: string[]) => all.filter((l) => l.split(" ", 6)[5] === tag)

export const syslogPipeline = (attrs: Record<string, unknown>) => ({
  pipeline: [
    { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
    { processor: "exporter", in: "flat flattenerchan", export: "syslog", format: "json", "syslog.source": SOURCE, ...attrs }
  ]
})

/** Runs the CLI on `trace` (or `-test`) with a syslog exporter configured by `attrs`; also returns its pid. */
export const runSyslog = async (attrs: Record<string, unknown>, trace: string, options: RunOptions & { test?: boolean } = {}) => {
  const dir = tempDir("sf-syslog-")
  let pid = 0
  const args = [...(options.test ? ["-test"] : []), "-config", writePipeline(dir, syslogPipeline(attrs)), "-driver", "file", ...(options.test ? [] : [trace])]
  const res = await runCli(args, {
    ...options,
    onSpawn: (child) => {
      pid = child.pid ?? 0
      options.onSpawn?.(child)
    }
  })
  return { ...res, pid }
}

export const explain = (res: CliResult) => `exit ${res.code}\nstdout:\n${res.stdout.slice(-3000)}\nstderr:\n${res.stderr.slice(-3000)}`

export interface Trace {
  readonly path: string
  /** The file exporter's JSON lines for it: the MSG of each syslog message, in order. */
  readonly expected: string[]
}

/** Generates a synthetic trace of `records` records and exports it with the file exporter. */
export const makeTrace = async (dir: string, records: number, seed: number): Promise<Trace> => {
  const trace = path.join(dir, `t${records}-${seed}.sf`)
  generateSyntheticTrace(fileSink(trace), { records, seed })
  const out = path.join(dir, `t${records}-${seed}.jsonl`)
  const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out), `file-${records}-${seed}.json`), "-driver", "file", trace])
  if (res.code !== 0) throw new Error(explain(res))
  const expected = lines(out)
  if (expected.length !== records) throw new Error(`the file export of ${trace} has ${expected.length} lines, not ${records}`)
  return { path: trace, expected }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Bytes received and not yet read by the process listening on `port`: its established TCP sockets' receive queues. */
export const receiveQueue = (port: number): number => {
  let total = 0
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(table)) continue
    for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/)
      // local_address (ip:port, hex), rem_address, st (01 = ESTABLISHED), tx_queue:rx_queue (hex)
      if (f.length < 5 || f[3] !== "01" || parseInt(f[1].split(":")[1], 16) !== port) continue
      total += parseInt(f[4].split(":")[1], 16)
    }
  }
  return total
}

/**
 * Streams `trace` through the CLI and restarts `server` mid-stream (SIGTERM, 300 ms down, start again on
 * the same port); then checks that every record arrived (duplicates allowed: the replay window) and that
 * the CLI said what happened. Mid-stream for sure, however busy the machine: the server is paused
 * (SIGSTOP) as soon as the CLI starts reading its trace (its connection is up by then), and stopped only
 * once the CLI's messages fill the paused server's receive queue, so the sender is blocked with most of
 * the trace still to send. (Waiting for rsyslog to write the first message instead raced: on a loaded
 * machine rsyslog had read the whole stream into its own queue before it wrote the first line.)
 */
export const restartMidStream = async (server: Rsyslog, attrs: Record<string, unknown>, tag: string, trace: Trace) => {
  const port = Number(attrs["syslog.port"])
  let reading: () => void = () => {}
  const started = new Promise<void>((resolve) => (reading = resolve))
  const cli = runSyslog({ ...attrs, "syslog.tag": tag }, trace.path, {
    onSpawn: (child) => {
      let out = ""
      child.stdout?.on("data", (d: string | Buffer) => {
        out += d.toString()
        if (/ file: Reading trace file /.test(out)) reading()
      })
    }
  })
  await Promise.race([started, cli])
  server.pause()
  for (let i = 0; i < 1000 && receiveQueue(port) < 64 * 1024; i++) await sleep(10)
  const queued = receiveQueue(port)
  await server.stop()
  await sleep(300)
  await server.start()
  const res = await cli
  expect(queued, `the paused server's receive queue (${queued} bytes) never filled: ${explain(res)}`).toBeGreaterThanOrEqual(64 * 1024)
  expect(res.code, explain(res)).toBe(0)
  const got = await server.waitFor(trace.expected.length, 15_000, tagged(tag))
  const msgs = new Set(got.map((l) => parse(l).msg))
  expect(msgs.size).toBe(trace.expected.length)
  expect(msgs).toEqual(new Set(trace.expected))
  // The sender lost its connection with messages still waiting, and came back.
  expect(res.stdout).toMatch(/\[Warn\] .* syslog: cannot deliver to \w+:\/\/[\w.]+:\d+: .*; reconnecting with backoff \(\d+ messages waiting\)/)
  expect(res.stdout).toMatch(/\[Info\] .* syslog: connected to \w+:\/\/[\w.]+:\d+ again/)
  return { duplicates: got.length - msgs.size }
}
