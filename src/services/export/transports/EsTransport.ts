/**
 * `export: es` (pipeline.md §11.6, docs/elasticsearch.md): ECS documents to an Elasticsearch index
 * through the official client's bulk helper, action `create` with `_id` = the ECS document id.
 *
 * * Keys: `es/EsConfig.ts` (`es.index` required, P17; `format` must be `ecs`).
 * * TLS: the server certificate is verified by default (P18) against the system store plus `es.tls.ca`;
 *   `es.tls.skipverify=true` opts out. Basic auth from `es.username`/`es.password` (key, env, vault).
 * * Delivery: `es/BulkSender.ts` (retries with backoff, permanent failures dropped and counted, version
 *   conflicts on `create` counted as delivered, the per-flush stats line with the P27 guard).
 * * Health check: `GET /` answers (authenticated, and the server is Elasticsearch) and `HEAD /<index>`
 *   finds the index, alias or data stream; a missing one fails unless `es.index.autocreate=true`.
 */
import type { Client } from "@elastic/elasticsearch"
import { Effect, Redacted } from "effect"
import { ExportError, PipelineConfigError, errorText } from "../../../domain/errors.js"
import type { Transport, TransportFactory } from "../Transport.js"
import { defaultRetryPolicy, describeFailure, type RequestCounter, type RetryPolicy, scrubber, sendBatch } from "./es/BulkSender.js"
import { decodeEsSettings, type EsSettings, redactUrl } from "./es/EsConfig.js"
import { importModule } from "../../importModule.js"

export interface EsTransportOptions {
  /** Retry rounds and backoff (defaults: `defaultRetryPolicy`). */
  readonly retry?: Partial<RetryPolicy>
  /** Timeout of one bulk request (default 30 s). */
  readonly requestTimeoutMs?: number
  /** Timeout of each of the two health-check requests (default 4 s, so both fit the loader's 10 s). */
  readonly healthTimeoutMs?: number
  /** Environment for `ELASTICSEARCH_URL` (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
}

const isCounter = (c: unknown): c is RequestCounter =>
  typeof c === "object" && c !== null && (c as { sfprocessorBulk?: unknown }).sfprocessorBulk === true

/** The client library is large (about half the bundled code): it is loaded when an `es` exporter starts. */
const loadClient = (): Promise<typeof Client> =>
  // A CommonJS module: its exports are the namespace's `default` when bundled, named exports otherwise.
  importModule<typeof import("@elastic/elasticsearch")>("@elastic/elasticsearch").then((m) => m.Client ?? (m as unknown as { default: typeof m }).default.Client)

const makeClient = (ClientClass: typeof Client, settings: EsSettings, requestTimeoutMs: number): Client => {
  const auth =
    settings.username === undefined && settings.password === undefined
      ? undefined
      : {
          username: settings.username === undefined ? "" : Redacted.value(settings.username),
          password: settings.password === undefined ? "" : Redacted.value(settings.password)
        }
  const client = new ClientClass({
    nodes: [...settings.addresses],
    ...(auth === undefined ? {} : { auth }),
    tls: {
      rejectUnauthorized: !settings.tlsSkipVerify,
      ...(settings.tlsCa === undefined ? {} : { ca: settings.tlsCa.pem })
    },
    // All retrying is ours (BulkSender), with backoff and a bound.
    maxRetries: 0,
    requestTimeout: requestTimeoutMs,
    name: "sfprocessor"
  })
  client.diagnostic.on("request", (_err, result) => {
    const context = result?.meta.context
    if (isCounter(context)) context.requests++
  })
  return client
}

export const makeEsTransportWith =
  (options: EsTransportOptions = {}): TransportFactory =>
  (attrs, config) =>
    Effect.gen(function* () {
      const settings = yield* decodeEsSettings(attrs, config, options.env)
      for (const w of settings.warnings) yield* Effect.logWarning(w)
      const policy: RetryPolicy = { ...defaultRetryPolicy, ...options.retry }
      const requestTimeoutMs = options.requestTimeoutMs ?? 30_000
      const healthTimeoutMs = options.healthTimeoutMs ?? 4_000
      const scrub = scrubber(settings)
      const where = settings.addresses.map(redactUrl).join(",")
      const ClientClass = yield* Effect.promise(loadClient)
      const client = yield* Effect.acquireRelease(
        Effect.try({
          try: () => makeClient(ClientClass, settings, requestTimeoutMs),
          catch: (e) =>
            new PipelineConfigError({
              reason: "Attribute",
              detail: scrub(`exporter: cannot create the Elasticsearch client for ${where}: ${errorText(e)}`)
            })
        }),
        (c) => Effect.promise(() => c.close())
      )

      const healthCall = <A>(what: string, call: (signal: AbortSignal) => Promise<A>) =>
        Effect.tryPromise({
          try: call,
          catch: (e) =>
            new ExportError({
              reason: "Health",
              transport: "es",
              detail: scrub(`${what}: ${describeFailure(e, settings, healthTimeoutMs).text}`)
            })
        })

      const test = Effect.gen(function* () {
        // 403 = the credentials were accepted, without the `monitor` privilege GET / needs: enough.
        yield* healthCall("cluster check (GET /)", (signal) => client.info(undefined, { requestTimeout: healthTimeoutMs, signal, ignore: [403] }))
        const exists = yield* healthCall(`index check (HEAD /${settings.index})`, (signal) =>
          client.indices.exists({ index: settings.index }, { requestTimeout: healthTimeoutMs, signal })
        )
        if (exists) return
        if (settings.indexAutoCreate) {
          yield* Effect.logWarning(
            `index '${settings.index}' does not exist at ${where}: Elasticsearch will create it at the first write (es.index.autocreate=true), with the mapping of a matching index template or a dynamic one`
          )
          return
        }
        return yield* new ExportError({
          reason: "Health",
          transport: "es",
          detail: `index '${settings.index}' does not exist at ${where}: create it first (with the ECS mapping, see docs/elasticsearch.md), or set es.index.autocreate=true to let Elasticsearch create it at the first write`
        })
      })

      const transport: Transport = {
        name: "es",
        send: (batch) => sendBatch(client, settings, policy, requestTimeoutMs, batch),
        test
      }
      return transport
    })

export const makeEsTransport: TransportFactory = makeEsTransportWith()
