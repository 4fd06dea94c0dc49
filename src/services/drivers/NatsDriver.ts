/**
 * The `nats` driver (docs/nats.md): flat records from a JetStream stream that edge processors fill with
 * `export: nats`, for a central pool of processors. A drivers block names it; no `-driver` and no input
 * path are needed.
 *
 *     {"driver": "nats", "out": "flat flattenerchan", "nats.url": "…", "nats.stream": "SYSFLOW",
 *      "nats.consumer": "central", "nats.subject": "sysflow.>"}
 *
 * * A durable pull consumer (`nats.consumer`), created when absent with explicit acknowledgement,
 *   `nats.ackwait` seconds to acknowledge (default 30) and at most `nats.maxackpending` messages
 *   unacknowledged (default 64). Every processor naming the same consumer shares the stream's messages.
 * * Each message is decoded from the flat wire format (`FlatWire.ts`) into the records the edge
 *   flattened, and sent as tagged chunks (`kernel/Delivery.ts`): a message is acknowledged once every
 *   exporter of the pipeline delivered all its records. Messages waiting for that are kept alive
 *   (`working()`) so a slow output does not cause redeliveries; a crash before the acknowledgement
 *   means redelivery (at-least-once).
 * * A stop (SIGTERM) stops pulling and gives back what was received and not yet sent (`nak`); the
 *   pipeline drains and acknowledges what it delivered; the connection closes after the run. Messages
 *   the client had pulled ahead are redelivered after the ack wait.
 */
import type { JsMsg } from "@nats-io/jetstream"
import { Duration, Effect, Metric, Schedule, type Scope } from "effect"
import { Flag, NonEmptyText, optionalKey, WholeNumber, withDefault } from "../../domain/configValues.js"
import { DriverError, type PipelineConfigError } from "../../domain/errors.js"
import type { FlatRecord } from "../../domain/flatRecord.js"
import type { DriverEntry } from "../../domain/pipelineConfig.js"
import { FlatWireReader } from "../export/transports/nats/FlatWire.js"
import { describeNatsError, type NatsLink, openNats } from "../export/transports/nats/NatsConnection.js"
import { decodeNatsConnection, FilterSubject, NatsName } from "../export/transports/nats/NatsSettings.js"
import { inspectStream } from "../export/transports/nats/NatsStream.js"
import { decodeAttributes, driverEntryOrigin, withAttributeOrigin } from "../kernel/AttributeDecoder.js"
import { CHUNK_SIZE, type Channel, send } from "../kernel/Channel.js"
import { DeliveryTag, tagChunk } from "../kernel/Delivery.js"
import type { DriverDefinition } from "../kernel/DriverRegistry.js"
import { add, decodeErrors, natsAcknowledged, natsInFlight, natsReceived, natsRedelivered } from "../metrics/Metrics.js"

/** Messages the client pulls ahead of the pipeline (each holds up to a chunk of records). */
const FETCH_MESSAGES = 16

const DriverKeys = {
  "nats.stream": withDefault(NatsName, "SYSFLOW"),
  "nats.consumer": NatsName,
  "nats.subject": optionalKey(FilterSubject),
  "nats.ackwait": withDefault(WholeNumber({ min: 1, max: 3600 }), 30),
  "nats.maxackpending": withDefault(WholeNumber({ min: 1, max: 100_000 }), 64),
  // Present so a vault configured for the driver is accepted (Secrets.ts reads them).
  "vault.secrets": optionalKey(Flag),
  "vault.path": optionalKey(NonEmptyText)
}

interface DriverSettings {
  readonly attrs: Readonly<Record<string, unknown>>
  readonly stream: string
  readonly consumer: string
  readonly subject: string | undefined
  readonly ackWaitSeconds: number
  readonly maxAckPending: number
}

const driverError = (reason: DriverError["reason"], detail: string) => new DriverError({ reason, driver: "nats", detail })

const located = <A>(entry: DriverEntry, effect: Effect.Effect<A, PipelineConfigError>) =>
  effect.pipe(
    withAttributeOrigin(driverEntryOrigin(entry)),
    Effect.mapError((e) => new DriverError({ reason: "Init", driver: "nats", detail: e.message, cause: e }))
  )

const decodeSettings = (config: DriverEntry | undefined) =>
  Effect.gen(function* () {
    if (config === undefined) return yield* driverError("Init", 'the nats driver needs a drivers block (with "nats.consumer")')
    const attrs = Object.fromEntries(config.attributes)
    const keys = yield* located(config, decodeAttributes("nats", DriverKeys, attrs))
    const connection = yield* located(config, decodeNatsConnection("nats", attrs))
    const settings: DriverSettings = {
      attrs,
      stream: keys["nats.stream"],
      consumer: keys["nats.consumer"],
      subject: keys["nats.subject"],
      ackWaitSeconds: keys["nats.ackwait"],
      maxAckPending: keys["nats.maxackpending"]
    }
    return { settings, connection }
  })

