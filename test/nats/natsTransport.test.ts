/**
 * `export: nats` against a real nats-server -js: what lands in the stream (the documents of a file
 * export, and every record in the flat wire format, each message under its own id), a server restart
 * while the edge publishes (nothing lost, exit 0, retries counted), and the load errors (`-test` too).
 */
import { jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { decodeFlatWire } from "../../src/services/export/transports/nats/FlatWire.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { fileExportPipeline, lines, runCli, tempDir, writePipeline } from "../support/cli.js"
import { describeNats, freePort, type NatsServer, startNatsServer } from "../support/natsServer.js"
import { edgePipeline, eventually, metricValue, scrape, startProcessor, streamMessages, streamState } from "./support.js"

const output = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr

/** The documents and the decoded records of every message of a stream. */
const published = async (url: string, stream = "SYSFLOW") => {
  const msgs = await streamMessages(url, stream)
  const docs: string[] = []
  let records = 0
  for (const m of msgs) {
    const n = Number(m.headers["Sfp-Docs-Bytes"])
    docs.push(...Buffer.from(m.data.subarray(0, n)).toString("utf8").split("\n").filter((l) => l !== ""))
    const flat = decodeFlatWire(m.data.subarray(n))
    expect(flat.length).toBe(Number(m.headers["Sfp-Records"]))
    records += flat.length
  }
  return { msgs, docs, records, ids: new Set(msgs.map((m) => m.headers["Nats-Msg-Id"])) }
}

describeNats("nats exporter", () => {
  let server: NatsServer
  beforeAll(async () => {
    server = await startNatsServer()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("publishes a trace: the documents of a file export (json and ecs) and every record as flat records, each message under its own id", async () => {
    const dir = tempDir()
    const trace = path.join(dir, "trace.sf")
    generateSyntheticTrace(fileSink(trace), { records: 8_000, seed: 3 })
    for (const format of ["json", "ecs"]) {
      const single = path.join(dir, `single.${format}`)
      expect((await runCli(["-config", writePipeline(dir, fileExportPipeline(single, { format }), `single-${format}.json`), "-driver", "file", trace])).code).toBe(0)
      const stream = `EDGE_${format.toUpperCase()}`
      const edge = writePipeline(dir, edgePipeline(server.url, { format, "nats.documents": "true", "nats.stream": stream, "nats.subject": `edge.${format}` }), `edge-${format}.json`)
      const res = await runCli(["-config", edge, "-driver", "file", trace])
      expect(res.code, output(res)).toBe(0)
      expect(output(res)).toContain(`Created stream '${stream}' capturing 'edge.${format}'`)
      const { msgs, docs, records, ids } = await published(server.url, stream)
      expect(docs).toEqual(lines(single))
      expect(records).toBe(docs.length)
      expect(ids.size).toBe(msgs.length)
      expect(msgs.every((m) => m.headers["Sfp-Format"] === format && m.headers["Sfp-Wire"] === "flat/1")).toBe(true)
    }
  }, 90_000)

  it("by default a message holds the flat records alone (the exporter encodes no documents)", async () => {
    const dir = tempDir()
    const trace = path.join(dir, "trace.sf")
    generateSyntheticTrace(fileSink(trace), { records: 5_000, seed: 5 })
    const single = path.join(dir, "single.jsonl")
    expect((await runCli(["-config", writePipeline(dir, fileExportPipeline(single), "single.json"), "-driver", "file", trace])).code).toBe(0)
    const res = await runCli(["-config", writePipeline(dir, edgePipeline(server.url, { "nats.stream": "FLAT", "nats.subject": "edge.flat" })), "-driver", "file", trace])
    expect(res.code, output(res)).toBe(0)
    const { msgs, docs, records } = await published(server.url, "FLAT")
    expect(docs).toEqual([])
    expect(records).toBe(lines(single).length)
    expect(msgs.every((m) => m.headers["Sfp-Docs-Bytes"] === "0" && m.headers["Sfp-Format"] === undefined)).toBe(true)
    // A chunk's records fit one message.
    expect(msgs.length).toBeLessThan(records / 1000)
  })

  it("a server restart while the edge publishes: every record lands once, the edge waits, retries and exits 0", async () => {
    const dir = tempDir()
    const trace = path.join(dir, "trace.sf")
    generateSyntheticTrace(fileSink(trace), { records: 12_000, seed: 4, blockSize: 500 })
    const single = path.join(dir, "single.jsonl")
    expect((await runCli(["-config", writePipeline(dir, fileExportPipeline(single), "single.json"), "-driver", "file", trace])).code).toBe(0)
    const fifo = path.join(dir, "trace.fifo")
    execFileSync("mkfifo", [fifo])
    const edge = startProcessor(["-config", writePipeline(dir, edgePipeline(server.url, { "nats.documents": "true" })), "-driver", "file", fifo])
    const base = await edge.endpoint()
    const bytes = fs.readFileSync(trace)
    const writer = fs.createWriteStream(fifo)
    const half = Math.floor(bytes.length / 2)
    writer.write(bytes.subarray(0, half))
    await eventually("messages in the stream", () => streamState(server.url), (s) => s.messages > 0)
    const before = await scrape(base, "/metrics")
    expect(metricValue(before.text, "sfprocessor_nats_published_messages_total")).toBeGreaterThan(0)

    await server.stop()
    writer.write(bytes.subarray(half))
    await edge.waitFor(/publish to 'sysflow\.records' failed .*retrying/)
    const down = await scrape(base, "/healthz")
    expect(down.status).toBe(503)
    expect(down.text).toMatch(/exporter nats.*publishing is retried/s)
    // The publish being retried is in flight; the retries are counted.
    const during = await scrape(base, "/metrics")
    expect(metricValue(during.text, "sfprocessor_nats_in_flight_messages")).toBeGreaterThan(0)
    expect(metricValue(during.text, "sfprocessor_nats_publish_retries_total")).toBeGreaterThan(0)
    await server.start()
    await new Promise<void>((resolve) => writer.end(resolve))
    const res = await edge.done
    expect(res.code, output(res)).toBe(0)

    const { docs, records } = await published(server.url)
    expect(records).toBe(lines(single).length)
    expect(docs).toEqual(lines(single))
  }, 90_000)

  it("clear errors at load and under -test: a bad URL, an unreachable server, bad credentials, missing permissions, a stream that does not capture the subject", async () => {
    const dir = tempDir()
    const trace = path.join(dir, "trace.sf")
    generateSyntheticTrace(fileSink(trace), { records: 10, seed: 1 })
    const run = async (pipeline: unknown, name: string) => {
      const file = writePipeline(dir, pipeline, name)
      const tested = await runCli(["-config", file, "-driver", "file", "-test"])
      const loaded = await runCli(["-config", file, "-driver", "file", trace])
      expect(tested.code).toBe(1)
      expect(loaded.code).toBe(1)
      return [output(tested), output(loaded)]
    }
    for (const out of await run(edgePipeline("http://127.0.0.1:4222"), "scheme.json")) {
      expect(out).toContain('nats.url = "http://127.0.0.1:4222": must be a nats:// URL or a comma-separated list of them')
    }
    const closed = await freePort()
    for (const out of await run(edgePipeline(`nats://127.0.0.1:${closed}`), "closed.json")) {
      expect(out).toContain(`cannot connect to NATS at nats://127.0.0.1:${closed}`)
    }

    // Credentials: from the key, or from the vault (never shown).
    const secured = await startNatsServer({ args: ["--user", "edge", "--pass", "s3cret-pw"] })
    try {
      for (const out of await run(edgePipeline(secured.url, { "nats.user": "edge", "nats.password": "wrong-pw" }), "creds.json")) {
        expect(out).toContain(`NATS at ${secured.url} refused the credentials (nats.user/nats.password)`)
        expect(out).not.toContain("wrong-pw")
      }
      const vault = path.join(dir, "vault")
      fs.mkdirSync(vault)
      fs.writeFileSync(path.join(vault, "nats.password"), "s3cret-pw\n")
      const ok = await runCli(["-config", writePipeline(dir, edgePipeline(secured.url, { "nats.user": "edge", "vault.secrets": "true", "vault.path": vault }), "vault.json"), "-driver", "file", "-test"])
      expect(ok.code, output(ok)).toBe(0)
    } finally {
      await secured.stop()
    }

    // Missing permissions: the JetStream API (at load), the subject (at the first publish: exit 1).
    const restricted = await startNatsServer({
      config: 'authorization { users = [ { user: "nojs", password: "pw", permissions: { publish: { deny: ["$JS.API.>"] } } }, { user: "nopub", password: "pw", permissions: { publish: { deny: ["sysflow.>"] } } } ] }'
    })
    try {
      for (const out of await run(edgePipeline(restricted.url, { "nats.user": "nojs", "nats.password": "pw" }), "nojs.json")) {
        expect(out).toContain(`NATS at ${restricted.url}: permission denied: Permissions Violation for Publish to "$JS.API.INFO"`)
      }
      const res = await runCli(["-config", writePipeline(dir, edgePipeline(restricted.url, { "nats.user": "nopub", "nats.password": "pw" }), "nopub.json"), "-driver", "file", trace])
      expect(res.code).toBe(1)
      expect(output(res)).toContain(`Pipeline failed:  nats: NATS at ${restricted.url}: permission denied: Permissions Violation for Publish to "sysflow.records"`)
    } finally {
      await restricted.stop()
    }

    // A stream that exists and does not capture the exporter's subject.
    const nc = await connect({ servers: server.url })
    await (await jetstreamManager(nc)).streams.add({ name: "OTHER", subjects: ["other.>"] })
    await nc.close()
    for (const out of await run(edgePipeline(server.url, { "nats.stream": "OTHER" }), "other.json")) {
      expect(out).toContain(`stream 'OTHER' at ${server.url} does not capture subject 'sysflow.records' (its subjects: other.>)`)
    }
  })
})
