/**
 * Delivers one exporter batch to Elasticsearch with the official client's bulk helper
 * (`client.helpers.bulk`), action `create` with `_id` = the ECS document id (pipeline.md §11.6).
 *
 * The helper runs in rounds. Its own retries are off (`retries: 0`) and so are the client's
 * (`maxRetries: 0`), so one policy covers everything, with exponential backoff between rounds:
 * * a document answered 429 or 5xx is sent again in the next round;
 * * a whole request answered 429 or 5xx, or lost (connection refused or reset, timeout), aborts the
 *   round; the next round sends again every document not yet settled. Documents that did land are then
 *   answered `version_conflict_engine_exception` (we use `create`), which counts as delivered;
 * * after `maxAttempts` rounds the documents still unsettled are dropped;
 * * any other per-document failure (a mapping error, 400) is permanent: logged with the `_id`, the
 *   error type and reason (never the document), and dropped;
 * * any other whole-request failure (401, 403, 404, 413, a server that is not Elasticsearch) means the
 *   transport cannot go on: `send` fails.
 */
import type { Client } from "@elastic/elasticsearch"
import { Clock, Effect, Redacted } from "effect"
import { ExportError, errorText } from "../../../../domain/errors.js"
import type { ExportBatch } from "../../ExportBatch.js"
import { type EsSettings, redactUrl } from "./EsConfig.js"
import { formatGoDurationMs } from "./goDuration.js"
import { add, exportRetries } from "../../../metrics/Metrics.js"

export interface RetryPolicy {
  /** Rounds per batch, the first included. */
  readonly maxAttempts: number
  /** Wait before the second round; doubled for each further round (with jitter: 50–100 % of it). */
  readonly backoffBaseMs: number
  /** Longest wait between two rounds. */
  readonly backoffCapMs: number
  /** Permanent per-document failures logged one by one per batch; the rest are counted in one line. */
  readonly logLimit: number
}

export const defaultRetryPolicy: RetryPolicy = { maxAttempts: 9, backoffBaseMs: 200, backoffCapMs: 10_000, logLimit: 100 }

/** Per-request counter, passed as the request `context` and counted from the client's diagnostics. */
export interface RequestCounter extends Record<string, unknown> {
  readonly sfprocessorBulk: true
  requests: number
}

interface ItemFailure {
  readonly index: number
  readonly status: number
  readonly type: string
  readonly reason: string
}

interface RoundResult {
  readonly permanent: ReadonlyArray<ItemFailure>
  /** Indices answered `version_conflict_engine_exception`: already in the index. */
  readonly conflicts: ReadonlyArray<number>
  /** Indices answered 429 or 5xx. */
  readonly retry: ReadonlyArray<number>
  readonly lastRetry: ItemFailure | undefined
  /** Set when a whole request failed and the helper stopped. */
  readonly aborted: { readonly error: unknown } | undefined
}

const MAX_REASON = 500
const clip = (s: string): string => (s.length > MAX_REASON ? `${s.slice(0, MAX_REASON)}…` : s)

/** Statistics of one flush, as the reference's bulk-indexer stats. */
export interface FlushStats {
  readonly added: number
  readonly flushed: number
  readonly failed: number
  readonly requests: number
  readonly durationMs: number
}

/**
 * `add=N\tflush=N\tfail=N\treqs=N\tdur=<d>\t<rate> recs/s` with Go's `%-6s` and `%6d`. The reference
 * divided by the whole milliseconds of the flush and overflowed under 1 ms; the divisor is at least
 * 1 ms here (P27).
 */
export const formatStatsLine = (s: FlushStats): string => {
  const ms = Math.max(0, Math.trunc(s.durationMs))
  const rate = Math.trunc((1000 * s.added) / Math.max(ms, 1))
  return `add=${s.added}\tflush=${s.flushed}\tfail=${s.failed}\treqs=${s.requests}\tdur=${formatGoDurationMs(ms).padEnd(6)}\t${String(rate).padStart(6)} recs/s`
}

/** A failed request, described without secrets (never the request, its headers or its body). */
export interface RequestFailure {
  readonly retryable: boolean
  readonly status: number | undefined
  readonly text: string
}

const errorName = (e: unknown): string => (e instanceof Error ? e.name : typeof e)

interface EsErrorBody {
  readonly error?: { readonly type?: string; readonly reason?: string } | string
  readonly status?: number
}

const statusOf = (e: unknown): number | undefined => {
  const meta = (e as { meta?: { statusCode?: unknown } }).meta
  return typeof meta?.statusCode === "number" ? meta.statusCode : undefined
}

const bodyText = (e: unknown): string => {
  const body = (e as { meta?: { body?: unknown } }).meta?.body
  if (typeof body === "object" && body !== null) {
    const err = (body as EsErrorBody).error
    if (typeof err === "string") return clip(err)
    if (err !== undefined && err.type !== undefined) return clip(err.reason === undefined ? err.type : `${err.type}: ${err.reason}`)
  }
  if (typeof body === "string" && body.trim() !== "") return clip(body.trim())
  return ""
}