/** The stream must exist: the edge's exporter creates it. */
const findStream = (link: NatsLink, stream: string) =>
  Effect.flatMap(inspectStream(link, stream), (found) =>
    found === "absent"
      ? Effect.fail(`stream '${stream}' does not exist at ${link.settings.where}: start an edge processor with export 'nats' first (it creates the stream), or create it with the nats CLI`)
      : Effect.void
  )

const isConsumerNotFound = (e: unknown) => (e as { name?: string } | null)?.name === "ConsumerNotFoundError" || /consumer not found/i.test(String((e as Error)?.message))

/** The durable consumer, created when absent (explicit acks, bounded ack wait and pending acks). */
const ensureConsumer = (link: NatsLink, s: DriverSettings) =>
  Effect.tryPromise({ try: () => link.jsm.consumers.info(s.stream, s.consumer), catch: (e) => e }).pipe(
    Effect.flatMap((info) =>
      info.config.ack_policy !== link.jetstream.AckPolicy.Explicit
        ? Effect.fail(`consumer '${s.consumer}' of stream '${s.stream}' does not use explicit acknowledgements (ack_policy ${info.config.ack_policy}): delete it, or name another consumer`)
        : Effect.void
    ),
    Effect.catchAll((e) =>
      typeof e === "string"
        ? Effect.fail(e)
        : !isConsumerNotFound(e)
          ? Effect.fail(`consumer '${s.consumer}' of stream '${s.stream}': ${describeNatsError(e, link.settings)}`)
          : Effect.tryPromise({
              try: () =>
                link.jsm.consumers.add(s.stream, {
                  durable_name: s.consumer,
                  ack_policy: link.jetstream.AckPolicy.Explicit,
                  ack_wait: s.ackWaitSeconds * 1_000_000_000,
                  max_ack_pending: s.maxAckPending,
                  deliver_policy: link.jetstream.DeliverPolicy.All,
                  ...(s.subject === undefined ? {} : { filter_subject: s.subject })
                }),
              catch: (e) => `cannot create consumer '${s.consumer}' of stream '${s.stream}': ${describeNatsError(e, link.settings)}`
            }).pipe(Effect.zipRight(Effect.logInfo(`Created consumer '${s.consumer}' of stream '${s.stream}'`)))
    )
  )

/** The records of a message: the flat section after the documents (`Sfp-Docs-Bytes`). */
const recordsOf = (reader: FlatWireReader, msg: JsMsg): ReadonlyArray<FlatRecord> => {
  const docs = Number(msg.headers?.get("Sfp-Docs-Bytes") ?? "")
  if (msg.headers?.get("Sfp-Wire") !== "flat/1" || !Number.isInteger(docs) || docs < 0 || docs > msg.data.length) {
    throw new Error("not written by an sfprocessor nats exporter (no Sfp-Wire: flat/1 and Sfp-Docs-Bytes headers)")
  }
  return reader.decode(msg.data.subarray(docs))
}

