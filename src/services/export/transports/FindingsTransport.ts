/**
 * `export: findings` (pipeline.md §12; decision F1): posts every occurrence the occurrence encoder emits
 * to IBM Findings, in order, authenticated with an IAM token obtained from `findings.apikey` (cached
 * until it nears expiry, F5) at `findings.url` (honoured, F3).
 *
 * Delivery: network errors, 429 and 5xx are retried with exponential backoff (5 attempts, honouring
 * `Retry-After`); a 401 gets a new token and one more try. An occurrence that still fails, or that the
 * API rejects (other 4xx), is logged with its id and counted as dropped; once one occurrence has used up
 * its retries, the rest of that batch gets a single attempt each (until one succeeds), so an outage
 * costs one retry cycle per batch. A permanently failing token request (a bad key) drops the rest of the
 * batch. `send` itself never fails.
 *
 * Health check: the provider's notes must include `notification` and `actionable-offense`.
 */
import { Effect } from "effect"
import { ExportError } from "../../../domain/errors.js"
import { entryError } from "../../kernel/AttributeDecoder.js"
import {
  HEALTH_RETRY,
  type HttpFailure,
  makeFindingsApi,
  type RetryPolicy,
  SEND_RETRY
} from "../findings/FindingsApi.js"
import { decodeFindingsConfig } from "../findings/FindingsConfig.js"
import { NOTIFICATION_NOTE, OFFENSE_NOTE, parseOccurrenceLine } from "../findings/Occurrence.js"
import { readSecret } from "../Secrets.js"
import type { TransportFactory } from "../Transport.js"

export interface FindingsTransportOptions {
  readonly sendRetry?: RetryPolicy
  readonly healthRetry?: RetryPolicy
  /** Per HTTP request (default 30 s). */
  readonly requestTimeoutMs?: number
  /** Clock for token lifetimes (ms). */
  readonly now?: () => number
}

const configError = (detail: string) => entryError("exporter", detail)

const healthError = (detail: string) => new ExportError({ reason: "Health", transport: "findings", detail })

const healthFailure = (e: HttpFailure): ExportError =>
  e.stage === "api" && e.status !== undefined
    ? healthError(`bad response code while checking Findings API: ${e.status}`)
    : healthError(`couldn't list notes using Findings API: ${e.detail}`)

export const makeFindingsTransportWith =
  (options: FindingsTransportOptions = {}): TransportFactory =>
  (attrs) =>
    Effect.gen(function* () {
      const config = yield* decodeFindingsConfig(attrs)
      const apiKey = yield* readSecret(attrs, "findings.apikey")
      if (apiKey === undefined || apiKey === "") {
        return yield* configError("findings.apikey is required (set it, EXPORTER_FINDINGS_APIKEY, or vault.secrets)")
      }
      if (config.accountId === "") return yield* configError("findings.accountid is required")
      if (config.provider === "") return yield* configError("findings.provider is required")

      const sendRetry = options.sendRetry ?? SEND_RETRY
      const healthRetry = options.healthRetry ?? HEALTH_RETRY
      const clock = yield* Effect.clock
      const api = yield* makeFindingsApi(config, apiKey, {
        requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
        now: options.now ?? (() => clock.unsafeCurrentTimeMillis())
      })

      const send = (batch: { readonly lines: ReadonlyArray<string> }) =>
        Effect.gen(function* () {
          let dropped = 0
          let degraded = false
          const lines = batch.lines
          for (let i = 0; i < lines.length; i++) {
            const occ = parseOccurrenceLine(lines[i])
            if (occ === undefined) {
              yield* Effect.logError("Findings: Expected Occurrence object as exported data; record dropped")
              dropped++
              continue
            }
            const attempts = degraded ? 1 : sendRetry.attempts
            const r = yield* Effect.either(api.createOccurrence(occ, { ...sendRetry, attempts }))
            if (r._tag === "Right") {
              degraded = false
              yield* Effect.logTrace(`Findings: created occurrence ${occ.id} (HTTP ${r.right})`)
              continue
            }
            const e = r.left
            if (e.stage === "token" && e.kind === "permanent") {
              const rest = lines.length - i
              yield* Effect.logError(
                `Findings: error while creating occurrence ${occ.id}: ${e.detail}; dropping it and the ${rest - 1} after it in this batch`
              )
              dropped += rest
              break
            }
            if (e.kind === "transient") degraded = true
            const retried = e.kind === "transient" ? ` (${attempts} attempt${attempts === 1 ? "" : "s"})` : ""
            yield* Effect.logError(`Findings: error while creating occurrence ${occ.id}: ${e.detail}${retried}; occurrence dropped`)
            dropped++
          }
          return dropped
        })

      const test = api.listNotes(healthRetry).pipe(
        Effect.mapError(healthFailure),
        Effect.flatMap((ids) => {
          const missing = [NOTIFICATION_NOTE, OFFENSE_NOTE].filter((id) => !ids.includes(id))
          return missing.length === 0
            ? Effect.void
            : Effect.fail(
                healthError(
                  `Provider doesn't contain required note IDs: ${NOTIFICATION_NOTE}, ${OFFENSE_NOTE} (missing: ${missing.join(", ")})`
                )
              )
        })
      )

      return { name: "findings", send, test }
    })

export const makeFindingsTransport: TransportFactory = makeFindingsTransportWith()