/**
 * Describes a failed client call. 401 and 403 answers are described without the server's reason (it
 * names the user, a secret in the vault model).
 */
export const describeFailure = (e: unknown, settings: Pick<EsSettings, "addresses" | "username" | "password">, timeoutMs: number): RequestFailure => {
  const where = settings.addresses.map(redactUrl).join(",")
  const name = errorName(e)
  const status = statusOf(e)
  switch (name) {
    case "ResponseError": {
      if (status === 401) {
        const given = settings.username !== undefined || settings.password !== undefined || settings.addresses.some((a) => /^[^/]*\/\/[^/]*@/.test(a))
        const hint = given ? "check es.username and es.password" : "the cluster requires credentials: set es.username and es.password"
        return { retryable: false, status, text: `authentication failed at ${where} (HTTP 401): ${hint}` }
      }
      if (status === 403) {
        return { retryable: false, status, text: `the user is not allowed to do this at ${where} (HTTP 403): it needs the create_doc and view_index_metadata privileges on es.index` }
      }
      const detail = bodyText(e)
      return {
        retryable: status === 429 || (status !== undefined && status >= 500),
        status,
        text: `HTTP ${status ?? "?"}${detail === "" ? "" : ` ${detail}`} from ${where}`
      }
    }
    case "ConnectionError": {
      const msg = errorText(e)
      const tlsHint = /certificate|self[- ]signed|altnames|CERT_|UNABLE_TO/i.test(msg)
        ? " (TLS verification failed: set es.tls.ca to the cluster's CA certificate, or es.tls.skipverify=true to skip verification)"
        : ""
      return { retryable: tlsHint === "", status, text: `cannot reach Elasticsearch at ${where}: ${clip(msg)}${tlsHint}` }
    }
    case "TimeoutError":
      return { retryable: true, status, text: `Elasticsearch at ${where} did not answer within ${timeoutMs / 1000} s` }
    case "NoLivingConnectionsError":
      return { retryable: true, status, text: `no Elasticsearch node of ${where} is reachable` }
    case "ProductNotSupportedError":
      return { retryable: false, status, text: `the server at ${where} is not Elasticsearch (no 'x-elastic-product: Elasticsearch' header)` }
    case "RequestAbortedError":
      return { retryable: false, status, text: "request aborted" }
    default:
      return { retryable: false, status, text: `${name}: ${clip(errorText(e))}` }
  }
}

