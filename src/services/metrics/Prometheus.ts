/**
 * Renders Effect's metric registry in the Prometheus text exposition format (version 0.0.4): counters
 * and gauges with their tags as labels, histograms as buckets/sum/count.
 */
import { Effect, Metric, MetricKeyType, MetricState, Option } from "effect"
import type { MetricPair } from "effect/MetricPair"

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')

const labels = (tags: ReadonlyArray<{ key: string; value: string }>, extra: ReadonlyArray<[string, string]> = []): string => {
  const all = [...tags.map((t) => [t.key, t.value] as [string, string]).sort(([a], [b]) => a.localeCompare(b)), ...extra]
  return all.length === 0 ? "" : `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`
}

const num = (v: number | bigint) => (typeof v === "bigint" ? v.toString() : Number.isFinite(v) ? String(v) : v > 0 ? "+Inf" : v < 0 ? "-Inf" : "NaN")

export const renderPrometheus = (pairs: ReadonlyArray<MetricPair.Untyped>): string => {
  const byName = new Map<string, { type: string; help: string; lines: string[] }>()
  for (const pair of pairs) {
    const key = pair.metricKey
    const state = pair.metricState
    const name = key.name
    const help = Option.getOrElse(key.description, () => name)
    const entry = (type: string) => {
      let e = byName.get(name)
      if (e === undefined) byName.set(name, (e = { type, help, lines: [] }))
      return e
    }
    if (MetricState.isCounterState(state)) entry("counter").lines.push(`${name}${labels(key.tags)} ${num(state.count)}`)
    else if (MetricState.isGaugeState(state)) entry("gauge").lines.push(`${name}${labels(key.tags)} ${num(state.value)}`)
    else if (MetricState.isHistogramState(state)) {
      const e = entry("histogram")
      for (const [bound, count] of state.buckets) e.lines.push(`${name}_bucket${labels(key.tags, [["le", num(bound)]])} ${count}`)
      e.lines.push(`${name}_sum${labels(key.tags)} ${num(state.sum)}`, `${name}_count${labels(key.tags)} ${state.count}`)
    } else if (MetricKeyType.isFrequencyKey(key.keyType) && MetricState.isFrequencyState(state)) {
      const e = entry("counter")
      for (const [word, count] of state.occurrences) e.lines.push(`${name}${labels(key.tags, [["value", word]])} ${count}`)
    }
  }
  let out = ""
  for (const [name, e] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    out += `# HELP ${name} ${e.help}\n# TYPE ${name} ${e.type}\n${e.lines.sort().join("\n")}\n`
  }
  return out
}

export const prometheusText: Effect.Effect<string> = Effect.map(Metric.snapshot, renderPrometheus)
