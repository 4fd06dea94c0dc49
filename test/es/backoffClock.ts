/**
 * Drives the `es` transport's retry backoff with TestClock: the bulk sender sleeps through
 * `Effect.sleep`, so a round is only sent again when the test moves the TestClock past the wait it
 * announced. The server (test/support/bulkServer.ts) is real, so its requests arrive in real time: the
 * helpers poll it with short real pauses, outside the TestClock.
 */
import { Chunk, Effect, Layer, Logger, TestClock } from "effect"
import { expect } from "@effect/vitest"
import type { ExporterConfig } from "../../src/services/export/ExporterConfig.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { type EsTransportOptions, makeEsTransportWith } from "../../src/services/export/transports/EsTransport.js"
import type { BulkServer } from "../support/bulkServer.js"

export const exporterConfig: ExporterConfig = { export: "es", format: "ecs", buffer: 0, jsonSchemaVersion: "5", filePath: "./export.out", warnings: [] }

/** Real time passing (sockets, the server), outside the TestClock. */
export const realPause = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

/** Waits in real time (up to `timeoutMs`) until `cond()` holds; dies naming `what` otherwise. */
export const until = (cond: () => boolean, what: () => string, timeoutMs = 10_000) =>
  Effect.gen(function* () {
    const deadline = performance.now() + timeoutMs
    while (!cond()) {
      if (performance.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what()}`))
      yield* realPause(2)
    }
  })

/** Log lines as `[LEVEL] message`, and a layer that captures them (with the terminal output). */
export const captureLogs = () => {
  const logs: string[] = []
  const logger = Logger.make(({ logLevel, message }) => void logs.push(`[${logLevel.label}] ${(Array.isArray(message) ? message : [message]).join(" ")}`))
  return { logs, layer: Layer.merge(TerminalOutput.capture([]), Logger.replace(Logger.defaultLogger, logger)) }
}

/** The `es` transport for `attrs` (format `ecs`), closed with the enclosing scope. */
export const esTransport = (attrs: Record<string, unknown>, options: EsTransportOptions = {}) => makeEsTransportWith(options)({ format: "ecs", ...attrs }, exporterConfig)

export const retryWarnings = (logs: ReadonlyArray<string>) => logs.filter((l) => l.startsWith("[WARN] retrying"))

/** The wait announced by a retry warning: `retrying N of M documents in <wait> ms (attempt A of B): ...`. */
export const announcedWait = (line: string): { readonly wait: number; readonly attempt: number; readonly of: number } => {
  const m = /in (\d+) ms \(attempt (\d+) of (\d+)\)/.exec(line)
  if (m === null) throw new Error(`not a retry warning: ${line}`)
  return { wait: Number(m[1]), attempt: Number(m[2]), of: Number(m[3]) }
}

/** Waits in real time for the `n`-th retry warning (n from 1) and returns the wait it announces. */
export const nthRetryWait = (logs: ReadonlyArray<string>, n: number) =>
  Effect.map(
    until(
      () => retryWarnings(logs).length >= n,
      () => `retry warning ${n}; logs:\n${logs.join("\n")}`
    ),
    () => announcedWait(retryWarnings(logs)[n - 1]).wait
  )

/** Waits in real time until the TestClock holds a sleep ending `ms` from now (the warning comes just before it). */
export const sleepingFor = (ms: number) =>
  Effect.gen(function* () {
    const deadline = performance.now() + 10_000
    for (;;) {
      const now = yield* TestClock.currentTimeMillis
      const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((at) => at - now)
      if (sleeps.includes(ms)) return
      if (performance.now() > deadline) return yield* Effect.die(new Error(`no ${ms}-ms sleep on the TestClock, only ${JSON.stringify(sleeps)}`))
      yield* realPause(2)
    }
  })

/**
 * One backoff step: waits for the `n`-th retry warning (n from 1), checks that the sender sleeps
 * exactly the announced wait on the TestClock, moves the clock to 1 ms short of it and checks that no
 * bulk request went out (a real pause leaves the server time to see one), then moves the last
 * millisecond and waits for the next bulk request. Returns the announced wait.
 */
export const stepBackoff = (server: BulkServer, logs: ReadonlyArray<string>, n: number) =>
  Effect.gen(function* () {
    const wait = yield* nthRetryWait(logs, n)
    const requests = server.bulkRequests().length
    yield* sleepingFor(wait)
    yield* TestClock.adjust(wait - 1)
    yield* realPause(20)
    expect(server.bulkRequests().length, `a bulk request went out ${wait - 1} ms into a ${wait}-ms backoff`).toBe(requests)
    yield* TestClock.adjust(1)
    yield* until(
      () => server.bulkRequests().length > requests,
      () => `the bulk request after the ${wait}-ms backoff ${n}`
    )
    return wait
  })
