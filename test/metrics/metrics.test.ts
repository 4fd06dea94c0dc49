/**
 * Metrics and health (issue "Operable and trustworthy"): Prometheus text rendered from Effect's
 * metrics, and the HTTP endpoint during a real run of the CLI.
 */
import { Effect, Metric } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { endpointUrl, isWildcardHost, parseListenAddress } from "../../src/services/metrics/MetricsServer.js"
import { renderPrometheus } from "../../src/services/metrics/Prometheus.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { projectRoot, runCli, tempDir, writePipeline } from "../support/cli.js"

describe("Prometheus text", () => {
  it("renders counters and gauges with their tags as labels, HELP and TYPE once per name", async () => {
    const c = Metric.counter("test_things_total", { description: "things seen", incremental: true })
    const g = Metric.gauge("test_depth", { description: "queue depth" })
    const text = await Effect.runPromise(
      Effect.gen(function* () {
        yield* Metric.incrementBy(Metric.tagged(c, "stage", "reader"), 5)
        yield* Metric.incrementBy(Metric.tagged(c, "stage", 'ex"p'), 2)
        yield* Metric.set(Metric.tagged(g, "channel", "flat"), 3)
        return renderPrometheus(yield* Metric.snapshot)
      })
    )
    expect(text).toContain('# HELP test_things_total things seen\n# TYPE test_things_total counter\ntest_things_total{stage="ex\\"p"} 2\ntest_things_total{stage="reader"} 5\n')
    expect(text).toContain('# TYPE test_depth gauge\ntest_depth{channel="flat"} 3\n')
  })

  it("listen addresses: host:port, :port, a bare port; the default host is loopback", () => {
    expect(parseListenAddress("0.0.0.0:9464")).toEqual({ host: "0.0.0.0", port: 9464 })
    expect(parseListenAddress(":9464")).toEqual({ host: "127.0.0.1", port: 9464 })
    expect(parseListenAddress("9464")).toEqual({ host: "127.0.0.1", port: 9464 })
    expect(parseListenAddress("[::1]:80")).toEqual({ host: "::1", port: 80 })
    expect(parseListenAddress("localhost")).toBeUndefined()
    expect(parseListenAddress("1:99999")).toBeUndefined()
  })

  it("the endpoint's URL puts an IPv6 host in brackets; 0.0.0.0 and :: (any spelling) bind every interface", () => {
    expect(endpointUrl("::", 9464)).toBe("http://[::]:9464")
    expect(endpointUrl("::1", 80)).toBe("http://[::1]:80")
    expect(endpointUrl("0.0.0.0", 9464)).toBe("http://0.0.0.0:9464")
    expect(endpointUrl("localhost", 9464)).toBe("http://localhost:9464")
    for (const host of ["0.0.0.0", "::", "0:0:0:0:0:0:0:0", "::0"]) expect(isWildcardHost(host)).toBe(true)
    for (const host of ["127.0.0.1", "::1", "localhost", "10.0.0.1", "fe80::"]) expect(isWildcardHost(host)).toBe(false)
    expect(parseListenAddress(":::9464")).toEqual({ host: "::", port: 9464 })
  })
})

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const get = async (port: number, url: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${url}`)
  return { status: res.status, body: await res.text() }
}

const metricValue = (text: string, line: RegExp) => {
  const m = text.split("\n").find((l) => line.test(l))
  return m === undefined ? undefined : Number(m.split(" ").pop())
}

describe("the /metrics and /healthz endpoint during a run", () => {
  const dir = tempDir("sfp-metrics-")
  const big = path.join(dir, "big.sf")
  beforeAll(() => {
    generateSyntheticTrace(fileSink(big), { records: 300_000, seed: 5 })
  })

  it("counters move while records flow; healthz is 200 while every component works", async () => {
    const port = await freePort()
    const out = path.join(dir, "alerts.jsonl")
    const config = writePipeline(dir, {
      metrics: `127.0.0.1:${port}`,
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode: "alert", policies: path.join(projectRoot, "policies", "runtimeintegrity") },
        { processor: "exporter", in: "evt eventchan", export: "file", format: "json", "file.path": out }
      ]
    })
    const scrapes: Array<{ metrics: string; health: { status: number; body: string } }> = []
    const res = await runCli(["-config", config, "-driver", "file", big], {
      onSpawn: () => {
        const poll = async () => {
          try {
            const metrics = await get(port, "/metrics")
            const health = await get(port, "/healthz")
            if (metrics.status === 200) scrapes.push({ metrics: metrics.body, health })
          } catch {
            // not listening yet, or already closed
          }
        }
        const timer = setInterval(() => void poll(), 150)
        setTimeout(() => clearInterval(timer), 60_000).unref()
        timer.unref()
      }
    })
    expect(res.code).toBe(0)
    expect(scrapes.length).toBeGreaterThanOrEqual(2)
    const readerIn = scrapes.map((s) => metricValue(s.metrics, /^sfprocessor_records_in_total\{stage="sysflowreader"\}/) ?? 0)
    expect(readerIn[readerIn.length - 1]).toBeGreaterThan(readerIn[0])
    const last = scrapes[scrapes.length - 1].metrics
    expect(last).toMatch(/^sfprocessor_alerts_total\{priority="(high|medium|low)",rule="[^"]+"\} \d+$/m)
    expect(last).toMatch(/^sfprocessor_channel_queued_chunks\{channel="flat"\} \d+$/m)
    expect(last).toMatch(/^# TYPE sfprocessor_export_records_total counter$/m)
    for (const s of scrapes) {
      expect(s.health.status).toBe(200)
      expect(JSON.parse(s.health.body)).toMatchObject({ ok: true })
    }
    expect(res.stdout).toMatch(/Summary: [\d,]+ records read in [\d.]+ s/)
    expect(fs.existsSync(out)).toBe(true)
  })

  it.each([
    ["0.0.0.0:0", /http:\/\/0\.0\.0\.0:\d+/],
    ["[::]:0", /http:\/\/\[::\]:\d+/]
  ])("metrics on %s: a usable URL and a warning that the endpoint is reachable from the network", async (address, url) => {
    const res = await runCli(["-config", "resources/pipelines/pipeline.telemetry.json", "-driver", "file", path.join(projectRoot, "resources", "traces", "sample.sf")], {
      env: { SFPROCESSOR_METRICS: address }
    })
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(new RegExp(`\\[Info\\] .*Serving /metrics and /healthz on ${url.source}$`, "m"))
    expect(res.stdout).toMatch(new RegExp(`\\[Warn\\] .*metrics: ${url.source} listens on every interface: /metrics and /healthz are reachable from the network`, "m"))
    expect(res.stdout).not.toContain("http://:::")
  })

  it("a loopback metrics address gives no warning", async () => {
    const res = await runCli(["-config", "resources/pipelines/pipeline.telemetry.json", "-driver", "file", path.join(projectRoot, "resources", "traces", "sample.sf")], {
      env: { SFPROCESSOR_METRICS: "127.0.0.1:0" }
    })
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/Serving \/metrics and \/healthz on http:\/\/127\.0\.0\.1:\d+$/m)
    expect(res.stdout).not.toContain("reachable from the network")
  })

  it("a bad metrics address is a clear error", async () => {
    const config = writePipeline(dir, { metrics: "nowhere", pipeline: [{ processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" }, { processor: "exporter", in: "flat flattenerchan", export: "null" }] }, "bad.json")
    const res = await runCli(["-config", config, "-driver", "file", path.join(projectRoot, "resources", "traces", "sample.sf")])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain("metrics: 'nowhere' is not a listen address (host:port or port)")
  })
})
