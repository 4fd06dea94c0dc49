/**
 * The reference's `pipeline.elk.json` (../shared/conformance/pipelines), run as shipped against the
 * loopback Elasticsearch stand-in, with only the environment overrides a user would set: the address
 * (`EXPORTER_ES_ADDRESSES`) and the policy file (the shipped relative path does not exist here). Its
 * `elastic`/`changeme` credentials and index `my-index` are kept. Every alert of the same pipeline with
 * JSON file export must land. Skipped when ../shared is absent.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { type BulkServer, startBulkServer } from "../support/bulkServer.js"
import { lines, runCli, tempDir } from "../support/cli.js"
import { hasShared, sharedPath } from "../support/shared.js"

const elk = sharedPath("conformance", "pipelines", "pipeline.elk.json")
const present = hasShared && fs.existsSync(elk)
if (!present) console.warn(`[skip] ${elk} is absent: pipeline.elk.json is not run against the loopback Elasticsearch`)

const servers: BulkServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

describe.skipIf(!present)("pipeline.elk.json against a loopback Elasticsearch", () => {
  it("k8s_small.sf: every alert lands in my-index, in flushes of buffer=1000", async () => {
    const trace = sharedPath("traces", "k8s_small.sf")
    const policies = { POLICYENGINE_POLICIES: sharedPath("conformance", "policies", "distribution", "filter.yaml") }
    const out = path.join(tempDir("sfp-elk-"), "alerts.json")
    // The same pipeline exporting JSON to a file gives the number of alerts.
    const json = await runCli(["-log", "error", "-config", elk, "-driver", "file", trace], {
      env: { ...policies, EXPORTER_EXPORT: "file", EXPORTER_FORMAT: "json", EXPORTER_FILE_PATH: out }
    })
    expect(json.code).toBe(0)
    const alerts = lines(out).length
    expect(alerts).toBeGreaterThan(1000)

    const server = await startBulkServer({ indices: ["my-index"], username: "elastic", password: "changeme" })
    servers.push(server)
    const res = await runCli(["-config", elk, "-driver", "file", trace], { env: { ...policies, EXPORTER_ES_ADDRESSES: server.url } })
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    expect((server.itemStatuses.get(201) ?? 0) + (server.itemStatuses.get(409) ?? 0)).toBe(alerts)
    expect(server.docs("my-index").size).toBe(server.itemStatuses.get(201))
    for (const doc of server.docs("my-index").values()) expect(doc).toMatchObject({ event: { kind: "event" }, agent: { type: "SysFlow" } })
    // buffer=1000: batches of at least 1000 (the exporter adds whole chunks), then the rest at the end;
    // one stats line each.
    const stats = res.stdout.split("\n").filter((l) => /\tflush=\d+\tfail=\d+\treqs=\d+\tdur=/.test(l))
    const added = stats.map((l) => Number(/add=(\d+)/.exec(l)![1]))
    expect(added.reduce((a, b) => a + b, 0)).toBe(alerts)
    expect(added.length).toBeGreaterThanOrEqual(2)
    expect(added.slice(0, -1).every((n) => n >= 1000)).toBe(true)
    expect(stats.every((l) => /\tfail=0\t/.test(l))).toBe(true)
    expect(server.bulkRequests().every((r) => r.path === "/my-index/_bulk" && r.authorization === `Basic ${Buffer.from("elastic:changeme").toString("base64")}`)).toBe(true)
    expect(res.stdout + res.stderr).not.toContain("changeme")
  })

  it("-test passes against the loopback cluster and fails (exit 1) with the shipped https://localhost:9200 when nothing listens there", async () => {
    const server = await startBulkServer({ indices: ["my-index"], username: "elastic", password: "changeme" })
    servers.push(server)
    const policies = { POLICYENGINE_POLICIES: sharedPath("conformance", "policies", "distribution", "filter.yaml") }
    const ok = await runCli(["-test", "-config", elk, "-driver", "file"], { env: { ...policies, EXPORTER_ES_ADDRESSES: server.url } })
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain("Health checks: passed")
    // A free port stands in for "nothing on localhost:9200" so the test does not depend on this machine.
    const probe = await startBulkServer()
    await probe.close()
    const down = await runCli(["-test", "-config", elk, "-driver", "file"], { env: { ...policies, EXPORTER_ES_ADDRESSES: `https://localhost:${probe.port}` } })
    expect(down.code).toBe(1)
    expect(down.stderr).toContain(`Health checks for plugin exporter failed: es: cluster check (GET /): cannot reach Elasticsearch at https://localhost:${probe.port}`)
  })
})
