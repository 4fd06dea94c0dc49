/**
 * The Findings transport (pipeline.md §12) against a loopback IAM + Findings server: the occurrence
 * requests, token caching (F5) and renewal, retries of transient failures, drops of permanent ones, the
 * health check, and its configuration.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Either } from "effect"
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest"
import type { RetryPolicy } from "../../src/services/export/findings/FindingsApi.js"
import { type Occurrence, occurrenceLine } from "../../src/services/export/findings/Occurrence.js"
import { makeFindingsTransport } from "../../src/services/export/transports/FindingsTransport.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { type FindingsServer, startFindingsServer } from "../support/findingsServer.js"
import { captureLogs, exporterConfig, openTransport, run } from "./support.js"

/** A loopback port nothing listens on. */
const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })

const fast: RetryPolicy = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 }

let server: FindingsServer
beforeEach(async () => {
  server = await startFindingsServer()
})
afterEach(async () => {
  await server.close()
})

const attrs = (extra: Record<string, unknown> = {}) => ({
  export: "findings",
  format: "occurrence",
  "findings.apikey": server.apiKey,
  "findings.url": server.findingsUrl,
  "findings.iamurl": server.iamUrl,
  "findings.accountid": "acct 1",
  "findings.provider": "sysflow",
  "findings.region": "us-south",
  "findings.sqlquerycrn": "crn:v1:sql",
  ...extra
})

const occ = (n: number, over: Partial<Occurrence> = {}): Occurrence => ({
  id: `c0ffee-${1700000000000000 + n}`,
  noteID: "notification",
  severity: "LOW",
  certainty: "MEDIUM",
  resourceType: "DOCKER",
  resourceName: "c0ffee:app [node1|10.0.0.1]",
  shortDescription: "rule \u2215x",
  longDescription: "File access \u2215bin\u2215sh \u2192 \u2215etc<br><br><b>Policies</b><br>rule /x<br><br><b>Tags</b><br>a,b",
  alertQuery: "SELECT * FROM cos://us-south/b/node1/2023/11/14/c0ffee_1.avro STORED AS AVRO LIMIT 500 INTO cos://us-south/b/sql-query",
  ...over
})

const batch = (...occs: Occurrence[]) => ({ lines: occs.map(occurrenceLine) })

