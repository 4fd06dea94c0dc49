/**
 * The `es` transport against a loopback Elasticsearch stand-in (test/support/bulkServer.ts), with
 * hand-made ECS-like batches: delivery, retries with backoff, permanent failures, version conflicts,
 * health checks, TLS and secrets.
 *
 * Tests that check the waits between retries run the transport on the TestClock and move it step by
 * step (test/es/backoffClock.ts). The others run on the live clock with a short backoff: building the
 * TestClock costs about as much as those waits. The client's request and health-check timeouts are the
 * client's own timers: they run in real time.
 */
import { Cause, Effect, Exit, Fiber, TestClock, TestContext } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import type { ExportError, PipelineConfigError } from "../../src/domain/errors.js"
import type { ExportBatch } from "../../src/services/export/ExportBatch.js"
import type { Transport } from "../../src/services/export/Transport.js"
import { type EsTransportOptions, makeEsTransportWith } from "../../src/services/export/transports/EsTransport.js"
import { type BulkServer, startBulkServer } from "../support/bulkServer.js"
import { captureLogs, exporterConfig, nthRetryWait, retryWarnings, sleepingFor, stepBackoff } from "./backoffClock.js"

const fast: EsTransportOptions = { retry: { backoffBaseMs: 20, backoffCapMs: 200 } }
const fixture = (name: string) => path.resolve("test/es/fixtures", name)

