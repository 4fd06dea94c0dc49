/**
 * `export: nats` (docs/nats.md): batches of records to a NATS JetStream stream, for central processors
 * (the `nats` driver) and any other consumer of the stream.
 *
 * * Message: the records in the flat wire format (`nats/FlatWire.ts`), which the nats driver decodes
 *   into exactly the flat records the edge flattened; with `nats.documents: true`, preceded by the same
 *   records as documents in the exporter's format (JSON lines, `json` or `ecs`) for other consumers of
 *   the stream (13 times the bytes: the exporter then encodes them, otherwise it does not). Headers:
 *   `Sfp-Docs-Bytes` (where the documents end, 0 without them), `Sfp-Records`, `Sfp-Format`,
 *   `Sfp-Wire: flat/1`. An exporter batch becomes one message, or several when it would exceed the
 *   server's max_payload.
 * * At-least-once, in order: `send` resolves once JetStream acknowledged every message of the batch
 *   (PubAck). Messages are published one at a time, each after the previous one's PubAck, so a retried
 *   message is never overtaken and the stream keeps the records' order (a batch is one message unless
 *   documents make it larger than max_payload, so this costs no round trips otherwise). A publish that
 *   fails for a transient reason (server restarting, no acknowledgement in time) is retried forever with
 *   the same message id, so JetStream's duplicate window drops a resend that did land; permission and
 *   size errors end the run.
 * * The stream (`nats.stream`) is created at start when absent, capturing `nats.subject`; the health
 *   check (load and `-test`) connects, authenticates and checks JetStream and the stream's subjects.
 */
import { Duration, Effect, Metric, Schedule, Scope } from "effect"
import * as os from "node:os"
import { ExportError } from "../../../domain/errors.js"
import { Flag, withDefault } from "../../../domain/configValues.js"
import { decodeAttributes } from "../../kernel/AttributeDecoder.js"
import { add, natsInFlight, natsPublished, natsPublishRetries } from "../../metrics/Metrics.js"
import { batchSize, type ExportBatch, textOf } from "../ExportBatch.js"
import type { Transport, TransportFactory } from "../Transport.js"
import { FlatWireWriter } from "./nats/FlatWire.js"
import { describeNatsError, type NatsLink, openNats } from "./nats/NatsConnection.js"
import { decodeNatsConnection, StreamKeys } from "./nats/NatsSettings.js"
import { ensureStream, inspectStream } from "./nats/NatsStream.js"

/** Room left in a message for its headers. */
const HEADER_ROOM = 1024

const noDocs = new Uint8Array(0)

/** Formats whose documents the message carries (the occurrence format belongs to the findings transport). */
const FORMATS = ["json", "ecs"]

const fail = (reason: ExportError["reason"], detail: string) => new ExportError({ reason, transport: "nats", detail })

/** Errors a retry cannot fix. */
const permanent = (e: unknown): boolean => {
  const name = (e as { name?: string } | null)?.name ?? ""
  const text = String((e as { message?: string } | null)?.message ?? e)
  return name === "PermissionViolationError" || name === "ClosedConnectionError" || /permissions violation|maximum payload|max_payload/i.test(text)
}

export interface NatsTransportOptions {
  /** Wait before a publish is retried (doubling up to 2 s). */
  readonly retryBase?: Duration.DurationInput
}