describe("findings transport: requests", () => {
  it("posts each occurrence to <url>/v1/<account>/providers/<provider>/occurrences with a bearer token", async () => {
    const { value: t, close } = await openTransport(attrs(), { sendRetry: fast })
    const dropped = await run(t.send(batch(occ(1), occ(2, { severity: "HIGH", noteID: "actionable-offense" }))))
    await close()
    expect(dropped).toBe(0)
    const posts = server.requestsTo("occurrences")
    expect(posts.map((p) => p.path)).toEqual(Array(2).fill("/findings/v1/acct%201/providers/sysflow/occurrences"))
    expect(server.occurrences.map((o) => [o.account, o.provider])).toEqual([
      ["acct 1", "sysflow"],
      ["acct 1", "sysflow"]
    ])
    const h = server.occurrences[0].headers
    expect(h.accept).toBe("application/json")
    expect(h["content-type"]).toBe("application/json")
    expect(h.authorization).toBe("Bearer token-1")
    expect(server.occurrences[0].body).toEqual({
      context: { region: "us-south", resource_name: "c0ffee:app [node1|10.0.0.1]", resource_type: "DOCKER" },
      finding: {
        certainty: "MEDIUM",
        next_steps: [
          {
            title: "Finding Context",
            url:
              "https://us.sql-query.cloud.ibm.com/sqlquery/?instance_crn=crn:v1:sql&statement=" +
              "SELECT * FROM cos://us-south/b/node1/2023/11/14/c0ffee_1.avro STORED AS AVRO LIMIT 500 INTO cos://us-south/b/sql-query"
          }
        ],
        severity: "LOW"
      },
      id: "c0ffee-1700000000000001",
      kind: "FINDING",
      long_description: occ(1).longDescription,
      note_name: "acct 1/providers/sysflow/notes/notification",
      short_description: "rule \u2215x"
    })
    expect(server.occurrences[1].body.note_name).toBe("acct 1/providers/sysflow/notes/actionable-offense")
    expect(server.occurrences[1].body.finding.severity).toBe("HIGH")
  })

  it("serialises the body with sorted keys and Go's HTML escaping", async () => {
    const { value: t, close } = await openTransport(attrs())
    await run(t.send(batch(occ(1))))
    await close()
    const raw = server.occurrences[0].raw
    expect(raw.startsWith('{"context":{"region":"us-south","resource_name":')).toBe(true)
    expect(raw).toContain('"long_description":"File access ∕bin∕sh → ∕etc\\u003cbr\\u003e\\u003cbr\\u003e\\u003cb\\u003ePolicies')
    expect(Object.keys(JSON.parse(raw))).toEqual(["context", "finding", "id", "kind", "long_description", "note_name", "short_description"])
  })

  it("asks IAM for a token with the API key grant", async () => {
    const { value: t, close } = await openTransport(attrs())
    await run(t.send(batch(occ(1))))
    await close()
    const [req] = server.requestsTo("token")
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded")
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      grant_type: "urn:ibm:params:oauth:grant-type:apikey",
      apikey: server.apiKey
    })
  })

  it("F5: reuses the token until 80% of its lifetime has passed", async () => {
    let now = 1_000_000
    const { value: t, close } = await openTransport(attrs(), { now: () => now })
    await run(t.send(batch(occ(1), occ(2))))
    await run(t.send(batch(occ(3))))
    expect(server.requestsTo("token")).toHaveLength(1)
    now += 0.79 * 3600_000
    await run(t.send(batch(occ(4))))
    expect(server.requestsTo("token")).toHaveLength(1)
    now += 0.02 * 3600_000
    await run(t.send(batch(occ(5))))
    await close()
    expect(server.requestsTo("token")).toHaveLength(2)
    expect(server.occurrences.map((o) => o.headers.authorization)).toEqual([
      "Bearer token-1",
      "Bearer token-1",
      "Bearer token-1",
      "Bearer token-1",
      "Bearer token-2"
    ])
  })

  it("takes a new token after a 401 (expired token) and posts again", async () => {
    const { value: t, close } = await openTransport(attrs(), { sendRetry: fast })
    await run(t.send(batch(occ(1))))
    server.expireTokens()
    expect(await run(t.send(batch(occ(2))))).toBe(0)
    await close()
    expect(server.occurrences.map((o) => o.headers.authorization)).toEqual(["Bearer token-1", "Bearer token-2"])
    expect(server.requestsTo("occurrences").map((r) => r.status)).toEqual([200, 401, 200])
  })
})