const servers: BulkServer[] = []
const serve = async (...args: Parameters<typeof startBulkServer>) => {
  const s = await startBulkServer(...args)
  servers.push(s)
  return s
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

const id = (i: number) => i.toString(16).padStart(16, "0")
const doc = (i: number) =>
  JSON.stringify({ "@timestamp": "2021-05-25T16:25:14.570130505Z", event: { kind: "event", sf_type: i % 2 ? "PE" : "FF" }, process: { pid: i, name: `proc-${i}` }, marker: "BODY-MARKER" })
const batchOf = (from: number, to: number): ExportBatch => {
  const lines: string[] = []
  const ids: string[] = []
  for (let i = from; i < to; i++) {
    lines.push(doc(i))
    ids.push(id(i))
  }
  return { lines, ids }
}

interface Run<A> {
  readonly exit: Exit.Exit<A, ExportError | PipelineConfigError>
  readonly logs: string[]
}

/**
 * Builds the transport from `attrs` in a scope, runs `use` on it, and captures the log lines. With
 * `clock: "stepped"` time is the TestClock's, which the test moves itself (reading the retry warnings
 * from `logs`).
 */
const withTransport = async <A>(
  attrs: Record<string, unknown>,
  use: (t: Transport, logs: ReadonlyArray<string>) => Effect.Effect<A, ExportError | PipelineConfigError>,
  options: EsTransportOptions = fast,
  clock: "live" | "stepped" = "live"
): Promise<Run<A>> => {
  const { logs, layer } = captureLogs()
  const run = Effect.scoped(Effect.flatMap(makeEsTransportWith(options)({ format: "ecs", ...attrs }, exporterConfig), (t) => use(t, logs))).pipe(
    Effect.provide(layer)
  )
  const exit = await Effect.runPromiseExit(clock === "stepped" ? Effect.provide(run, TestContext.TestContext) : run)
  return { exit, logs }
}

const value = <A>(run: Run<A>): A => {
  if (Exit.isFailure(run.exit)) throw new Error(`unexpected failure: ${Cause.pretty(run.exit.cause)}\n${run.logs.join("\n")}`)
  return run.exit.value
}
const failure = (run: Run<unknown>): string => {
  if (Exit.isSuccess(run.exit)) throw new Error(`expected a failure\n${run.logs.join("\n")}`)
  return Cause.squash(run.exit.cause) instanceof Error ? (Cause.squash(run.exit.cause) as Error).message : String(Cause.squash(run.exit.cause))
}
const statsLine = (logs: string[]) => logs.filter((l) => l.startsWith("[INFO] add="))

const attrsFor = (server: BulkServer, extra: Record<string, unknown> = {}) => ({ "es.addresses": server.url, "es.index": "sfp-test", ...extra })

describe("es transport: delivery", () => {
  it("a 10k-document batch lands completely with the right _ids and bodies, in several bulk requests", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    const batch = batchOf(0, 10_000)
    const run = await withTransport(attrsFor(server, { "es.bulk.flushBuffer": "200000", "es.bulk.numWorkers": "2" }), (t) => t.send(batch))
    expect(value(run)).toBe(0)
    const docs = server.indices.get("sfp-test")!
    expect(docs.size).toBe(10_000)
    for (let i = 0; i < 10_000; i++) expect(docs.get(id(i))).toBe(batch.lines[i])
    const reqs = server.bulkRequests()
    expect(reqs.length).toBeGreaterThan(5)
    expect(reqs.every((r) => r.method === "POST" && r.path === "/sfp-test/_bulk")).toBe(true)
    expect(reqs.reduce((n, r) => n + r.items, 0)).toBe(20_000) // action + document lines
    // The wire format: {"create":{"_id":...}} then the document as given, NDJSON.
    expect(server.bodies[0].split("\n").slice(0, 2)).toEqual([`{"create":{"_id":"${id(0)}"}}`, batch.lines[0]])
    expect(server.bodies[0].endsWith("\n")).toBe(true)
    expect(statsLine(run.logs)).toHaveLength(1)
    expect(statsLine(run.logs)[0]).toMatch(new RegExp(`^\\[INFO\\] add=10000\\tflush=10000\\tfail=0\\treqs=${reqs.length}\\tdur=\\S+ *\\t *\\d+ recs/s$`))
  })

  it("an empty batch sends nothing", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    expect(value(await withTransport(attrsFor(server), (t) => t.send({ lines: [], ids: [] })))).toBe(0)
    expect(server.bulkRequests()).toHaveLength(0)
  })

  it("documents without ids are refused (the es transport needs the ECS encoder)", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    const run = await withTransport(attrsFor(server), (t) => t.send({ lines: [doc(1)] }))
    expect(failure(run)).toBe("es: expected ECS documents with ids as exported data (export 'es' needs format 'ecs')")
  })

  it("per-document 429 and 503 are retried with backoff until they land", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    const batch = batchOf(0, 500)
    server.failItems(batch.ids!.slice(0, 100), { status: 429, times: 2 })
    server.failItems(batch.ids!.slice(100, 150), { status: 503, times: 1 })
    const run = await withTransport(attrsFor(server), (t) => t.send(batch))
    expect(value(run)).toBe(0)
    expect(server.indices.get("sfp-test")!.size).toBe(500)
    expect(server.attempts.get(id(0))).toBe(3)
    expect(server.attempts.get(id(120))).toBe(2)
    expect(server.attempts.get(id(200))).toBe(1)
    // Only the failed documents are sent again.
    expect(server.bulkRequests().map((r) => r.items / 2)).toEqual([500, 150, 100])
    expect(run.logs.filter((l) => l.startsWith("[WARN] retrying"))).toEqual([
      expect.stringMatching(/^\[WARN\] retrying 150 of 500 documents in \d+ ms \(attempt 2 of 9\): .*\(document _id [0-9a-f]{16}, HTTP (429|503)\)$/),
      // The helper reports a 429 without the item's reason.
      expect.stringMatching(/^\[WARN\] retrying 100 of 500 documents in \d+ ms \(attempt 3 of 9\): es_rejected_execution_exception \(document _id [0-9a-f]{16}, HTTP 429\)$/)
    ])
    expect(statsLine(run.logs)[0]).toMatch(/^\[INFO\] add=500\tflush=500\tfail=0\treqs=3\t/)
  })

  it("a 429 storm on whole requests is retried with exponential backoff, then everything lands once", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    server.failNextRequests(4, 429)
    const batch = batchOf(0, 300)
    // Each round goes out when the TestClock reaches its announced wait, not a millisecond before.
    const run = await withTransport(
      attrsFor(server),
      (t, logs) =>
        Effect.gen(function* () {
          const sending = yield* Effect.fork(t.send(batch))
          const gaps: number[] = []
          for (let n = 1; n <= 4; n++) gaps.push(yield* stepBackoff(server, logs, n))
          return { dropped: yield* Fiber.join(sending), gaps, elapsed: yield* TestClock.currentTimeMillis }
        }),
      { retry: { backoffBaseMs: 40, backoffCapMs: 1000 } },
      "stepped"
    )
    const { dropped, gaps, elapsed } = value(run)
    expect(dropped).toBe(0)
    expect(server.indices.get("sfp-test")!.size).toBe(300)
    const reqs = server.bulkRequests()
    expect(reqs.map((r) => r.status)).toEqual([429, 429, 429, 429, 200])
    // Waits of 50–100 % of 40, 80, 160, 320 ms: each at least the previous one's floor doubled.
    gaps.forEach((g, i) => expect(g).toBeGreaterThanOrEqual(0.5 * 40 * 2 ** i))
    gaps.forEach((g, i) => expect(g).toBeLessThanOrEqual(40 * 2 ** i))
    expect(gaps[3]).toBeGreaterThan(gaps[0])
    expect(elapsed).toBe(gaps.reduce((a, b) => a + b, 0))
    expect(run.logs.filter((l) => l.startsWith("[WARN] retrying 300 of 300 documents"))).toHaveLength(4)
    expect(run.logs.find((l) => l.startsWith("[WARN] retrying"))).toContain(`HTTP 429 es_rejected_execution_exception: rejected execution`)
  })

  it("whole-request 503 (e.g. a proxy with a text body) is retried too", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    server.failNextRequests(2, 503, "Service Unavailable")
    const run = await withTransport(attrsFor(server), (t) => t.send(batchOf(0, 10)))
    expect(value(run)).toBe(0)
    expect(server.indices.get("sfp-test")!.size).toBe(10)
    expect(run.logs.some((l) => l.includes(`HTTP 503 Service Unavailable from ${server.url}`))).toBe(true)
  })

  it("after the last attempt, documents still refused are dropped and counted", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    const batch = batchOf(0, 50)
    server.failItems(batch.ids!.slice(0, 7), { status: 429 })
    const run = await withTransport(attrsFor(server), (t) => t.send(batch), { retry: { maxAttempts: 3, backoffBaseMs: 10 } })
    expect(value(run)).toBe(7)
    expect(server.indices.get("sfp-test")!.size).toBe(43)
    expect(server.attempts.get(id(0))).toBe(3)
    expect(run.logs).toContainEqual(
      expect.stringMatching(/^\[ERROR\] 7 documents dropped after 3 attempts \(_id 0{16}, 0{15}1, .*, \.\.\.\): es_rejected_execution_exception/)
    )
    expect(statsLine(run.logs)[0]).toMatch(/^\[INFO\] add=50\tflush=43\tfail=7\treqs=3\t/)
  })

  it("permanent per-document failures are logged with the _id and the error, never the body, and counted", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    const batch = batchOf(0, 1000)
    const bad = new Set(batch.ids!.filter((_, i) => i % 100 === 7))
    server.rejectItems((i) => bad.has(i))
    const run = await withTransport(attrsFor(server), (t) => t.send(batch))
    expect(value(run)).toBe(10)
    expect(server.indices.get("sfp-test")!.size).toBe(990)
    expect(server.bulkRequests()).toHaveLength(1) // not retried
    const errors = run.logs.filter((l) => l.startsWith("[ERROR]"))
    expect(errors).toHaveLength(10)
    expect(errors[0]).toBe(
      `[ERROR] document_parsing_exception: [1:42] failed to parse field [process.pid] of type [long] in document (document _id ${id(7)}, HTTP 400): dropped`
    )
    expect(run.logs.join("\n")).not.toContain("BODY-MARKER")
    expect(statsLine(run.logs)[0]).toMatch(/^\[INFO\] add=1000\tflush=990\tfail=10\treqs=1\t/)
  })

  it("beyond the log limit, permanent failures are summed up in one line", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    server.rejectItems(() => true, { type: "mapper_parsing_exception", reason: "failed to parse" })
    const run = await withTransport(attrsFor(server), (t) => t.send(batchOf(0, 30)), { retry: { logLimit: 5 } })
    expect(value(run)).toBe(30)
    expect(run.logs.filter((l) => l.startsWith("[ERROR] mapper_parsing_exception"))).toHaveLength(5)
    expect(run.logs).toContain("[ERROR] ... and 25 more documents dropped after permanent errors in this flush")
  })

  it("a version conflict on create means the document is already there: delivered, not dropped", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    const run = await withTransport(attrsFor(server), (t) =>
      Effect.zip(t.send(batchOf(0, 100)), t.send(batchOf(50, 150)))
    )
    expect(value(run)).toEqual([0, 0])
    expect(server.indices.get("sfp-test")!.size).toBe(150)
    expect(server.itemStatuses.get(409)).toBe(50)
    expect(run.logs).toContain(
      "[INFO] 50 documents were already in index 'sfp-test' (version_conflict_engine_exception on create, e.g. after a retried request): counted as delivered"
    )
    expect(statsLine(run.logs)[1]).toMatch(/^\[INFO\] add=100\tflush=100\tfail=0\treqs=1\t/)
  })

  it("a response slower than the request timeout is retried; documents that had landed are not duplicated", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    server.delayResponses(1500, 1)
    const batch = batchOf(0, 200)
    const run = await withTransport(attrsFor(server), (t) => t.send(batch), { ...fast, requestTimeoutMs: 500 })
    expect(value(run)).toBe(0)
    expect(server.indices.get("sfp-test")!.size).toBe(200)
    expect(server.itemStatuses.get(201)).toBe(200)
    expect(server.itemStatuses.get(409)).toBeGreaterThanOrEqual(200)
    expect(run.logs.some((l) => l.includes(`did not answer within 0.5 s`))).toBe(true)
    expect(run.logs).toContainEqual(
      expect.stringMatching(/^\[INFO\] \d+ documents were already in index 'sfp-test' \(version_conflict_engine_exception on create, e\.g\. after a retried request\): counted as delivered$/)
    )
  })

  it("a cluster that is down for a while is waited for (connection refused is retried)", async () => {
    const probe = await startBulkServer()
    const port = probe.port
    await probe.close()
    const batch = batchOf(0, 20)
    const run = await withTransport(
      { "es.addresses": `http://127.0.0.1:${port}`, "es.index": "sfp-test" },
      (t, logs) =>
        Effect.gen(function* () {
          const fiber = yield* Effect.fork(t.send(batch))
          // Two rounds are refused while the cluster is down, each after its backoff on the TestClock.
          const first = yield* nthRetryWait(logs, 1)
          yield* sleepingFor(first)
          yield* TestClock.adjust(first)
          const second = yield* nthRetryWait(logs, 2)
          yield* sleepingFor(second)
          // It comes back; the third round, after the second backoff, delivers.
          const server = yield* Effect.promise(() => serve({ indices: ["sfp-test"], port }))
          yield* TestClock.adjust(second)
          const dropped = yield* Fiber.join(fiber)
          return { dropped, stored: server.indices.get("sfp-test")!.size, requests: server.bulkRequests().length, retries: retryWarnings(logs).length }
        }),
      { retry: { backoffBaseMs: 100, backoffCapMs: 400 } },
      "stepped"
    )
    expect(value(run)).toEqual({ dropped: 0, stored: 20, requests: 1, retries: 2 })
    expect(run.logs.find((l) => l.startsWith("[WARN] retrying"))).toContain(`cannot reach Elasticsearch at http://127.0.0.1:${port}`)
  })

  it("a refused login stops the transport with a clear error and no secret", async () => {
    const server = await serve({ indices: ["sfp-test"], username: "elastic", password: "right-pass" })
    const run = await withTransport(attrsFor(server, { "es.username": "elastic", "es.password": "wrong-pass" }), (t) => t.send(batchOf(0, 5)))
    const msg = failure(run)
    expect(msg).toBe(`es: bulk request to index 'sfp-test' failed: authentication failed at ${server.url} (HTTP 401): check es.username and es.password`)
    expect([msg, ...run.logs].join("\n")).not.toMatch(/wrong-pass|right-pass/)
  })

  it("basic auth is sent", async () => {
    const server = await serve({ indices: ["sfp-test"], username: "elastic", password: "right-pass" })
    const run = await withTransport(attrsFor(server, { "es.username": "elastic", "es.password": "right-pass" }), (t) =>
      Effect.zipRight(t.test, t.send(batchOf(0, 5)))
    )
    expect(value(run)).toBe(0)
    expect(server.requests.every((r) => r.authorization === `Basic ${Buffer.from("elastic:right-pass").toString("base64")}`)).toBe(true)
  })

  it("credentials in the address URL work and are shown as *** in messages", async () => {
    const server = await serve({ indices: ["sfp-test"], username: "u1", password: "url-pass-1" })
    const good = await withTransport({ "es.addresses": `http://u1:url-pass-1@127.0.0.1:${server.port}`, "es.index": "sfp-test" }, (t) =>
      Effect.zipRight(t.test, t.send(batchOf(0, 3)))
    )
    expect(value(good)).toBe(0)
    server.failNextRequests(1, 503)
    const retried = await withTransport({ "es.addresses": `http://u1:url-pass-1@127.0.0.1:${server.port}`, "es.index": "sfp-test" }, (t) => t.send(batchOf(3, 6)))
    expect(value(retried)).toBe(0)
    expect(retried.logs.some((l) => l.includes(`HTTP 503 unavailable_shards_exception: [test][0] primary shard is not active from http://***@127.0.0.1:${server.port}`))).toBe(true)
    const bad = await withTransport({ "es.addresses": `http://u1:wrong-pass-2@127.0.0.1:${server.port}`, "es.index": "sfp-test" }, (t) => t.test)
    const msg = failure(bad)
    expect(msg).toBe(`es: cluster check (GET /): authentication failed at http://***@127.0.0.1:${server.port} (HTTP 401): check es.username and es.password`)
    expect([msg, ...good.logs, ...retried.logs, ...bad.logs].join("\n")).not.toMatch(/url-pass-1|wrong-pass-2/)
  })

  it("a mapping-free index that auto-creation would make still receives the documents (es.index.autocreate)", async () => {
    const server = await serve()
    const run = await withTransport(attrsFor(server, { "es.index.autocreate": "true" }), (t) => Effect.zipRight(t.test, t.send(batchOf(0, 3))))
    expect(value(run)).toBe(0)
    expect(server.indices.get("sfp-test")!.size).toBe(3)
    expect(run.logs).toContain(
      `[WARN] index 'sfp-test' does not exist at ${server.url}: Elasticsearch will create it at the first write (es.index.autocreate=true), with the mapping of a matching index template or a dynamic one`
    )
  })

  it("a write to a missing index that the cluster does not create is a permanent per-document failure", async () => {
    const server = await serve({ autoCreate: false })
    const run = await withTransport(attrsFor(server), (t) => t.send(batchOf(0, 3)))
    expect(value(run)).toBe(3)
    expect(run.logs[0]).toBe(`[ERROR] index_not_found_exception: no such index [sfp-test] (document _id ${id(0)}, HTTP 404): dropped`)
  })
})