const run = (link: NatsLink, s: DriverSettings, scope: Scope.Scope) => (output: Channel<FlatRecord>) =>
  Effect.gen(function* () {
    const consumer = yield* Effect.tryPromise({
      try: () => link.js.consumers.get(s.stream, s.consumer),
      catch: (e) => driverError("Run", `consumer '${s.consumer}' of stream '${s.stream}': ${describeNatsError(e, link.settings)}`)
    })
    const inFlightGauge = Metric.tagged(natsInFlight, "role", "driver")
    const reader = new FlatWireReader()
    // Messages received and not acknowledged yet (kept alive with working()).
    const unacked = new Set<JsMsg>()
    const setGauge = () => Effect.runSync(Metric.set(inFlightGauge, unacked.size))
    yield* Effect.forkIn(
      Effect.repeat(
        Effect.sync(() => {
          for (const m of unacked) m.working()
        }),
        Schedule.spaced(Duration.seconds(Math.max(1, s.ackWaitSeconds / 3)))
      ),
      scope
    )
    const delivered = (msgs: ReadonlyArray<JsMsg>) => () => {
      for (const m of msgs) {
        m.ack()
        unacked.delete(m)
      }
      Effect.runSync(add(natsAcknowledged, msgs.length))
      setGauge()
    }

    // The client keeps up to FETCH_MESSAGES messages pulled ahead (consume), so the next message is
    // on its way while one is decoded and sent; it re-pulls across reconnects by itself.
    let iterator: AsyncIterator<JsMsg> | undefined
    let messages: { stop: () => void } | undefined
    const open = Effect.tryPromise(() => consumer.consume({ max_messages: FETCH_MESSAGES })).pipe(
      Effect.map((m) => {
        messages = m
        iterator = m[Symbol.asyncIterator]()
        return iterator
      })
    )
    /** The next message; one that arrives after an interruption goes back to the stream (nak). */
    const fetch = Effect.flatMap(Effect.suspend(() => (iterator === undefined ? open : Effect.succeed(iterator))), (it) =>
      Effect.async<Array<JsMsg>, unknown>((resume) => {
        let cancelled = false
        it.next().then(
          (r) => {
            if (cancelled) {
              if (!r.done) r.value.nak()
              return
            }
            if (r.done) {
              iterator = undefined
              resume(Effect.fail(new Error("the consumer's message stream ended")))
            } else resume(Effect.succeed([r.value]))
          },
          (e) => {
            iterator = undefined
            if (!cancelled) resume(Effect.fail(e))
          }
        )
        return Effect.sync(() => {
          cancelled = true
        })
      })
    )

    /**
     * Decodes and sends the messages as tagged chunks of about CHUNK_SIZE records. Interrupted (a stop),
     * the messages not sent yet go back to the stream at once (nak) instead of after the ack wait.
     */
    const emit = (msgs: ReadonlyArray<JsMsg>) => {
      let records: Array<FlatRecord> = []
      let covered: Array<JsMsg> = []
      let next = 0
      const flush = Effect.suspend(() => {
        const tag = new DeliveryTag(delivered(covered))
        if (records.length === 0) return Effect.sync(() => tag.release())
        return Effect.map(send(output, tagChunk(records, tag)), () => {
          records = []
          covered = []
        })
      })
      return Effect.gen(function* () {
        let redelivered = 0
        let bad = 0
        while (next < msgs.length) {
          const m = msgs[next++]
          if (m.info.redelivered) redelivered++
          let decoded: ReadonlyArray<FlatRecord>
          try {
            decoded = recordsOf(reader, m)
          } catch (e) {
            bad++
            // Redelivering it would fail again: it is terminated (JetStream keeps it in the stream).
            m.term(String((e as Error).message))
            yield* Effect.logError(`message ${m.info.streamSequence} of stream '${s.stream}' skipped: ${(e as Error).message}`)
            continue
          }
          unacked.add(m)
          for (const r of decoded) records.push(r)
          covered.push(m)
          if (records.length >= CHUNK_SIZE || next === msgs.length) yield* flush
        }
        if (covered.length > 0) yield* flush
        setGauge()
        yield* add(natsReceived, msgs.length)
        yield* add(natsRedelivered, redelivered)
        yield* add(decodeErrors, bad, { driver: "nats" })
      }).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            for (const m of covered) {
              m.nak()
              unacked.delete(m)
            }
            for (let i = next; i < msgs.length; i++) msgs[i].nak()
            setGauge()
          })
        )
      )
    }

    // A pull that fails (server restarting, consumer unreachable) is retried; the outage is logged once.
    let failing: string | undefined
    const pull = fetch.pipe(
      Effect.tapError((e) => {
        const first = failing === undefined
        failing = describeNatsError(e, link.settings)
        return first ? Effect.logWarning(`fetch from consumer '${s.consumer}' failed (${failing}); retrying`) : Effect.void
      }),
      Effect.retry(Schedule.spaced("500 millis")),
      Effect.tap(() => {
        if (failing === undefined) return Effect.void
        failing = undefined
        return Effect.logInfo(`fetching from consumer '${s.consumer}' again`)
      })
    )
    yield* Effect.forever(Effect.flatMap(pull, emit)).pipe(Effect.ensuring(Effect.sync(() => messages?.stop())))
  }).pipe(Effect.annotateLogs("component", "nats"))

export const natsDriver: DriverDefinition = {
  spec: { name: "nats", emits: "flattenerchan", output: "out" },
  needsInput: false,
  acknowledgesDelivery: true,
  test: (config) =>
    Effect.scoped(
      Effect.gen(function* () {
        const { settings, connection } = yield* decodeSettings(config)
        const link = yield* openNats(connection, { name: "sfprocessor nats driver (health check)", reconnect: false }).pipe(Effect.mapError((d) => driverError("Init", d)))
        yield* findStream(link, settings.stream).pipe(Effect.mapError((d) => driverError("Init", d)))
      })
    ),
  init: (_input, config) =>
    Effect.gen(function* () {
      const { settings, connection } = yield* decodeSettings(config)
      const scope = yield* Effect.scope
      const link = yield* openNats(connection, { name: `sfprocessor nats driver (${settings.consumer})`, reconnect: true, health: "nats driver" }).pipe(
        Effect.mapError((d) => driverError("Init", d))
      )
      yield* findStream(link, settings.stream).pipe(Effect.zipRight(ensureConsumer(link, settings)), Effect.mapError((d) => driverError("Init", d)))
      yield* Effect.logInfo(`Reading stream '${settings.stream}' at ${connection.where} through consumer '${settings.consumer}'`)
      return run(link, settings, scope) as (output: Channel<FlatRecord>) => Effect.Effect<void, DriverError>
    })
}