describe("findings transport: delivery", () => {
  it("retries 5xx, 429 (with Retry-After) and reset connections, then delivers", async () => {
    server.fail("occurrences", 503, { status: 429, retryAfter: "0" }, "reset", 500)
    const logs = captureLogs()
    const { value: t, close } = await openTransport(attrs(), { sendRetry: { attempts: 5, baseDelayMs: 5, maxDelayMs: 20 } }, logs)
    expect(await run(t.send(batch(occ(1))), logs)).toBe(0)
    await close()
    expect(server.requestsTo("occurrences").map((r) => r.status)).toEqual([503, 429, 0, 500, 200])
    expect(server.occurrences).toHaveLength(1)
  })

  it("retries a failing IAM token endpoint too", async () => {
    server.fail("token", 502, "reset")
    const { value: t, close } = await openTransport(attrs(), { sendRetry: fast })
    expect(await run(t.send(batch(occ(1))))).toBe(0)
    await close()
    expect(server.requestsTo("token").map((r) => r.status)).toEqual([502, 0, 200])
  })

  it("drops an occurrence after its retries, logged with its id; the rest of the batch gets one attempt each", async () => {
    server.fail("occurrences", 503, 503, 503, 503)
    const logs = captureLogs()
    const { value: t, close } = await openTransport(attrs(), { sendRetry: fast }, logs)
    const dropped = await run(t.send(batch(occ(1), occ(2), occ(3))), logs)
    await close()
    expect(dropped).toBe(2)
    expect(server.requestsTo("occurrences").map((r) => r.status)).toEqual([503, 503, 503, 503, 200])
    expect(server.occurrences.map((o) => o.body.id)).toEqual(["c0ffee-1700000000000003"])
    const errors = logs.lines.filter((l) => l.startsWith("ERROR"))
    expect(errors).toEqual([
      expect.stringMatching(/^ERROR Findings: error while creating occurrence c0ffee-1700000000000001: creating occurrence c0ffee-1700000000000001: HTTP 503: .* \(3 attempts\); occurrence dropped$/),
      expect.stringMatching(/^ERROR Findings: error while creating occurrence c0ffee-1700000000000002: .*HTTP 503.* \(1 attempt\); occurrence dropped$/)
    ])
  })

  it("drops rejected occurrences (4xx) at once, logging the id and the response body", async () => {
    server.fail("occurrences", { status: 400, body: { error: "bad severity" } })
    const logs = captureLogs()
    const { value: t, close } = await openTransport(attrs(), { sendRetry: fast }, logs)
    const dropped = await run(t.send(batch(occ(1), occ(2), occ(2))), logs)
    await close()
    expect(dropped).toBe(2) // the 400, then the duplicate id (409)
    expect(server.requestsTo("occurrences").map((r) => r.status)).toEqual([400, 200, 409])
    const errors = logs.lines.filter((l) => l.startsWith("ERROR"))
    expect(errors[0]).toBe(
      'ERROR Findings: error while creating occurrence c0ffee-1700000000000001: creating occurrence c0ffee-1700000000000001: HTTP 400: {"error":"bad severity"}; occurrence dropped'
    )
    expect(errors[1]).toContain("c0ffee-1700000000000002: HTTP 409")
  })

  it("drops the batch when IAM rejects the API key, without logging the key", async () => {
    await server.close()
    server = await startFindingsServer({ apiKey: "the-real-key-123456" })
    const logs = captureLogs()
    const { value: t, close } = await openTransport(attrs({ "findings.apikey": "a-wrong-key-987654" }), { sendRetry: fast }, logs)
    expect(await run(t.send(batch(occ(1), occ(2), occ(3))), logs)).toBe(3)
    await close()
    expect(server.requestsTo("token")).toHaveLength(1)
    expect(server.requestsTo("occurrences")).toHaveLength(0)
    const text = logs.lines.join("\n")
    expect(text).toContain("HTTP 400")
    expect(text).toContain("dropping it and the 2 after it in this batch")
    expect(text).not.toContain("a-wrong-key-987654")
  })

  it("never logs the API key or a token, even when the server echoes them", async () => {
    const logs = captureLogs()
    const { value: t, close } = await openTransport(attrs(), { sendRetry: fast }, logs)
    await run(t.send(batch(occ(1))), logs)
    server.fail("occurrences", { status: 400, body: { echo: `key ${server.apiKey} token token-1` } })
    await run(t.send(batch(occ(2))), logs)
    await close()
    const text = logs.lines.join("\n")
    expect(text).toContain("key *** token ***")
    expect(text).not.toContain(server.apiKey)
    expect(text).not.toContain("token-1")
  })

  it("drops a line that is not an occurrence", async () => {
    const logs = captureLogs()
    const { value: t, close } = await openTransport(attrs(), {}, logs)
    expect(await run(t.send({ lines: ['{"version":5}', occurrenceLine(occ(1))] }), logs)).toBe(1)
    await close()
    expect(logs.lines).toContain("ERROR Findings: Expected Occurrence object as exported data; record dropped")
    expect(server.occurrences).toHaveLength(1)
  })
})