describe("es transport: health check", () => {
  it("passes when the cluster answers and the index exists", async () => {
    const server = await serve({ indices: ["sfp-test"] })
    expect(Exit.isSuccess((await withTransport(attrsFor(server), (t) => t.test)).exit)).toBe(true)
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /", "HEAD /sfp-test"])
  })

  it("accepts a 403 on GET / (credentials accepted, no monitor privilege) but not on the index", async () => {
    const server = await serve({ indices: ["sfp-test"], forbidden: ["GET /"] })
    expect(Exit.isSuccess((await withTransport(attrsFor(server), (t) => t.test)).exit)).toBe(true)
    const hidden = await serve({ indices: ["sfp-test"], forbidden: ["HEAD /sfp-test"], username: "writer", password: "pw-123456" })
    const msg = failure(await withTransport(attrsFor(hidden, { "es.username": "writer", "es.password": "pw-123456" }), (t) => t.test))
    expect(msg).toBe(
      `es: index check (HEAD /sfp-test): the user is not allowed to do this at ${hidden.url} (HTTP 403): it needs the create_doc and view_index_metadata privileges on es.index`
    )
  })

  it("fails clearly when the index is missing", async () => {
    const server = await serve({ indices: ["other"] })
    expect(failure(await withTransport(attrsFor(server), (t) => t.test))).toBe(
      `es: index 'sfp-test' does not exist at ${server.url}: create it first (with the ECS mapping, see docs/elasticsearch.md), or set es.index.autocreate=true to let Elasticsearch create it at the first write`
    )
  })

  it("fails clearly when the cluster is down", async () => {
    const probe = await startBulkServer()
    await probe.close()
    const msg = failure(await withTransport({ "es.addresses": probe.url, "es.index": "x" }, (t) => t.test))
    expect(msg).toMatch(new RegExp(`^es: cluster check \\(GET /\\): cannot reach Elasticsearch at ${probe.url}: .*ECONNREFUSED`))
  })

  it("fails clearly on bad credentials, without the secret", async () => {
    const server = await serve({ indices: ["sfp-test"], username: "elastic", password: "s3cret-pw" })
    const wrong = failure(await withTransport(attrsFor(server, { "es.username": "elastic", "es.password": "guess-pw" }), (t) => t.test))
    expect(wrong).toBe(`es: cluster check (GET /): authentication failed at ${server.url} (HTTP 401): check es.username and es.password`)
    const none = failure(await withTransport(attrsFor(server), (t) => t.test))
    expect(none).toContain("the cluster requires credentials: set es.username and es.password")
  })

  it("fails within its own timeout when the cluster does not answer", async () => {
    const net = await import("node:net")
    const silent = net.createServer(() => undefined)
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()))
    const port = (silent.address() as import("node:net").AddressInfo).port
    try {
      const msg = failure(await withTransport({ "es.addresses": `http://127.0.0.1:${port}`, "es.index": "x" }, (t) => t.test, { healthTimeoutMs: 300 }))
      expect(msg).toBe(`es: cluster check (GET /): Elasticsearch at http://127.0.0.1:${port} did not answer within 0.3 s`)
    } finally {
      silent.close()
    }
  })
})