export const makeNatsTransportWith =
  (options: NatsTransportOptions = {}): TransportFactory =>
  (attrs, config) =>
    Effect.gen(function* () {
      if (!FORMATS.includes(config.format)) {
        return yield* fail("Config", `export 'nats' writes format json or ecs, not '${config.format}'`)
      }
      const settings = yield* decodeNatsConnection("exporter", attrs)
      const { "nats.stream": stream, "nats.subject": subject } = yield* decodeAttributes("exporter", StreamKeys, attrs)
      const { "nats.documents": documents } = yield* decodeAttributes("exporter", { "nats.documents": withDefault(Flag, false) }, attrs)
      const clock = yield* Effect.clock
      // The connection opened at start lives as long as the transport (the exporter's scope).
      const scope = yield* Effect.scope
      // Message ids: this run, then a sequence. A resend within the run reuses its id (dropped by the
      // stream's duplicate window); another run publishes under new ids.
      const runId = `${os.hostname()}.${process.pid}.${clock.unsafeCurrentTimeMillis()}`
      let sequence = 0
      const writer = new FlatWireWriter()
      const retryBase = Duration.decode(options.retryBase ?? "250 millis")
      const inFlightGauge = Metric.tagged(natsInFlight, "role", "exporter")
      let inFlight = 0
      let link: NatsLink | undefined
      let outage: string | undefined

      const test = Effect.scoped(
        Effect.gen(function* () {
          const probe = yield* openNats(settings, { name: "sfprocessor exporter (health check)", reconnect: false })
          const found = yield* inspectStream(probe, stream, subject)
          if (found === "absent") yield* Effect.logInfo(`stream '${stream}' does not exist at ${settings.where}: it will be created at start, capturing '${subject}'`)
        })
      ).pipe(Effect.mapError((detail) => fail("Health", detail)))

      const open = Effect.gen(function* () {
        const l = yield* openNats(settings, { name: "sfprocessor exporter", reconnect: true })
        yield* ensureStream(l, stream, subject)
        link = l
        yield* Effect.logInfo(`Publishing to stream '${stream}' (subject '${subject}') at ${settings.where}`)
      }).pipe(Scope.extend(scope), Effect.mapError((detail) => fail("Open", detail)))

      /** The batch as messages under the server's max_payload: documents, then the flat records. */
      const messagesOf = (batch: ExportBatch, l: NatsLink) => {
        const events = batch.records ?? []
        const text = documents ? textOf(batch) : undefined
        const budget = (l.nc.info?.max_payload ?? 1024 * 1024) - HEADER_ROOM
        const out: Array<{ readonly docs: Uint8Array; readonly flat: Uint8Array; readonly count: number }> = []
        const build = (from: number, to: number): undefined | string => {
          const docs = text === undefined ? noDocs : text.bytes.subarray(from === 0 ? 0 : text.ends[from - 1], text.ends[to - 1])
          const flat = writer.encode(events.slice(from, to).map((e) => e.record))
          if (docs.length + flat.length <= budget) {
            out.push({ docs, flat, count: to - from })
            return undefined
          }
          if (to - from === 1) return `record ${from} of the batch takes ${docs.length + flat.length} bytes, more than the server's max_payload (${budget + HEADER_ROOM})`
          const mid = from + Math.ceil((to - from) / 2)
          return build(from, mid) ?? build(mid, to)
        }
        const n = batchSize(batch)
        if (events.length !== n) return `the exporter handed ${n} documents and ${events.length} records`
        // First guess: pieces of the size that fits (a flat record is about 130 bytes, a JSON one 1700).
        const pieces = Math.max(1, Math.ceil(((text?.bytes.length ?? 0) * 1.1 + n * 200) / budget))
        const step = Math.ceil(n / pieces)
        for (let from = 0; from < n; from += step) {
          const error = build(from, Math.min(n, from + step))
          if (error !== undefined) return error
        }
        return out
      }

      const publish = (l: NatsLink, msg: { readonly docs: Uint8Array; readonly flat: Uint8Array; readonly count: number }, msgID: string) => {
        const h = headersOf(l, msg, documents ? config.format : undefined)
        const payload = Buffer.concat([msg.docs, msg.flat])
        let attempt = 0
        const once = Effect.tryPromise({
          try: () => l.js.publish(subject, payload, { msgID, headers: h, timeout: 5000 }),
          catch: (e) => e
        })
        return Effect.suspend(() => {
          inFlight++
          return Metric.set(inFlightGauge, inFlight)
        }).pipe(
          Effect.zipRight(
            once.pipe(
              Effect.tapError((e) =>
                permanent(e)
                  ? Effect.void
                  : Effect.suspend(() => {
                      attempt++
                      const first = outage === undefined
                      outage = describeNatsError(e, settings)
                      return Effect.zipRight(
                        add(natsPublishRetries, 1),
                        first || attempt % 20 === 0 ? Effect.logWarning(`publish to '${subject}' failed (${outage}); retrying (attempt ${attempt})`) : Effect.void
                      )
                    })
              ),
              Effect.retry({
                while: (e) => !permanent(e),
                schedule: Schedule.exponential(retryBase).pipe(Schedule.union(Schedule.spaced("2 seconds")))
              }),
              Effect.mapError((e) => fail("Write", describeNatsError(e, settings)))
            )
          ),
          Effect.tap(() => {
            if (outage !== undefined) {
              outage = undefined
              return Effect.logInfo(`publishing to '${subject}' again`)
            }
            return Effect.void
          }),
          Effect.zipRight(add(natsPublished, 1)),
          Effect.ensuring(
            Effect.suspend(() => {
              inFlight--
              return Metric.set(inFlightGauge, inFlight)
            })
          )
        )
      }

      const transport: Transport = {
        name: "nats",
        wantsRecords: documents ? "also" : "only",
        test,
        open,
        send: (batch) =>
          Effect.suspend(() => {
            const l = link
            if (l === undefined) return Effect.fail(fail("Write", "the nats transport was not opened"))
            const messages = messagesOf(batch, l)
            if (typeof messages === "string") return Effect.fail(fail("Encode", messages))
            const ids = messages.map(() => `${runId}.${++sequence}`)
            return Effect.forEach(messages, (m, i) => publish(l, m, ids[i]), { discard: true }).pipe(Effect.as(0))
          }),
        status: () => {
          if (outage !== undefined) return { ok: false, detail: `nats: publishing is retried: ${outage}` }
          return link === undefined ? { ok: true, detail: "nats: not connected yet" } : link.state()
        }
      }
      return transport
    })

const headersOf = (l: NatsLink, msg: { readonly docs: Uint8Array; readonly count: number }, format: string | undefined) => {
  const h = l.headers()
  h.set("Sfp-Wire", "flat/1")
  if (format !== undefined) h.set("Sfp-Format", format)
  h.set("Sfp-Docs-Bytes", String(msg.docs.length))
  h.set("Sfp-Records", String(msg.count))
  return h
}

export const makeNatsTransport: TransportFactory = makeNatsTransportWith()
