/**
 * `export: es` through the `sfprocessor` binary (npm test builds it first), against the loopback
 * Elasticsearch stand-in: health checks with `-test` (P5), full runs (every record lands, the shutdown
 * flushes the rest), permanent failures counted at exit, and secrets kept out of every log line.
 *
 * Every test here but the format check needs the ECS encoder (`format: ecs`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type BulkServer, startBulkServer } from "../support/bulkServer.js"
import { projectRoot, runCli, tempDir, writePipeline } from "../support/cli.js"

const sample = path.join(projectRoot, "resources", "traces", "sample.sf")
const SAMPLE_RECORDS = 74

const servers: BulkServer[] = []
const serve = async (...args: Parameters<typeof startBulkServer>) => {
  const s = await startBulkServer(...args)
  servers.push(s)
  return s
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

const esPipeline = (exporter: Record<string, unknown>) => ({
  pipeline: [
    { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
    { processor: "exporter", in: "flat flattenerchan", export: "es", format: "ecs", "es.index": "sysflow", buffer: "10", ...exporter }
  ]
})
const pipelineFile = (exporter: Record<string, unknown>) => writePipeline(tempDir("sfp-es-cli-"), esPipeline(exporter))
const statsLines = (stdout: string) => stdout.split("\n").filter((l) => /^\[Info\] .* add=\d+\tflush=\d+\tfail=\d+\treqs=\d+\tdur=/.test(l))
const sum = (lines: string[], key: string) => lines.reduce((n, l) => n + Number(new RegExp(`${key}=(\\d+)`).exec(l)![1]), 0)

describe("export es through the CLI", () => {
  it("export es with format json is a configuration error at init (exit 1)", async () => {
    const server = await serve({ indices: ["sysflow"] })
    const res = await runCli(["-test", "-driver", "file", "-config", pipelineFile({ format: "json", "es.addresses": server.url })])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain("pipeline.json: pipeline[1] (exporter): export 'es' requires format 'ecs' (Elasticsearch documents need the ECS ids), got format 'json'")
    expect(server.requests).toHaveLength(0)
  })

  it("a missing es.index is a configuration error (P17)", async () => {
    const res = await runCli(["-test", "-driver", "file", "-config", writePipeline(tempDir(), { pipeline: [esPipeline({}).pipeline[0], { ...esPipeline({}).pipeline[1], "es.index": undefined }] })])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain("pipeline.json: pipeline[1] (exporter): es.index is required with export 'es'")
  })

  it("-test passes when the cluster answers and the index exists", async () => {
    const server = await serve({ indices: ["sysflow"] })
    const res = await runCli(["-test", "-driver", "file", "-config", pipelineFile({ "es.addresses": server.url })])
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    expect(res.stdout).toContain("Health checks: passed")
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /", "HEAD /sysflow"])
  })

  it("-test fails with exit 1 when the cluster is down (P5)", async () => {
    const probe = await startBulkServer()
    await probe.close()
    const res = await runCli(["-test", "-driver", "file", "-config", pipelineFile({ "es.addresses": probe.url })])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(
      new RegExp(`\\[Error\\] .*Health checks for plugin exporter failed: es: cluster check \\(GET /\\): cannot reach Elasticsearch at ${probe.url}: .*ECONNREFUSED`)
    )
    expect(res.stdout).toContain("Health checks: failed")
  })

  it("-test fails with exit 1 when the index is missing; es.index.autocreate=true accepts it with a warning", async () => {
    const server = await serve({ indices: ["other"] })
    const res = await runCli(["-test", "-driver", "file", "-config", pipelineFile({ "es.addresses": server.url })])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`es: index 'sysflow' does not exist at ${server.url}: create it first`)
    const auto = await runCli(["-test", "-driver", "file", "-config", pipelineFile({ "es.addresses": server.url, "es.index.autocreate": "true" })])
    expect(auto.code).toBe(0)
    expect(auto.stdout).toMatch(/\[Warn\] .*index 'sysflow' does not exist at .*Elasticsearch will create it at the first write/)
  })

  it("a run delivers every record; the shutdown flushes the batch that never filled", async () => {
    const server = await serve({ indices: ["sysflow"] })
    // buffer 1000 > the 74 records: only the end of the input (or the 1-s ticker) sends them.
    const res = await runCli(["-config", pipelineFile({ "es.addresses": server.url, buffer: "1000" }), "-driver", "file", sample])
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    // 201 (created) or 409 (two records with the same ECS id): every record was answered for once.
    expect((server.itemStatuses.get(201) ?? 0) + (server.itemStatuses.get(409) ?? 0)).toBe(SAMPLE_RECORDS)
    expect([...server.itemStatuses.keys()].every((s) => s === 201 || s === 409)).toBe(true)
    const docs = server.docs("sysflow")
    expect(docs.size).toBe(server.itemStatuses.get(201))
    for (const [id, d] of docs) {
      expect(id).toMatch(/^[0-9a-f]{16}$/)
      expect(d).toMatchObject({ agent: { type: "SysFlow" }, ecs: { version: "8.2" } })
      expect(Object.keys(d as object)[0]).toBe("@timestamp")
    }
    const stats = statsLines(res.stdout)
    expect(stats.length).toBeGreaterThanOrEqual(1)
    expect(sum(stats, "add")).toBe(SAMPLE_RECORDS)
    expect(sum(stats, "fail")).toBe(0)
    expect(server.bulkRequests().every((r) => r.path === "/sysflow/_bulk")).toBe(true)
  })

  it("SIGTERM while a bulk request is in flight: the pipeline drains, the request completes, everything accepted lands (exit 0)", async () => {
    const server = await serve({ indices: ["sysflow"] })
    server.delayResponses(1500, 1)
    let signalled = false
    const res = await runCli(["-config", pipelineFile({ "es.addresses": server.url }), "-driver", "file", sample], {
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (server.bulkRequests().length > 0) {
            clearInterval(poll)
            signalled = child.kill("SIGTERM")
          }
        }, 20)
        child.on("close", () => clearInterval(poll))
      }
    })
    expect(signalled).toBe(true)
    expect(res.code).toBe(0)
    const stats = statsLines(res.stdout)
    expect(sum(stats, "fail")).toBe(0)
    expect((server.itemStatuses.get(201) ?? 0) + (server.itemStatuses.get(409) ?? 0)).toBe(sum(stats, "add"))
    expect(sum(stats, "add")).toBeGreaterThan(0)
  })

  it("permanent per-document failures are logged and counted; the exporter logs the total at exit", async () => {
    const server = await serve({ indices: ["sysflow"] })
    server.rejectItems((_id, doc) => doc.includes(`"sf_type":"FF"`), { type: "mapper_parsing_exception", reason: "failed to parse field [file.path]" })
    const res = await runCli(["-config", pipelineFile({ "es.addresses": server.url }), "-driver", "file", sample])
    const rejected = server.itemStatuses.get(400) ?? 0
    expect(rejected).toBeGreaterThan(0)
    expect(res.stderr.split("\n").filter((l) => /\[Error\] .*mapper_parsing_exception: failed to parse field \[file\.path\] \(document _id [0-9a-f]{16}, HTTP 400\): dropped$/.test(l))).toHaveLength(rejected)
    expect(res.stderr).toMatch(new RegExp(`\\[Error\\] .*Exporter \\(es\\) dropped ${rejected} records after permanent errors`))
    expect(sum(statsLines(res.stdout), "fail")).toBe(rejected)
    expect(res.stderr).not.toContain(`"sf_type"`) // never the document
  })
})

describe("export es: secrets never appear in logs", () => {
  const user = "sfp-writer"
  const password = "Pw-9f3c1e77-secret"
  const encoded = Buffer.from(`${user}:${password}`).toString("base64")
  const wrong = "Wrong-4d2b-password"
  const clean = (out: string) => {
    for (const secret of [password, encoded, wrong, Buffer.from(`${user}:${wrong}`).toString("base64")]) expect(out).not.toContain(secret)
  }

  it("password from the environment override EXPORTER_ES_PASSWORD: delivered, and absent from every line (even -log trace)", async () => {
    const server = await serve({ indices: ["sysflow"], username: user, password })
    const config = pipelineFile({ "es.addresses": server.url, "es.username": user })
    const res = await runCli(["-log", "trace", "-config", config, "-driver", "file", sample], { env: { EXPORTER_ES_PASSWORD: password } })
    expect(res.code).toBe(0)
    expect(server.docs("sysflow").size).toBeGreaterThan(0)
    expect(server.requests.every((r) => r.authorization === `Basic ${encoded}`)).toBe(true)
    clean(res.stdout + res.stderr)
    const bad = await runCli(["-log", "trace", "-config", config, "-driver", "file", sample], { env: { EXPORTER_ES_PASSWORD: wrong } })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("authentication failed")
    clean(bad.stdout + bad.stderr)
  })

  it("password from the vault (vault.secrets), base64-encoded: delivered, and absent from every line", async () => {
    const server = await serve({ indices: ["sysflow"], username: user, password })
    const vault = tempDir("sfp-vault-")
    fs.writeFileSync(path.join(vault, "es.username"), Buffer.from(user).toString("base64"))
    fs.writeFileSync(path.join(vault, "es.password"), `${Buffer.from(password).toString("base64")}\n`)
    const attrs = { "es.addresses": server.url, "vault.secrets": "true", "vault.path": vault, "vault.encoding": "base64" }
    const res = await runCli(["-log", "trace", "-config", pipelineFile(attrs), "-driver", "file", sample])
    expect(res.code).toBe(0)
    expect(server.requests.every((r) => r.authorization === `Basic ${encoded}`)).toBe(true)
    clean(res.stdout + res.stderr)
    fs.writeFileSync(path.join(vault, "es.password"), Buffer.from(wrong).toString("base64"))
    const bad = await runCli(["-log", "trace", "-test", "-config", pipelineFile(attrs), "-driver", "file"])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("authentication failed")
    clean(bad.stdout + bad.stderr)
  })
})
