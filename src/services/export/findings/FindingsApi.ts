/**
 * A small client for the parts of IBM's Findings API that the transport uses (pipeline.md §12): IAM
 * API-key tokens (cached until they near expiry, F5), `POST …/occurrences` and `GET …/notes`, each with
 * bounded retries of transient failures.
 *
 * Secrets (the API key, tokens) are never part of an error or log text: every text that comes from the
 * network passes `redact` first.
 */
import { Data, Duration, Effect, Schema } from "effect"
import type { FindingsConfig } from "./FindingsConfig.js"
import type { Occurrence } from "./Occurrence.js"
import { add, exportRetries } from "../../metrics/Metrics.js"

/** Why a request did not succeed. `transient` failures are worth retrying; `unauthorized` is a 401. */
export class HttpFailure extends Data.TaggedError("HttpFailure")<{
  readonly kind: "transient" | "permanent" | "unauthorized"
  /** Which call failed: the IAM token request or the Findings API call. */
  readonly stage: "token" | "api"
  readonly status: number | undefined
  /** Human-readable, secrets removed. */
  readonly detail: string
  /** From a `Retry-After` header (429/503), in ms. */
  readonly retryAfterMs?: number | undefined
}> {
  override get message(): string {
    return this.detail
  }
}

export interface RetryPolicy {
  /** Attempts in all (1 = no retry). */
  readonly attempts: number
  /** Delay before the second attempt; doubled for each further one. */
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

export const SEND_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8_000 }
export const HEALTH_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 1_000 }

export interface ApiOptions {
  readonly requestTimeoutMs: number
  /** Milliseconds now, for token lifetimes and Retry-After dates (the runtime's Clock by default). */
  readonly now: () => number
}

const MAX_BODY_TEXT = 500

/** Runs `attempt` until it succeeds, fails for good, or used up the policy's attempts. */
export const withRetries = <A>(attempt: Effect.Effect<A, HttpFailure>, policy: RetryPolicy): Effect.Effect<A, HttpFailure> =>
  Effect.gen(function* () {
    for (let i = 1; ; i++) {
      const r = yield* Effect.either(attempt)
      if (r._tag === "Right") return r.right
      const e = r.left
      if (e.kind !== "transient" || i >= policy.attempts) return yield* Effect.fail(e)
      const backoff = policy.baseDelayMs * 2 ** (i - 1)
      const delay = Math.min(policy.maxDelayMs, Math.max(backoff, e.retryAfterMs ?? 0))
      yield* Effect.logTrace(`Findings: ${e.detail}; retrying in ${delay} ms (attempt ${i + 1} of ${policy.attempts})`)
      yield* add(exportRetries, 1, { transport: "findings" })
      yield* Effect.sleep(Duration.millis(delay))
    }
  })

/** A Retry-After header (seconds, or an HTTP date compared with `now`, the runtime's Clock) in ms. */
const retryAfterMs = (h: string | null, now: number): number | undefined => {
  if (h === null) return undefined
  const secs = Number(h)
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000
  const at = Date.parse(h)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

const classify = (status: number): HttpFailure["kind"] =>
  status === 401 ? "unauthorized" : status === 429 || status >= 500 ? "transient" : "permanent"

const TokenResponse = Schema.Struct({
  access_token: Schema.String,
  expires_in: Schema.optional(Schema.Number),
  expiration: Schema.optional(Schema.Number)
})
const decodeToken = Schema.decodeUnknownEither(Schema.parseJson(TokenResponse))

const NotesResponse = Schema.Struct({ notes: Schema.optionalWith(Schema.Array(Schema.Struct({ id: Schema.String })), { default: () => [] }) })
const decodeNotes = Schema.decodeUnknownEither(Schema.parseJson(NotesResponse))

interface CachedToken {
  readonly token: string
  /** Fetch a new one from here on (80% of the lifetime, as IBM's SDKs do). */
  readonly refreshAt: number
  readonly expiresAt: number
}

export interface FindingsApi {
  /** `POST <url>/v1/<account>/providers/<provider>/occurrences`; a 401 gets one retry with a new token. */
  readonly createOccurrence: (occ: Occurrence, policy: RetryPolicy) => Effect.Effect<number, HttpFailure>
  /** The note ids of `GET <url>/v1/<account>/providers/<provider>/notes` (first page). */
  readonly listNotes: (policy: RetryPolicy) => Effect.Effect<ReadonlyArray<string>, HttpFailure>
  /** Removes secrets from a text that may echo them. */
  readonly redact: (text: string) => string
}

/** Go's `encoding/json` escapes these (the reference's request bodies did). */
const goHtmlEscape = (json: string): string =>
  json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)

