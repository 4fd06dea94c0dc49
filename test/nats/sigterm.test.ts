/**
 * SIGTERM on a central processor whose output is slow (a FIFO nobody reads yet): it stops pulling,
 * drains what is in its pipeline once the output moves, acknowledges what it delivered and exits 0;
 * another central then gets the rest. Together they write every record exactly once.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { fileExportPipeline, runCli, tempDir, writePipeline } from "../support/cli.js"
import { describeNats, type NatsServer, startNatsServer } from "../support/natsServer.js"
import { edgePipeline, eventually, metricValue, natsDriverBlock, scrape, sortedLines, startProcessor, streamState } from "./support.js"

const output = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr

describeNats("nats driver: SIGTERM and health", () => {
  let server: NatsServer
  beforeAll(async () => {
    server = await startNatsServer()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("drains, acknowledges what it delivered and exits 0; the rest goes to the next central; nothing lost, nothing twice", async () => {
    const dir = tempDir()
    const trace = path.join(dir, "trace.sf")
    generateSyntheticTrace(fileSink(trace), { records: 20_000, seed: 31 })
    const single = path.join(dir, "single.jsonl")
    expect((await runCli(["-config", writePipeline(dir, fileExportPipeline(single), "single.json"), "-driver", "file", trace])).code).toBe(0)
    expect((await runCli(["-config", writePipeline(dir, edgePipeline(server.url), "edge.json"), "-driver", "file", trace])).code).toBe(0)

    const fifo = path.join(dir, "out.fifo")
    execFileSync("mkfifo", [fifo])
    const centralOf = (name: string, out: string) =>
      writePipeline(dir, {
        drivers: [natsDriverBlock(server.url, "central", { "nats.ackwait": "2" })],
        pipeline: [{ processor: "exporter", in: "flat flattenerchan", export: "file", format: "json", "file.path": out }]
      }, `${name}.json`)
    const a = startProcessor(["-config", centralOf("a", fifo)])
    const base = await a.endpoint()
    // The FIFO is opened for reading only now: until it is read, the exporter waits and messages stay in flight.
    const chunks: Buffer[] = []
    const readEnd = fs.createReadStream(fifo)
    readEnd.pause()
    await eventually("messages in flight", () => scrape(base, "/metrics"), (m) => metricValue(m.text, "sfprocessor_nats_in_flight_messages") > 0)
    a.child.kill("SIGTERM")
    await a.waitFor(/SIGTERM received/)
    readEnd.on("data", (d) => chunks.push(d as Buffer))
    readEnd.resume()
    const res = await a.done
    expect(res.code, output(res)).toBe(0)
    const first = path.join(dir, "a.jsonl")
    fs.writeFileSync(first, Buffer.concat(chunks))

    const b = startProcessor(["-config", centralOf("b", path.join(dir, "b.jsonl"))])
    await b.endpoint()
    await eventually("the consumer drained", () => streamState(server.url, "central"), (s) => s.pending === 0 && s.ackPending === 0, 45_000)
    b.child.kill("SIGTERM")
    expect((await b.done).code).toBe(0)
    expect(sortedLines(first).length).toBeGreaterThan(0)
    expect(sortedLines(first, path.join(dir, "b.jsonl"))).toEqual(sortedLines(single))
  }, 90_000)

  it("/healthz shows the NATS connection: connected, then reconnecting while the server is down, then connected again", async () => {
    const dir = tempDir()
    const central = startProcessor(["-config", writePipeline(dir, {
      drivers: [natsDriverBlock(server.url, "health")],
      pipeline: [{ processor: "exporter", in: "flat flattenerchan", export: "null" }]
    })])
    const base = await central.endpoint()
    const up = await scrape(base, "/healthz")
    expect(up.status).toBe(200)
    expect(up.text).toMatch(/nats driver.*nats: connected to/s)
    await server.stop()
    const down = await eventually("unhealthy", () => scrape(base, "/healthz"), (h) => h.status === 503)
    expect(down.text).toMatch(/nats driver.*nats: (disconnected from|reconnecting to)/s)
    await server.start()
    await eventually("healthy again", () => scrape(base, "/healthz"), (h) => h.status === 200)
    central.child.kill("SIGTERM")
    const res = await central.done
    expect(res.code, output(res)).toBe(0)
  }, 60_000)
})
