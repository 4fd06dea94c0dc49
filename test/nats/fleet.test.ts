/**
 * The fleet tier against a real nats-server -js: an edge publishes a trace, two central processors share
 * a durable consumer (nats driver → policy engine → JSON and ECS files), and together they write exactly
 * the alerts of a single-node run; a central killed mid-stream loses nothing (its messages are
 * redelivered and counted); the metrics and /healthz show the NATS side; errors at load and -test.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { runCli, tempDir, writePipeline } from "../support/cli.js"
import { describeNats, type NatsServer, startNatsServer } from "../support/natsServer.js"
import { hasShared, sharedPath } from "../support/shared.js"
import {
  alertStages,
  edgePipeline,
  eventually,
  metricValue,
  natsDriverBlock,
  type Processor,
  reader,
  scrape,
  sortedLines,
  startProcessor,
  streamState,
  writePolicies
} from "./support.js"

const output = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr

/** Alerts of a single-node run (reader → engine → JSON and ECS files). */
const singleNode = async (dir: string, policies: string, input: string) => {
  const json = path.join(dir, "single.json.out")
  const ecs = path.join(dir, "single.ecs.out")
  const res = await runCli(["-config", writePipeline(dir, { pipeline: [reader, ...alertStages(policies, json, ecs)] }, "single.json"), "-driver", "file", input])
  expect(res.code, output(res)).toBe(0)
  return { json: sortedLines(json), ecs: sortedLines(ecs) }
}

const publish = async (dir: string, url: string, input: string, name: string) => {
  const res = await runCli(["-config", writePipeline(dir, edgePipeline(url), `${name}.json`), "-driver", "file", input])
  expect(res.code, output(res)).toBe(0)
}

/** A central processor writing its alerts to `<name>.json.out` and `<name>.ecs.out`. */
const central = (dir: string, url: string, policies: string, name: string, extra: Record<string, unknown> = {}) => {
  const pipeline = {
    drivers: [natsDriverBlock(url, "central", extra)],
    pipeline: alertStages(policies, path.join(dir, `${name}.json.out`), path.join(dir, `${name}.ecs.out`))
  }
  // No -driver and no input path: the drivers block names the nats driver.
  return startProcessor(["-config", writePipeline(dir, pipeline, `${name}.json`)])
}

const drained = (url: string) => eventually("the consumer drained", () => streamState(url, "central"), (s) => s.pending === 0 && s.ackPending === 0, 45_000)

const stop = async (p: Processor) => {
  p.child.kill("SIGTERM")
  const res = await p.done
  expect(res.code, output(res)).toBe(0)
  return res
}