/** Removes the password (and URL credentials) from a text that may quote what the client or server said. */
export const scrubber = (settings: Pick<EsSettings, "password">) => {
  const secret = settings.password === undefined ? "" : Redacted.value(settings.password)
  return (text: string): string => {
    let out = text.replace(/([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/@\s]*@/g, "$1***@")
    if (secret.length >= 3) out = out.split(secret).join("***")
    return out
  }
}

/** One run of the bulk helper over `indices` of the batch. Never rejects: failures are in the result. */
const runRound = async (
  client: Client,
  settings: EsSettings,
  batch: ExportBatch,
  ids: ReadonlyArray<string>,
  indices: ReadonlyArray<number>,
  counter: RequestCounter,
  signal: AbortSignal
): Promise<RoundResult> => {
  const permanent: ItemFailure[] = []
  const conflicts: number[] = []
  const retry: number[] = []
  let lastRetry: ItemFailure | undefined
  // `_id` -> the batch positions with that id, built at the first failure only.
  let positions: Map<string, number[]> | undefined
  const positionOf = (id: string): number | undefined => {
    if (positions === undefined) {
      positions = new Map()
      for (const i of indices) {
        const list = positions.get(ids[i])
        if (list === undefined) positions.set(ids[i], [i])
        else list.push(i)
      }
    }
    return positions.get(id)?.shift()
  }
  const helper = client.helpers.bulk<number>(
    {
      datasource: indices as number[],
      onDocument: (i) => [{ create: { _id: ids[i] } }, batch.lines[i]],
      index: settings.index,
      flushBytes: settings.flushBytes,
      flushInterval: Math.min(settings.flushTimeoutMs, 2_147_483_647),
      concurrency: settings.numWorkers,
      retries: 0,
      onDrop: (drop) => {
        const action = drop.operation as { create?: { _id?: string } }
        const id = action.create?._id
        const i = id === undefined ? undefined : positionOf(id)
        if (i === undefined) return
        const status = drop.status
        const type = drop.error?.type ?? (status === 429 ? "es_rejected_execution_exception" : "error")
        const failure: ItemFailure = { index: i, status, type, reason: clip(drop.error?.reason ?? "") }
        if (status === 409 && type === "version_conflict_engine_exception") conflicts.push(i)
        else if (status === 429 || status >= 500) {
          retry.push(i)
          lastRetry = failure
        } else permanent.push(failure)
      }
    },
    { context: counter, signal }
  )
  const onAbort = () => void helper.abort()
  signal.addEventListener("abort", onAbort, { once: true })
  try {
    await helper
    return { permanent, conflicts, retry, lastRetry, aborted: undefined }
  } catch (error) {
    return { permanent, conflicts, retry, lastRetry, aborted: { error } }
  } finally {
    signal.removeEventListener("abort", onAbort)
  }
}

const backoffMs = (policy: RetryPolicy, attempt: number): number => {
  const full = Math.min(policy.backoffCapMs, policy.backoffBaseMs * 2 ** (attempt - 1))
  return Math.round(full * (0.5 + Math.random() / 2))
}

const itemText = (f: Pick<ItemFailure, "type" | "reason">): string => `${f.type}${f.reason === "" ? "" : `: ${f.reason}`}`

/**
 * Sends a batch; resolves with the number of documents dropped. Fails only when the cluster refuses
 * the requests themselves for a reason a retry cannot fix.
 */
export const sendBatch = (
  client: Client,
  settings: EsSettings,
  policy: RetryPolicy,
  requestTimeoutMs: number,
  batch: ExportBatch
): Effect.Effect<number, ExportError> =>
  Effect.gen(function* () {
    const n = batch.lines.length
    if (n === 0) return 0
    const ids = batch.ids
    if (ids === undefined || ids.length !== n) {
      return yield* new ExportError({
        reason: "Encode",
        transport: "es",
        detail: "expected ECS documents with ids as exported data (export 'es' needs format 'ecs')"
      })
    }
    const scrub = scrubber(settings)
    const start = yield* Clock.currentTimeMillis
    const counter: RequestCounter = { sfprocessorBulk: true, requests: 0 }
    const permanent: ItemFailure[] = []
    const conflicts = new Set<number>()
    let exhausted: ReadonlyArray<number> = []
    let lastRetryText = ""
    let pending: ReadonlyArray<number> = Array.from({ length: n }, (_, i) => i)
    for (let attempt = 1; ; attempt++) {
      const round = yield* Effect.promise((signal) => runRound(client, settings, batch, ids, pending, counter, signal))
      for (const f of round.permanent) permanent.push(f)
      for (const i of round.conflicts) conflicts.add(i)
      let next: ReadonlyArray<number>
      if (round.aborted !== undefined) {
        const failure = describeFailure(round.aborted.error, settings, requestTimeoutMs)
        if (!failure.retryable) {
          return yield* new ExportError({
            reason: "Write",
            transport: "es",
            detail: scrub(`bulk request to index '${settings.index}' failed: ${failure.text}`)
          })
        }
        lastRetryText = failure.text
        // Unknown which documents of the lost requests landed: send every unsettled one again.
        const settled = new Set<number>([...round.permanent.map((f) => f.index), ...round.conflicts])
        next = pending.filter((i) => !settled.has(i))
      } else {
        // The client reports 5xx refusals at once and 429s after the round: resend in batch order.
        next = [...round.retry].sort((a, b) => a - b)
        if (round.lastRetry !== undefined) {
          lastRetryText = `${itemText(round.lastRetry)} (document _id ${ids[round.lastRetry.index]}, HTTP ${round.lastRetry.status})`
        }
      }
      if (next.length === 0) break
      if (attempt >= policy.maxAttempts) {
        exhausted = next
        break
      }
      const wait = backoffMs(policy, attempt)
      yield* add(exportRetries, next.length, { transport: "es" })
      yield* Effect.logWarning(
        scrub(`retrying ${next.length} of ${n} documents in ${wait} ms (attempt ${attempt + 1} of ${policy.maxAttempts}): ${lastRetryText}`)
      )
      yield* Effect.sleep(wait)
      pending = next
    }
    for (const f of permanent.slice(0, policy.logLimit)) {
      yield* Effect.logError(scrub(`${itemText(f)} (document _id ${ids[f.index]}, HTTP ${f.status}): dropped`))
    }
    if (permanent.length > policy.logLimit) {
      yield* Effect.logError(`... and ${permanent.length - policy.logLimit} more documents dropped after permanent errors in this flush`)
    }
    if (exhausted.length > 0) {
      const sample = exhausted.slice(0, 5).map((i) => ids[i]).join(", ")
      yield* Effect.logError(
        scrub(
          `${exhausted.length} documents dropped after ${policy.maxAttempts} attempts (_id ${sample}${exhausted.length > 5 ? ", ..." : ""}): ${lastRetryText}`
        )
      )
    }
    if (conflicts.size > 0) {
      yield* Effect.logInfo(
        `${conflicts.size} documents were already in index '${settings.index}' (version_conflict_engine_exception on create, e.g. after a retried request): counted as delivered`
      )
    }
    const dropped = permanent.length + exhausted.length
    const end = yield* Clock.currentTimeMillis
    yield* Effect.logInfo(formatStatsLine({ added: n, flushed: n - dropped, failed: dropped, requests: counter.requests, durationMs: end - start }))
    return dropped
  })
