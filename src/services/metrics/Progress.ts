/**
 * Progress of a run: records read (what the drivers sent), with totals from the metrics. A progress
 * line on stderr every few seconds when stderr is a terminal (not with `-log quiet`), and one summary
 * log line at the end of the run.
 */
import { Clock, type Duration, Effect, Metric, MetricState, Schedule, type Scope } from "effect"
import type { Channel } from "../kernel/Channel.js"

export interface Totals {
  readonly read: number
  readonly exported: number
  readonly alerts: number
  readonly dropped: number
  readonly errors: number
}

const sumOf = (pairs: ReadonlyArray<{ metricKey: { name: string }; metricState: unknown }>, names: ReadonlyArray<string>) => {
  let total = 0
  for (const p of pairs) {
    if (names.includes(p.metricKey.name) && MetricState.isCounterState(p.metricState as MetricState.MetricState.Untyped)) {
      total += Number((p.metricState as MetricState.MetricState.Counter<number>).count)
    }
  }
  return total
}

export const totals = (roots: ReadonlyArray<Channel<unknown>>): Effect.Effect<Totals> =>
  Effect.map(Metric.snapshot, (pairs) => ({
    read: roots.reduce((n, ch) => n + ch.state.sent, 0),
    exported: sumOf(pairs, ["sfprocessor_export_records_total"]),
    alerts: sumOf(pairs, ["sfprocessor_alerts_total"]),
    dropped: sumOf(pairs, ["sfprocessor_policy_filtered_total", "sfprocessor_export_dropped_total", "sfprocessor_socket_dropped", "sfprocessor_socket_truncated"]),
    errors: sumOf(pairs, ["sfprocessor_decode_errors_total", "sfprocessor_socket_malformed"])
  }))

const fmt = (n: number) => Math.round(n).toLocaleString("en-US")

export const summaryLine = (t: Totals, seconds: number): string =>
  `Summary: ${fmt(t.read)} records read in ${seconds.toFixed(1)} s (${fmt(t.read / Math.max(seconds, 0.001))}/s), ${fmt(t.exported)} exported, ${fmt(t.alerts)} rule matches, ${fmt(t.dropped)} dropped, ${fmt(t.errors)} errors`

/** Starts a stopwatch on the runtime's Clock: the effect it returns gives the seconds since the start. */
export const stopwatch: Effect.Effect<Effect.Effect<number>> = Effect.map(Clock.currentTimeMillis, (start) =>
  Effect.map(Clock.currentTimeMillis, (now) => (now - start) / 1000)
)

/** Where progress lines go: stderr, or a test's capture. */
export interface ProgressOutput {
  readonly isTTY?: boolean
  write(line: string): unknown
}

/**
 * Prints a progress line on `out` every `every` while the scope is open, if `out` is a terminal. The
 * rate is over the runtime's Clock time since the previous line.
 */
export const startProgress = (
  roots: ReadonlyArray<Channel<unknown>>,
  enabled: boolean,
  every: Duration.DurationInput = "5 seconds",
  out: ProgressOutput = process.stderr
): Effect.Effect<void, never, Scope.Scope> =>
  !enabled || out.isTTY !== true
    ? Effect.void
    : Effect.gen(function* () {
        let last = roots.reduce((n, ch) => n + ch.state.sent, 0)
        let lastAt = yield* Clock.currentTimeMillis
        const tick = Effect.gen(function* () {
          const t = yield* totals(roots)
          const now = yield* Clock.currentTimeMillis
          const rate = ((t.read - last) * 1000) / Math.max(now - lastAt, 1)
          last = t.read
          lastAt = now
          out.write(`sfprocessor: ${fmt(t.read)} records read (${fmt(rate)}/s), ${fmt(t.exported)} exported, ${fmt(t.alerts)} rule matches, ${fmt(t.dropped)} dropped, ${fmt(t.errors)} errors\n`)
        })
        yield* Effect.forkScoped(Effect.interruptible(Effect.repeat(Effect.delay(tick, every), Schedule.forever)))
      })
