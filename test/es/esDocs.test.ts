/**
 * The examples of docs/elasticsearch.md run as written, against the loopback HTTPS Elasticsearch
 * stand-in with the test CA: only the host names (`localhost:9200`, `es1/es2.example.com:9200`), the CA
 * file and the vault directory are swapped for the test's. The quick start runs as one shell script,
 * with `sfprocessor` on the PATH, in a directory that has the repository's `policies` and `resources`.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type BulkServer, startBulkServer } from "../support/bulkServer.js"
import { binPath, projectRoot, runCli, tempDir } from "../support/cli.js"

const doc = fs.readFileSync(path.join(projectRoot, "docs", "elasticsearch.md"), "utf8")
const fixture = (name: string) => path.join(projectRoot, "test", "es", "fixtures", name)
const tls = { key: fs.readFileSync(fixture("server-key.pem"), "utf8"), cert: fs.readFileSync(fixture("server-cert.pem"), "utf8") }
const hasCurl = spawnSync("curl", ["--version"]).status === 0

/** The fenced blocks of a language, dedented (blocks inside list items are indented). */
const blocks = (lang: string): string[] =>
  [...doc.matchAll(/^( *)```(\w*)\n([\s\S]*?)^\1```/gm)]
    .filter((m) => m[2] === lang)
    .map((m) => m[3].split("\n").map((l) => l.slice(m[1].length)).join("\n"))
const pipelines = blocks("json").filter((b) => b.includes(`"pipeline"`))

const servers: BulkServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

describe("docs/elasticsearch.md examples", () => {
  it("has the two pipeline examples, which are valid JSON", () => {
    expect(pipelines).toHaveLength(2)
    for (const p of pipelines) expect(() => JSON.parse(p)).not.toThrow()
  })

  it.skipIf(!hasCurl)("the quick start: create the index with the mapping, -test, then a run whose alerts all land", async () => {
    const password = "Docs-Example-pw1"
    const server = await startBulkServer({ tls, username: "elastic", password })
    servers.push(server)
    const host = `localhost:${server.port}`
    const dir = tempDir("sfp-es-docs-")
    fs.symlinkSync(path.join(projectRoot, "policies"), path.join(dir, "policies"))
    fs.symlinkSync(path.join(projectRoot, "resources"), path.join(dir, "resources"))
    fs.copyFileSync(fixture("ca.pem"), path.join(dir, "http_ca.crt"))
    fs.writeFileSync(path.join(dir, "pipeline.es.json"), pipelines[0].replaceAll("localhost:9200", host))
    const bin = tempDir("sfp-es-bin-")
    fs.writeFileSync(path.join(bin, "sfprocessor"), `#!/bin/sh\nexec "${process.execPath}" "${binPath}" "$@"\n`, { mode: 0o755 })
    const shell = blocks("sh").filter((b) => b.includes("curl") || b.includes("sfprocessor -"))
    expect(shell).toHaveLength(2)
    const script = `set -e\n${shell.join("\n")}`.replaceAll("localhost:9200", host)
    // Asynchronously: the server answers from this process.
    const res = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn("bash", ["-c", script], { cwd: dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ES_PASSWORD: password } })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
      child.on("error", reject)
      child.on("close", (status) => resolve({ status, stdout, stderr }))
    })
    expect(res.stderr).toBe("")
    expect(res.status).toBe(0)
    expect(JSON.parse(server.mappings.get("sysflow")!)).toMatchObject({ mappings: { properties: { "@timestamp": { type: "date_nanos" } } } })
    expect(res.stdout).toContain("Health checks: passed")
    const docs = server.docs("sysflow")
    expect(docs.size).toBeGreaterThan(0)
    for (const d of docs.values()) expect(d).toMatchObject({ event: { kind: "event" } })
    expect(res.stdout).not.toContain(password)
  })

  it("the TLS example with the vault: every record lands, round-robin over both addresses", async () => {
    const server = await startBulkServer({ tls, username: "sfp", password: "Vault-pw-77", indices: ["sysflow-telemetry"] })
    servers.push(server)
    const vault = tempDir("sfp-es-vault-")
    fs.writeFileSync(path.join(vault, "es.username"), "sfp\n")
    fs.writeFileSync(path.join(vault, "es.password"), "Vault-pw-77\n")
    const text = pipelines[1]
      .replace("https://es1.example.com:9200,https://es2.example.com:9200", `https://localhost:${server.port},https://127.0.0.1:${server.port}`)
      .replace("/etc/sfprocessor/http_ca.crt", fixture("ca.pem"))
      .replace(`"/run/secrets"`, JSON.stringify(vault))
    const config = path.join(tempDir("sfp-es-docs-"), "pipeline.json")
    fs.writeFileSync(config, text)
    const res = await runCli(["-config", config, "-driver", "file", path.join(projectRoot, "resources", "traces", "sample.sf")])
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    expect((server.itemStatuses.get(201) ?? 0) + (server.itemStatuses.get(409) ?? 0)).toBe(74)
  })
})