describe("findings transport: health check", () => {
  const check = async (extra: Record<string, unknown> = {}) => {
    const { value: t, close } = await openTransport(attrs(extra), { healthRetry: fast })
    const result = await Effect.runPromise(Effect.either(t.test))
    await close()
    return Either.isRight(result) ? "passed" : result.left.detail
  }

  it("passes when the provider has the notification and actionable-offense notes", async () => {
    expect(await check()).toBe("passed")
    const [req] = server.requestsTo("notes")
    expect(req.path).toBe("/findings/v1/acct%201/providers/sysflow/notes")
    expect(req.headers.authorization).toBe("Bearer token-1")
  })

  it("fails when a note is missing", async () => {
    server.notes = ["notification", "other"]
    expect(await check()).toBe("Provider doesn't contain required note IDs: notification, actionable-offense (missing: actionable-offense)")
  })

  it("fails on a bad response code (after retrying 5xx)", async () => {
    server.fail("notes", 403)
    expect(await check()).toBe("bad response code while checking Findings API: 403")
    server.fail("notes", 500, 500, 500)
    expect(await check()).toBe("bad response code while checking Findings API: 500")
    server.fail("notes", 500, 500)
    expect(await check()).toBe("passed")
  })

  it("fails when the API cannot be reached or the key is refused", async () => {
    expect(await check({ "findings.url": `http://127.0.0.1:${await closedPort()}/findings` })).toMatch(/^couldn't list notes using Findings API: listing notes: ECONNREFUSED$/)
    expect(await check({ "findings.apikey": "wrong-key-xyz" })).toMatch(
      /^couldn't list notes using Findings API: IAM token request to http:\/\/127\.0\.0\.1:\d+\/identity\/token: HTTP 400: .*BXNIM0415E/
    )
  })
})

describe("findings transport: configuration", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-findings-"))
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

  const failure = async (a: Record<string, unknown>) => {
    return Effect.runPromise(Effect.scoped(Effect.flip(Effect.provide(makeFindingsTransport(a, exporterConfig), TerminalOutput.capture([])))))
  }

  it("requires the API key, the account id and the provider", async () => {
    const { "findings.apikey": _k, ...noKey } = attrs()
    expect(await failure(noKey)).toMatchObject({
      _tag: "PipelineConfigError",
      detail: "exporter: findings.apikey is required (set it, EXPORTER_FINDINGS_APIKEY, or vault.secrets)"
    })
    expect((await failure(attrs({ "findings.accountid": "" }))).detail).toBe("exporter: findings.accountid is required")
    expect((await failure(attrs({ "findings.provider": undefined }))).detail).toBe("exporter: findings.provider is required")
  })

  it("reads the API key from the vault", async () => {
    fs.writeFileSync(path.join(tmp, "findings.apikey"), `${server.apiKey}\n`)
    const { "findings.apikey": _k, ...noKey } = attrs()
    const { value: t, close } = await openTransport({ ...noKey, "vault.secrets": "true", "vault.path": tmp })
    expect(await run(t.send(batch(occ(1))))).toBe(0)
    await close()
    expect(server.occurrences).toHaveLength(1)
  })

  it("rejects URLs that are not http(s)", async () => {
    expect((await failure(attrs({ "findings.url": "ftp://x" }))).detail).toBe(`exporter: findings.url = "ftp://x": must be an http(s) URL`)
    expect((await failure(attrs({ "findings.iamurl": "nope" }))).detail).toBe(`exporter: findings.iamurl = "nope": must be an http(s) URL`)
  })

  it("F3: honours findings.url (a trailing / is dropped)", async () => {
    const { value: t, close } = await openTransport(attrs({ "findings.url": `${server.findingsUrl}/` }))
    await run(t.send(batch(occ(1))))
    await close()
    expect(server.requestsTo("occurrences")[0].path).toBe("/findings/v1/acct%201/providers/sysflow/occurrences")
  })
})
