/**
 * The processor's metrics, as Effect `Metric`s (the source of truth the `/metrics` endpoint renders).
 * Hot loops count in plain variables and add to these at chunk boundaries.
 */
import { Effect, Metric, MetricKey, MetricLabel } from "effect"

type CounterKey = MetricKey.MetricKey.Counter<number>

const keys = new WeakMap<Metric.Metric.Counter<number>, CounterKey>()

/** A counter of the processor's (its key is kept, for its tagged versions). */
export const counter = (name: string, description: string): Metric.Metric.Counter<number> => {
  const key = MetricKey.counter(name, { description, incremental: true })
  const c = Metric.fromMetricKey(key)
  keys.set(c, key)
  return c
}

/** A counter's name, as `/metrics` shows it. */
export const counterName = (c: Metric.Metric.Counter<number>): string => keys.get(c)!.name

export const recordsIn = counter("sfprocessor_records_in_total", "records received by a pipeline stage")
export const recordsOut = counter("sfprocessor_records_out_total", "records emitted by a pipeline stage")
export const filterDrops = counter("sfprocessor_policy_filtered_total", "records dropped by policy filters")
export const alerts = counter("sfprocessor_alerts_total", "rule matches, by rule and priority")
export const exported = counter("sfprocessor_export_records_total", "records handed to a transport and delivered")
export const exportDrops = counter("sfprocessor_export_dropped_total", "records a transport dropped after permanent errors")
export const exportRetries = counter("sfprocessor_export_retries_total", "transport retries after transient errors")
export const decodeErrors = counter("sfprocessor_decode_errors_total", "corrupt trace blocks or malformed datums")
export const policyReloads = counter("sfprocessor_policy_reloads_total", "policy rule set reloads, by outcome")
export const natsPublished = counter("sfprocessor_nats_published_messages_total", "messages the nats exporter published and JetStream acknowledged (their records: sfprocessor_export_records_total{transport=\"nats\"})")
export const natsPublishRetries = counter("sfprocessor_nats_publish_retries_total", "nats publishes retried (server unreachable or no acknowledgement)")
export const natsAcknowledged = counter("sfprocessor_nats_acknowledged_messages_total", "messages the nats driver acknowledged once every exporter delivered their records")
export const natsRedelivered = counter("sfprocessor_nats_redelivered_messages_total", "messages the nats driver received again (not acknowledged in time by this or another processor)")
export const natsReceived = counter("sfprocessor_nats_received_messages_total", "messages the nats driver received")
export const natsInFlight = Metric.gauge("sfprocessor_nats_in_flight_messages", { description: "nats messages received and not yet acknowledged (driver) or published and not yet acknowledged by JetStream (exporter)" })
export const queuedChunks = Metric.gauge("sfprocessor_channel_queued_chunks", { description: "chunks waiting in a pipeline channel" })

/**
 * Each counter's tagged versions, made once per tag set, each a metric of its own tagged key. Effect's
 * `Metric.tagged` makes the tagged key anew (tags joined, hashed, the description formatted) and looks it
 * up in the registry on every update: per chunk and stage, that was about 4% of the main thread's CPU on
 * a quiet socket stream (one record per chunk). The tag sets are few (stages, rules with their
 * priorities, transports, drivers); the keys, and so `/metrics`, are the same.
 */
const taggedVersions = new WeakMap<Metric.Metric.Counter<number>, Map<string, Metric.Metric.Counter<number>>>()

/** The counter with these tags (the counter itself for none). */
export const withTags = (metric: Metric.Metric.Counter<number>, tags: Readonly<Record<string, string>>): Metric.Metric.Counter<number> => {
  const entries = Object.entries(tags)
  if (entries.length === 0) return metric
  let versions = taggedVersions.get(metric)
  if (versions === undefined) taggedVersions.set(metric, (versions = new Map()))
  const key = JSON.stringify(entries)
  let tagged = versions.get(key)
  if (tagged === undefined) {
    const base = keys.get(metric)
    if (base === undefined) throw new Error("Metrics.withTags: the counter was not made by Metrics.counter")
    tagged = Metric.fromMetricKey(MetricKey.taggedWithLabels(base, entries.map(([k, v]) => MetricLabel.make(k, v))))
    versions.set(key, tagged)
  }
  return tagged
}

/** No fiber labels: the processor does not tag metrics per fiber (`Effect.tagMetrics`), only per key. */
const noLabels: ReadonlyArray<MetricLabel.MetricLabel> = []

/**
 * Adds `n` to a counter with the given tags, at once (no-op for 0): for synchronous code at a chunk
 * boundary, where an Effect per update (`Metric.incrementBy` is three operations and a fiber-ref read)
 * costs more than the count.
 */
export const addNow = (metric: Metric.Metric.Counter<number>, n: number, tags?: Readonly<Record<string, string>>): void => {
  if (n !== 0) (tags === undefined ? metric : withTags(metric, tags)).unsafeUpdate(n, noLabels)
}

/** Adds `n` to a counter with the given tags (no-op for 0). */
export const add = (metric: Metric.Metric.Counter<number>, n: number, tags?: Readonly<Record<string, string>>): Effect.Effect<void> =>
  n === 0 ? Effect.void : Effect.sync(() => addNow(metric, n, tags))