/** The request body (keys sorted, as the reference's SDK serialised them). */
export const occurrenceBody = (config: FindingsConfig, occ: Occurrence): string =>
  goHtmlEscape(
    JSON.stringify({
      context: { region: config.region, resource_name: occ.resourceName, resource_type: occ.resourceType },
      finding: {
        certainty: occ.certainty,
        next_steps: [
          {
            title: "Finding Context",
            url: `${config.sqlQueryUrl}/?instance_crn=${config.sqlQueryCrn}&statement=${occ.alertQuery}`
          }
        ],
        severity: occ.severity
      },
      id: occ.id,
      kind: "FINDING",
      long_description: occ.longDescription,
      note_name: `${config.accountId}/providers/${config.provider}/notes/${occ.noteID}`,
      short_description: occ.shortDescription
    })
  )

export const makeFindingsApi = (config: FindingsConfig, apiKey: string, options: ApiOptions): Effect.Effect<FindingsApi> =>
  Effect.gen(function* () {
    // The key and the last two tokens (a refreshed token's predecessor may still be in flight).
    let tokens: ReadonlyArray<string> = []
    const redact = (text: string): string => {
      let out = text
      for (const s of [apiKey, ...tokens]) if (s.length >= 4) out = out.replaceAll(s, "***")
      return out
    }
    const base = `${config.url}/v1/${encodeURIComponent(config.accountId)}/providers/${encodeURIComponent(config.provider)}`
    const lock = yield* Effect.makeSemaphore(1)
    let cached: CachedToken | undefined

    const request = (
      stage: HttpFailure["stage"],
      what: string,
      url: string,
      init: RequestInit
    ): Effect.Effect<{ readonly status: number; readonly body: string }, HttpFailure> =>
      Effect.tryPromise({
        try: async (signal) => {
          const res = await fetch(url, {
            ...init,
            signal: AbortSignal.any([signal, AbortSignal.timeout(options.requestTimeoutMs)])
          })
          const body = await res.text()
          return { status: res.status, body, retryAfter: res.headers.get("retry-after") }
        },
        catch: (e) => {
          const err = e as Error & { cause?: { code?: string; message?: string } }
          const why = err.name === "TimeoutError" ? `no response within ${options.requestTimeoutMs} ms` : err.cause?.code ?? err.cause?.message ?? err.message
          return new HttpFailure({ kind: "transient", stage, status: undefined, detail: redact(`${what}: ${why}`) })
        }
      }).pipe(
        Effect.flatMap((res) =>
          res.status >= 200 && res.status < 300
            ? Effect.succeed(res)
            : Effect.fail(
                new HttpFailure({
                  kind: classify(res.status),
                  stage,
                  status: res.status,
                  detail: redact(`${what}: HTTP ${res.status}${res.body === "" ? "" : `: ${res.body.slice(0, MAX_BODY_TEXT)}`}`),
                  retryAfterMs: retryAfterMs(res.retryAfter, options.now())
                })
              )
        )
      )

    const fetchToken = request("token", `IAM token request to ${config.iamUrl}`, config.iamUrl, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({ grant_type: "urn:ibm:params:oauth:grant-type:apikey", apikey: apiKey }).toString()
    }).pipe(
      // A 401/403 from IAM is a bad key: permanent.
      Effect.mapError((e) => (e.kind === "unauthorized" ? new HttpFailure({ ...e, kind: "permanent" }) : e)),
      Effect.flatMap((res) => {
        const t = decodeToken(res.body)
        if (t._tag === "Left") {
          return Effect.fail(
            new HttpFailure({ kind: "permanent", stage: "token", status: res.status, detail: `IAM token request to ${config.iamUrl}: unexpected response` })
          )
        }
        tokens = [t.right.access_token, ...tokens.slice(0, 1)]
        const now = options.now()
        const lifetime = (t.right.expires_in ?? 3600) * 1000
        const expiresAt = t.right.expiration !== undefined ? t.right.expiration * 1000 : now + lifetime
        return Effect.succeed<CachedToken>({ token: t.right.access_token, refreshAt: now + 0.8 * lifetime, expiresAt })
      })
    )

    /** The cached token, or a new one once it is due (a failed refresh keeps a still valid token). */
    const token = (policy: RetryPolicy): Effect.Effect<string, HttpFailure> =>
      lock.withPermits(1)(
        Effect.suspend(() => {
          const now = options.now()
          const c = cached
          if (c !== undefined && now < c.refreshAt) return Effect.succeed(c.token)
          return withRetries(fetchToken, policy).pipe(
            Effect.tap((t) => Effect.sync(() => void (cached = t))),
            Effect.map((t) => t.token),
            Effect.catchAll((e) => (c !== undefined && options.now() < c.expiresAt ? Effect.succeed(c.token) : Effect.fail(e)))
          )
        })
      )

    const invalidate = (stale: string) => Effect.sync(() => void (cached?.token === stale ? (cached = undefined) : undefined))

    /** A call with a bearer token; a 401 drops the token and tries once more with a new one. */
    const authorized = <A>(
      policy: RetryPolicy,
      call: (bearer: string) => Effect.Effect<A, HttpFailure>
    ): Effect.Effect<A, HttpFailure> => {
      const once = Effect.flatMap(token(policy), (t) =>
        withRetries(call(t), policy).pipe(Effect.tapError((e) => (e.kind === "unauthorized" ? invalidate(t) : Effect.void)))
      )
      return once.pipe(
        Effect.catchIf(
          (e) => e.kind === "unauthorized",
          () => once.pipe(Effect.mapError((e) => (e.kind === "unauthorized" ? new HttpFailure({ ...e, kind: "permanent" }) : e)))
        )
      )
    }

    const createOccurrence = (occ: Occurrence, policy: RetryPolicy) =>
      authorized(policy, (bearer) =>
        request("api", `creating occurrence ${occ.id}`, `${base}/occurrences`, {
          method: "POST",
          headers: {
            Accept: "application/json",
            "Content-Type": "application/json",
            Authorization: `Bearer ${bearer}`
          },
          body: occurrenceBody(config, occ)
        }).pipe(Effect.map((res) => res.status))
      )

    const listNotes = (policy: RetryPolicy) =>
      authorized(policy, (bearer) =>
        request("api", "listing notes", `${base}/notes`, {
          method: "GET",
          headers: { Accept: "application/json", Authorization: `Bearer ${bearer}` }
        }).pipe(
          Effect.flatMap((res) => {
            if (res.status !== 200) {
              return Effect.fail(new HttpFailure({ kind: "permanent", stage: "api", status: res.status, detail: `listing notes: HTTP ${res.status}` }))
            }
            const notes = decodeNotes(res.body)
            return notes._tag === "Right"
              ? Effect.succeed(notes.right.notes.map((n) => n.id))
              : Effect.fail(new HttpFailure({ kind: "permanent", stage: "api", status: res.status, detail: "listing notes: unexpected response body" }))
          })
        )
      )

    return { createOccurrence, listNotes, redact }
  })
