/**
 * The processor's metrics, as Effect `Metric`s (the source of truth the `/metrics` endpoint renders).
 * Hot loops count in plain variables and add to these at chunk boundaries.
 */
import { Effect, Metric } from "effect"

const names = new WeakMap<Metric.Metric.Counter<number>, string>()

const counter = (name: string, description: string) => {
  const c = Metric.counter(name, { description, incremental: true })
  names.set(c, name)
  return c
}

/** A counter's name, as `/metrics` shows it. */
export const counterName = (c: Metric.Metric.Counter<number>): string => names.get(c)!

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
 * Each counter's tagged versions, made once per tag set: a tagged metric is a new key (a set of tags,
 * hashed), which the policy stage would otherwise make for every rule that matched, on every chunk. The
 * tag sets are few (rules with their priorities, transports, drivers).
 */
const taggedVersions = new WeakMap<Metric.Metric.Counter<number>, Map<string, Metric.Metric.Counter<number>>>()

const withTags = (metric: Metric.Metric.Counter<number>, tags: Readonly<Record<string, string>>): Metric.Metric.Counter<number> => {
  const entries = Object.entries(tags)
  if (entries.length === 0) return metric
  let versions = taggedVersions.get(metric)
  if (versions === undefined) taggedVersions.set(metric, (versions = new Map()))
  const key = JSON.stringify(entries)
  let tagged = versions.get(key)
  if (tagged === undefined) {
    tagged = metric
    for (const [k, v] of entries) tagged = Metric.tagged(tagged, k, v)
    versions.set(key, tagged)
  }
  return tagged
}

/** Adds `n` to a counter with the given tags (no-op for 0). */
export const add = (metric: Metric.Metric.Counter<number>, n: number, tags: Readonly<Record<string, string>> = {}): Effect.Effect<void> =>
  n === 0 ? Effect.void : Metric.incrementBy(withTags(metric, tags), n)
