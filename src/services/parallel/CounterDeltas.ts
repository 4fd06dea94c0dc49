/**
 * A file worker's counters, carried to the main thread: each worker thread has its own metric registry,
 * so after each file it sends how much the counters its stages touch grew, and the main thread adds that
 * to its own (which `/metrics`, progress lines and the summary read).
 */
import { Effect, Metric, MetricState } from "effect"
import { add, alerts, counterName, filterDrops, recordsIn, recordsOut } from "../metrics/Metrics.js"
import type { CounterDelta } from "./WorkerProtocol.js"

/** The counters a worker's stages (reader, policy engines, the worker's own stage loop) increase. */
const carried = new Map([recordsIn, recordsOut, alerts, filterDrops].map((c) => [counterName(c), c]))

const keyOf = (name: string, tags: ReadonlyArray<readonly [string, string]>) => `${name}\u0000${tags.map(([k, v]) => `${k}=${v}`).join("\u0000")}`

/** Reads the carried counters' growth since the previous call. */
export const makeCounterDeltas = (): Effect.Effect<ReadonlyArray<CounterDelta>> => {
  const last = new Map<string, number>()
  return Effect.map(Metric.snapshot, (pairs) => {
    const out: CounterDelta[] = []
    for (const p of pairs) {
      const name = p.metricKey.name
      if (!carried.has(name) || !MetricState.isCounterState(p.metricState)) continue
      const tags = p.metricKey.tags.map((t) => [t.key, t.value] as const)
      const key = keyOf(name, tags)
      const count = Number(p.metricState.count)
      const delta = count - (last.get(key) ?? 0)
      last.set(key, count)
      if (delta > 0) out.push({ name, tags, delta })
    }
    return out
  })
}

/** Adds a worker's counter growth to this thread's counters. */
export const addCounterDeltas = (deltas: ReadonlyArray<CounterDelta>): Effect.Effect<void> =>
  Effect.forEach(
    deltas,
    (d) => {
      const counter = carried.get(d.name)
      return counter === undefined ? Effect.void : add(counter, d.delta, Object.fromEntries(d.tags))
    },
    { discard: true }
  )
