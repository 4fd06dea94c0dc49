/**
 * End to end: the built `sfprocessor` runs reader → policy engine (runtime-integrity policies, alert
 * mode) → exporter (findings/occurrence) over the sample trace against the loopback IAM + Findings
 * server. (The reference's `pipeline.findings.json` says `export: es`, `format: ecs`: obsolete, §13.)
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { projectRoot, runCli, tempDir, writePipeline } from "../support/cli.js"
import { type FindingsServer, startFindingsServer } from "../support/findingsServer.js"
import { filesUnder, readEvents } from "./support.js"

const sample = path.join(projectRoot, "resources", "traces", "sample.sf")
const policies = path.join(projectRoot, "policies", "runtimeintegrity")

let server: FindingsServer
beforeEach(async () => {
  server = await startFindingsServer()
})
afterEach(async () => {
  await server.close()
})

const findingsPipeline = (out: string, extra: Record<string, unknown> = {}) => ({
  pipeline: [
    { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
    { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode: "alert", policies },
    {
      processor: "exporter",
      in: "evt eventchan",
      export: "findings",
      format: "occurrence",
      "findings.url": server.findingsUrl,
      "findings.iamurl": server.iamUrl,
      "findings.accountid": "acct",
      "findings.provider": "sysflow",
      "findings.region": "us-south",
      "findings.sqlquerycrn": "crn:sql",
      "findings.s3region": "us-south",
      "findings.s3bucket": "bucket",
      "findings.s3prefix": "sf",
      "findings.path": out,
      ...extra
    }
  ]
})

describe("sfprocessor with export findings", () => {
  it("posts the occurrences of the alerts and writes every alert to the event files (F4)", async () => {
    const dir = tempDir("sfp-findings-")
    const out = path.join(dir, "occurrences")
    // The sample trace twice (a directory of two copies, read in name order): the 10 alerts of the first
    // copy are all distinct (10 occurrences); of the second copy's, only the first of each of the two pools
    // (a container and the host) alerts again, because a pool's first flush also resets it (aged: never
    // flushed before), which forgets its first event. The other 8 stay pending until cleanup (F4).
    const traces = path.join(dir, "traces")
    fs.mkdirSync(traces)
    fs.copyFileSync(sample, path.join(traces, "a.sf"))
    fs.copyFileSync(sample, path.join(traces, "b.sf"))
    server.fail("occurrences", 503) // one transient failure on the way: retried
    const res = await runCli(["-config", writePipeline(dir, findingsPipeline(out)), "-driver", "file", traces], {
      env: { EXPORTER_FINDINGS_APIKEY: server.apiKey, CLUSTER_ID: "cl1" }
    })
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    expect(res.stdout).toContain("Health checks: passed")
    expect(res.stdout + res.stderr).not.toContain(server.apiKey)

    // The health check listed the notes before any occurrence; one token served the whole run.
    expect(server.requests[0].route).toBe("token")
    expect(server.requests[1].route).toBe("notes")
    expect(server.requestsTo("token")).toHaveLength(1)

    // Every alert is in an event file: pools holding events at the end were flushed at cleanup.
    const files = filesUnder(out)
    expect(files.length).toBeGreaterThan(0)
    for (const f of files) expect(f).toMatch(/^sf\/cl1\/[^/]+\/(?:[^/]+\/)?\d{4}\/\d{1,2}\/\d{1,2}\/[^/]+_\d+\.avro$/)
    const events = (await Promise.all(files.map((f) => readEvents(path.join(out, f))))).flat()
    expect(events).toHaveLength(20)
    expect(events.every((e) => e.clusterID === "cl1" && e.description !== "")).toBe(true)

    // Fewer occurrences than alerts (the pools' seen-filter), each with a note, a query naming its file.
    const occs = server.occurrences.map((o) => o.body)
    expect(occs).toHaveLength(12)
    expect(new Set(occs.map((o) => o.id)).size).toBe(occs.length)
    expect(server.requestsTo("occurrences").map((r) => r.status)).toEqual([503, ...Array(occs.length).fill(200)])
    for (const o of occs) {
      expect(o.kind).toBe("FINDING")
      expect(o.note_name).toMatch(/^acct\/providers\/sysflow\/notes\/(notification|actionable-offense)$/)
      expect(o.context.region).toBe("us-south")
      expect(o.short_description).not.toContain("/")
      const query = /statement=SELECT \* FROM cos:\/\/us-south\/bucket\/(\S+) STORED AS AVRO LIMIT 500 INTO cos:\/\/us-south\/bucket\/sql-query$/.exec(
        o.finding.next_steps[0].url
      )
      expect(query).not.toBeNull()
      expect(files).toContain(query![1])
    }
  })

  it("-test fails with exit 1 when the provider lacks a required note", async () => {
    server.notes = ["notification"]
    const dir = tempDir("sfp-findings-")
    const res = await runCli(["-test", "-driver", "file", "-config", writePipeline(dir, findingsPipeline(path.join(dir, "o")))], {
      env: { EXPORTER_FINDINGS_APIKEY: server.apiKey }
    })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(
      "Health checks for plugin exporter failed: findings: Provider doesn't contain required note IDs: notification, actionable-offense (missing: actionable-offense)"
    )
    expect(res.stdout).toContain("Health checks: failed")
    expect(server.requestsTo("occurrences")).toHaveLength(0)
  })

  it("a bad findings.pool.capacity is a configuration error (exit 1)", async () => {
    const dir = tempDir("sfp-findings-")
    const res = await runCli(["-config", writePipeline(dir, findingsPipeline(path.join(dir, "o"), { "findings.pool.capacity": "lots" })), "-driver", "file", sample], {
      env: { EXPORTER_FINDINGS_APIKEY: server.apiKey }
    })
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/pipeline\.json: pipeline\[\d\] \(exporter\): findings\.pool\.capacity = "lots": must be a whole number, 0 or more/)
    expect(fs.existsSync(path.join(dir, "o"))).toBe(false)
  })
})
