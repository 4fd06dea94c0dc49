/**
 * The Elasticsearch bulk sender's retry backoff on Effect's Clock, driven by TestClock, against a real
 * loopback stand-in (test/support/bulkServer.ts), with the default retry policy (9 attempts, 200 ms
 * doubling to 10 s). The backoff's jitter (50–100 % of the wait) comes from Math.random, not from
 * Effect's Random, so the waits are checked against their ranges and the clock is moved by the wait
 * each warning announces.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import type { ExportBatch } from "../../src/services/export/ExportBatch.js"
import { defaultRetryPolicy } from "../../src/services/export/transports/es/BulkSender.js"
import { formatGoDurationMs } from "../../src/services/export/transports/es/goDuration.js"
import { type BulkServer, startBulkServer } from "../support/bulkServer.js"
import { announcedWait, captureLogs, esTransport, retryWarnings, stepBackoff } from "./backoffClock.js"

const id = (i: number) => i.toString(16).padStart(16, "0")
const batchOf = (n: number): ExportBatch => {
  const lines: string[] = []
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ "@timestamp": "2021-05-25T16:25:14.570130505Z", event: { kind: "event" }, process: { pid: i, name: `proc-${i}` } }))
    ids.push(id(i))
  }
  return { lines, ids }
}

const server = Effect.acquireRelease(
  Effect.promise(() => startBulkServer({ indices: ["sfp-test"] })),
  (s) => Effect.promise(() => s.close())
)
const attrsFor = (s: BulkServer) => ({ "es.addresses": s.url, "es.index": "sfp-test", "es.bulk.numWorkers": "1" })

/** The full wait before attempt `attempt + 1` under the default policy; the jitter keeps 50–100 % of it. */
const fullWait = (attempt: number) => Math.min(defaultRetryPolicy.backoffCapMs, defaultRetryPolicy.backoffBaseMs * 2 ** (attempt - 1))

/** `_id`s of a bulk request body, in the order sent. */
const idsOf = (body: string) =>
  body
    .split("\n")
    .filter((l) => l.startsWith('{"create"'))
    .map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id)

describe("es bulk backoff (TestClock)", () => {
  it.scoped("a 429 answer to 8 whole requests: each round waits its backoff on the clock, the 9th delivers every document once, in order", () => {
    const { logs, layer } = captureLogs()
    return Effect.gen(function* () {
      const es = yield* server
      es.failNextRequests(8, 429)
      const batch = batchOf(300)
      const t = yield* esTransport(attrsFor(es))
      const realStart = performance.now()
      const sending = yield* Effect.fork(t.send(batch))

      const waits: number[] = []
      for (let n = 1; n <= 8; n++) waits.push(yield* stepBackoff(es, logs, n))
      expect(yield* Fiber.join(sending)).toBe(0)

      // Exponential, capped at 10 s, with 50–100 % jitter: 100–200, 200–400, ... 5000–10000 ms.
      waits.forEach((w, i) => {
        expect(w).toBeGreaterThanOrEqual(Math.round(fullWait(i + 1) / 2))
        expect(w).toBeLessThanOrEqual(fullWait(i + 1))
      })
      // The warnings name the attempt to come and the cause.
      expect(retryWarnings(logs).map((l) => announcedWait(l))).toEqual(waits.map((wait, i) => ({ wait, attempt: i + 2, of: 9 })))
      for (const l of retryWarnings(logs)) {
        expect(l).toMatch(/^\[WARN\] retrying 300 of 300 documents in \d+ ms \(attempt \d of 9\): HTTP 429 es_rejected_execution_exception: rejected execution/)
      }

      // Exactly once each, in order: every round sent the whole batch in order, only the last one was stored.
      expect(es.bulkRequests().map((r) => r.status)).toEqual([...Array(8).fill(429), 200])
      for (const body of es.bodies) expect(idsOf(body)).toEqual(batch.ids)
      const stored = es.indices.get("sfp-test")!
      expect([...stored.keys()]).toEqual(batch.ids)
      expect([...stored.values()]).toEqual(batch.lines)
      expect(es.itemStatuses.get(201)).toBe(300)
      expect(es.itemStatuses.has(409)).toBe(false)

      // The flush's duration is read from the Clock: the waits, nothing else.
      const total = waits.reduce((a, b) => a + b, 0)
      expect(yield* TestClock.currentTimeMillis).toBe(total)
      const stats = logs.filter((l) => l.startsWith("[INFO] add="))
      expect(stats).toEqual([`[INFO] add=300\tflush=300\tfail=0\treqs=9\tdur=${formatGoDurationMs(total).padEnd(6)}\t${String(Math.trunc((1000 * 300) / total)).padStart(6)} recs/s`])
      // At least 16.3 s of backoff on the TestClock, no real sleep of it.
      expect(total).toBeGreaterThanOrEqual(16_300)
      expect(performance.now() - realStart).toBeLessThan(total / 4)
    }).pipe(Effect.provide(layer))
  })

  it.scoped("per-document 429 and 503: only the refused documents are sent again, each after its backoff on the clock, and all land once", () => {
    const { logs, layer } = captureLogs()
    return Effect.gen(function* () {
      const es = yield* server
      const batch = batchOf(500)
      const ids = batch.ids!
      es.failItems(ids.slice(0, 5), { status: 429, times: 3 })
      es.failItems(ids.slice(100, 110), { status: 503, times: 1 })
      const t = yield* esTransport(attrsFor(es))
      const sending = yield* Effect.fork(t.send(batch))

      const waits: number[] = []
      for (let n = 1; n <= 3; n++) waits.push(yield* stepBackoff(es, logs, n))
      expect(yield* Fiber.join(sending)).toBe(0)
      waits.forEach((w, i) => expect(w).toBeGreaterThanOrEqual(Math.round(fullWait(i + 1) / 2)))
      waits.forEach((w, i) => expect(w).toBeLessThanOrEqual(fullWait(i + 1)))

      expect(retryWarnings(logs)).toEqual([
        expect.stringMatching(/^\[WARN\] retrying 15 of 500 documents in \d+ ms \(attempt 2 of 9\): .*\(document _id [0-9a-f]{16}, HTTP (429|503)\)$/),
        expect.stringMatching(/^\[WARN\] retrying 5 of 500 documents in \d+ ms \(attempt 3 of 9\): es_rejected_execution_exception \(document _id 0{15}[0-4], HTTP 429\)$/),
        expect.stringMatching(/^\[WARN\] retrying 5 of 500 documents in \d+ ms \(attempt 4 of 9\): es_rejected_execution_exception \(document _id 0{15}[0-4], HTTP 429\)$/)
      ])
      // Each round sends only what is still refused, in the batch's order (the client reports 5xx
      // refusals at once and 429s after the round; the sender puts them back in order).
      expect(es.bodies.map((b) => idsOf(b))).toEqual([ids, [...ids.slice(0, 5), ...ids.slice(100, 110)], ids.slice(0, 5), ids.slice(0, 5)])
      expect(es.attempts.get(id(0))).toBe(4)
      expect(es.attempts.get(id(100))).toBe(2)
      expect(es.attempts.get(id(200))).toBe(1)
      const stored = es.indices.get("sfp-test")!
      expect(stored.size).toBe(500)
      ids.forEach((i, k) => expect(stored.get(i)).toBe(batch.lines[k]))
      expect(es.itemStatuses.get(201)).toBe(500)
      expect(es.itemStatuses.has(409)).toBe(false)
      expect(yield* TestClock.currentTimeMillis).toBe(waits.reduce((a, b) => a + b, 0))
    }).pipe(Effect.provide(layer))
  })
})
