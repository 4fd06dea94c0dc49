/**
 * Shared by the rsyslog end-to-end suites: running the built CLI with a reader -> exporter(syslog, json)
 * pipeline, parsing what rsyslog stored, and the traces with what the file exporter writes for them.
 */
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

/**
 * Streams `trace` through the CLI and restarts `server` (SIGTERM, 300 ms down, start again on the same
 * port) as soon as it has written messages of `tag` (the sender is then well ahead of what rsyslog wrote:
 * the trace must be long enough for the stop to come mid-stream); then checks that every record arrived
 * (duplicates allowed: the replay window) and that the CLI said what happened.
 */
export const restartMidStream = async (server: Rsyslog, attrs: Record<string, unknown>, tag: string, trace: Trace) => {
  const cli = runSyslog({ ...attrs, "syslog.tag": tag }, trace.path)
  let seen = 0
  for (let i = 0; i < 1000 && seen === 0; i++) {
    await sleep(10)
    seen = tagged(tag)(server.messages()).length
  }
  await server.stop()
  const atStop = tagged(tag)(server.messages()).length
  await sleep(300)
  await server.start()
  const res = await cli
  expect(res.code, explain(res)).toBe(0)
  const got = await server.waitFor(trace.expected.length, 15_000, tagged(tag))
  const msgs = new Set(got.map((l) => parse(l).msg))
  expect(msgs.size).toBe(trace.expected.length)
  expect(msgs).toEqual(new Set(trace.expected))
  // It really was mid-stream: the sender lost its connection with messages still waiting (counting what
  // rsyslog had written at the stop is not proof under load: its own queue may lag the socket).
  expect(res.stdout).toMatch(/\[Warn\] .* syslog: cannot deliver to \w+:\/\/[\w.]+:\d+: .*; reconnecting with backoff \(\d+ messages waiting\)/)
  expect(res.stdout).toMatch(/\[Info\] .* syslog: connected to \w+:\/\/[\w.]+:\d+ again/)
  return { atStop, duplicates: got.length - msgs.size }
}