describe("es transport: TLS (P18)", () => {
  const tls = { key: fs.readFileSync(fixture("server-key.pem"), "utf8"), cert: fs.readFileSync(fixture("server-cert.pem"), "utf8") }

  it("verifies the server certificate by default: an unknown CA fails the health check with a hint", async () => {
    const server = await serve({ indices: ["sfp-test"], tls })
    const msg = failure(await withTransport(attrsFor(server), (t) => t.test))
    expect(msg).toMatch(/^es: cluster check \(GET \/\): cannot reach Elasticsearch at https:\/\/127\.0\.0\.1:\d+: .*certificate.*\(TLS verification failed: set es\.tls\.ca/)
  })

  it("an unverifiable certificate is not retried by send: it fails at once", async () => {
    const server = await serve({ indices: ["sfp-test"], tls })
    const msg = failure(await withTransport(attrsFor(server), (t) => t.send(batchOf(0, 2))))
    expect(msg).toContain("TLS verification failed")
    expect(server.bulkRequests()).toHaveLength(0)
  })

  it("es.tls.ca trusts the cluster's CA", async () => {
    const server = await serve({ indices: ["sfp-test"], tls })
    const run = await withTransport(attrsFor(server, { "es.tls.ca": fixture("ca.pem") }), (t) => Effect.zipRight(t.test, t.send(batchOf(0, 10))))
    expect(value(run)).toBe(0)
    expect(server.indices.get("sfp-test")!.size).toBe(10)
  })

  it("es.tls.skipverify=true skips verification", async () => {
    const server = await serve({ indices: ["sfp-test"], tls })
    const run = await withTransport(attrsFor(server, { "es.tls.skipverify": "true" }), (t) => Effect.zipRight(t.test, t.send(batchOf(0, 10))))
    expect(value(run)).toBe(0)
  })
})
