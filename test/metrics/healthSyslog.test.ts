/**
 * `/healthz` follows a transport's state: while the syslog server is gone the exporter reports it (503);
 * when the server is back, health returns to 200 and the run completes. The syslog server here is a
 * real TCP listener on loopback that the test stops and restarts.
 */
import * as net from "node:net"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { runCli, tempDir, writePipeline } from "../support/cli.js"

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/** A TCP syslog sink counting newline-terminated messages; `stop` drops every connection. */
const sink = (port: number) => {
  let lines = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on("data", (d: Buffer) => {
      for (const b of d) if (b === 10) lines++
    })
    s.on("close", () => sockets.delete(s))
    s.on("error", () => undefined)
  })
  return {
    lines: () => lines,
    start: () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve())),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

const healthz = async (port: number) => {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status
  } catch {
    return 0
  }
}

describe("/healthz and a syslog target that dies", () => {
  const dir = tempDir("sfp-health-")
  const big = path.join(dir, "big.sf")
  beforeAll(() => {
    generateSyntheticTrace(fileSink(big), { records: 150_000, seed: 9 })
  })

  it("flips to 503 while the syslog server is down and back to 200 when it returns; the run completes", async () => {
    const [syslogPort, metricsPort] = [await freePort(), await freePort()]
    const server = sink(syslogPort)
    await server.start()
    const config = writePipeline(dir, {
      metrics: `127.0.0.1:${metricsPort}`,
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        { processor: "exporter", in: "flat flattenerchan", export: "syslog", "syslog.proto": "tcp", "syslog.host": "127.0.0.1", "syslog.port": syslogPort }
      ]
    })
    const seen: number[] = []
    const res = await runCli(["-log", "error", "-config", config, "-driver", "file", big], {
      onSpawn: () => {
        void (async () => {
          // Wait for records to flow, then take the server away until health says so, then bring it back.
          while (server.lines() < 1000) await new Promise((r) => setTimeout(r, 20))
          seen.push(await healthz(metricsPort))
          await server.stop()
          const deadline = Date.now() + 15_000
          let status = 200
          while (status !== 503 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100))
            status = await healthz(metricsPort)
          }
          seen.push(status)
          await server.start()
          let back = 503
          while (back !== 200 && Date.now() < deadline + 15_000) {
            await new Promise((r) => setTimeout(r, 100))
            back = await healthz(metricsPort)
          }
          seen.push(back)
        })()
      }
    })
    expect(seen).toEqual([200, 503, 200])
    expect(res.code).toBe(0)
    await server.stop()
  })
})