describeNats("nats driver: a fleet with two central processors", () => {
  let server: NatsServer
  let dir: string
  let policies: string
  beforeAll(async () => {
    server = await startNatsServer()
    dir = tempDir()
    policies = writePolicies(dir)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("edge → stream → two centrals: together they write the alerts of a single-node run (JSON and ECS), each acknowledged once", async () => {
    const traces = path.join(dir, "traces")
    fs.mkdirSync(traces)
    generateSyntheticTrace(fileSink(path.join(traces, "a.sf")), { records: 12_000, seed: 11 })
    generateSyntheticTrace(fileSink(path.join(traces, "b.sf")), { records: 6_000, seed: 12 })
    const inputs = [traces, ...(hasShared ? [sharedPath("traces")] : [])]
    const expected = { json: [] as string[], ecs: [] as string[] }
    for (const [i, input] of inputs.entries()) {
      const single = await singleNode(path.join(dir), policies, input)
      expected.json.push(...single.json)
      expected.ecs.push(...single.ecs)
      await publish(dir, server.url, input, `edge${i}`)
    }
    expected.json.sort()
    expected.ecs.sort()
    expect(expected.json.length).toBeGreaterThan(1000)
    const { messages } = await streamState(server.url)

    const a = central(dir, server.url, policies, "c1")
    const b = central(dir, server.url, policies, "c2")
    const [ea, eb] = [await a.endpoint(), await b.endpoint()]
    const health = await scrape(ea, "/healthz")
    expect(health.status).toBe(200)
    expect(health.text).toMatch(/nats driver.*connected to/s)
    await drained(server.url)
    const metrics = [await scrape(ea, "/metrics"), await scrape(eb, "/metrics")].map((m) => m.text)
    const sum = (name: string) => metrics.reduce((n, t) => n + metricValue(t, name), 0)
    expect(sum("sfprocessor_nats_acknowledged_messages_total")).toBe(messages)
    expect(sum("sfprocessor_nats_received_messages_total")).toBe(messages)
    expect(sum("sfprocessor_nats_redelivered_messages_total")).toBe(0)
    expect(sum("sfprocessor_nats_in_flight_messages")).toBe(0)
    // The load was shared.
    for (const t of metrics) expect(metricValue(t, "sfprocessor_nats_received_messages_total")).toBeGreaterThan(0)
    await stop(a)
    await stop(b)

    expect(sortedLines(path.join(dir, "c1.json.out"), path.join(dir, "c2.json.out"))).toEqual(expected.json)
    expect(sortedLines(path.join(dir, "c1.ecs.out"), path.join(dir, "c2.ecs.out"))).toEqual(expected.ecs)
  }, 120_000)

  it("a central killed mid-stream (SIGKILL) and restarted: every alert is written, the only duplicates are redeliveries, and they are counted", async () => {
    const trace = path.join(dir, "big.sf")
    generateSyntheticTrace(fileSink(trace), { records: 30_000, seed: 21 })
    const expected = await singleNode(dir, policies, trace)
    await publish(dir, server.url, trace, "edge-big")

    const extra = { "nats.ackwait": "2" }
    const a = central(dir, server.url, policies, "k1", extra)
    const b = central(dir, server.url, policies, "k2", extra)
    const ea = await a.endpoint()
    await eventually("the first central acknowledged messages", () => scrape(ea, "/metrics"), (m) => metricValue(m.text, "sfprocessor_nats_acknowledged_messages_total") > 0)
    const state = await streamState(server.url, "central")
    expect(state.pending + state.ackPending).toBeGreaterThan(0)
    a.child.kill("SIGKILL")
    await a.done
    const a2 = central(dir, server.url, policies, "k3", extra)
    const ea2 = await a2.endpoint()
    const eb = await b.endpoint()
    await drained(server.url)
    const metrics = [await scrape(ea2, "/metrics"), await scrape(eb, "/metrics")].map((m) => m.text)
    const redelivered = metrics.reduce((n, t) => n + metricValue(t, "sfprocessor_nats_redelivered_messages_total"), 0)
    expect(redelivered).toBeGreaterThan(0)
    await stop(a2)
    await stop(b)

    // The killed central may have cut its last line: only whole documents count.
    const whole = (ls: string[]) => ls.filter((l) => l.endsWith("}"))
    for (const format of ["json", "ecs"] as const) {
      const got = whole(sortedLines(...["k1", "k2", "k3"].map((n) => path.join(dir, `${n}.${format}.out`))))
      const counts = new Map<string, number>()
      for (const l of got) counts.set(l, (counts.get(l) ?? 0) + 1)
      for (const l of expected[format]) expect(counts.has(l), `missing ${format} alert ${l.slice(0, 200)}`).toBe(true)
      expect(new Set(got).size).toBe(new Set(expected[format]).size)
      // Duplicates come only from redelivered messages (each holds at most one chunk of records).
      expect(got.length - expected[format].length).toBeLessThanOrEqual(redelivered * 2048)
    }
  }, 120_000)

  it("clear errors at load and under -test: a stream that does not exist, a bad URL, a missing consumer name", async () => {
    const run = async (block: Record<string, unknown>, name: string) => {
      const file = writePipeline(dir, { drivers: [block], pipeline: [{ processor: "exporter", in: "flat flattenerchan", export: "null" }] }, name)
      const tested = await runCli(["-config", file, "-test"])
      const loaded = await runCli(["-config", file])
      expect(tested.code).toBe(1)
      expect(loaded.code).toBe(1)
      return [output(tested), output(loaded)]
    }
    for (const out of await run(natsDriverBlock(server.url, "central", { "nats.stream": "NOPE" }), "nostream.json")) {
      expect(out).toContain(`stream 'NOPE' does not exist at ${server.url}`)
    }
    for (const out of await run(natsDriverBlock("nats://127.0.0.1:1", "central"), "badurl.json")) {
      expect(out).toContain("cannot connect to NATS at nats://127.0.0.1:1")
    }
    const { "nats.consumer": _, ...noConsumer } = natsDriverBlock(server.url, "central")
    for (const out of await run(noConsumer, "noconsumer.json")) expect(out).toMatch(/drivers\[0\] \(nats\).*nats\.consumer/)
  })

  it("a plugin processor in a central's pipeline is refused at load and under -test: its messages could never be acknowledged", async () => {
    const plugdir = path.resolve("plugins/processors/example")
    const file = writePipeline(dir, { drivers: [natsDriverBlock(server.url, "central")], pipeline: [{ processor: "example", in: "flat flattenerchan" }] }, "plugin.json")
    for (const args of [["-test"], []]) {
      const res = await runCli(["-config", file, "-plugdir", plugdir, ...args])
      expect(res.code, output(res)).toBe(1)
      expect(output(res)).toContain("driver 'nats' acknowledges a message once every exporter delivered its records, which plugin stages cannot report: example cannot run in its pipeline")
    }
  })
})
