/**
 * The `policyengine` processor (pipeline.md §8, policy-language.md §8): drop filters first, then every
 * enabled rule in order; `alert` emits records that matched a rule, `enrich` every record not dropped.
 * One output per input, in input order, carrying every matched rule; actions run for each matched rule
 * in rule order. With `monitor: local` a new rule set, compiled and validated in the background,
 * replaces the running one at a chunk boundary once `monitor.interval` has passed.
 *
 * Evaluation is a plain loop over the chunk (compiled closures); Effect only wraps the chunk.
 */
import { Clock, Console, Duration, Effect, type Metric, type Scope, SubscriptionRef } from "effect"
import { PipelineConfigError, errorText } from "../../domain/errors.js"
import type { FlatRecord } from "../../domain/flatRecord.js"
import { PolicyError, renderDiagnostic } from "../../domain/policy/Diagnostic.js"
import { bareEvent, type PolicyEvent } from "../../domain/policyEvent.js"
import { formatLine } from "../logging/SfLogger.js"
import { entryError } from "../kernel/AttributeDecoder.js"
import type { ProcessorDefinition } from "../kernel/ProcessorRegistry.js"
import type { Stage } from "../kernel/Stage.js"
import { RunOptions } from "../kernel/RunOptions.js"
import type { ActionFunc } from "./Actions.js"
import { PolicyEngine, type RuleSet } from "./PolicyEngine.js"
import { decodePolicyEngineConfig, policyEngineKeys } from "./PolicyEngineConfig.js"
import { PolicyMonitor } from "./PolicyMonitor.js"
import { add, addNow, alerts, filterDrops, policyReloads, withTags } from "../metrics/Metrics.js"
import { type CompiledRule, evaluate } from "./PolicySet.js"

/** A compile failure in one line (several errors are logged one per line before it). */
const compileFailure = (e: unknown): string => {
  if (!(e instanceof PolicyError)) return errorText(e)
  const first = renderDiagnostic(e.diagnostics[0])
  return e.diagnostics.length === 1 ? first : `${e.diagnostics.length} errors (each logged above), the first: ${first}`
}

/** Runs the actions of the matched rules on a record; returns the event and any pending async work. */
const withActions = (
  record: FlatRecord,
  matches: ReadonlyArray<CompiledRule>,
  actions: ReadonlyMap<string, ActionFunc>,
  pending: Array<Promise<unknown>>,
  errors: Array<string>
): PolicyEvent => {
  const rules: CompiledRule[] = []
  const ctx = { record, rules, tags: [] as string[] }
  for (const rule of matches) {
    rules.push(rule)
    for (const name of rule.actions) {
      const fn = actions.get(name)
      if (fn === undefined) continue // unknown at run time: skipped silently (warned at compile time)
      try {
        const r = fn(ctx)
        if (r instanceof Promise) pending.push(r.catch((e: unknown) => errors.push(String(e))))
      } catch (e) {
        errors.push(errorText(e))
      }
    }
  }
  return ctx
}

const hasActions = (matches: ReadonlyArray<CompiledRule>): boolean => {
  for (const m of matches) if (m.actions.length > 0) return true
  return false
}

export const makePolicyEngineStage = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<Stage<FlatRecord, PolicyEvent, never>, PipelineConfigError, Scope.Scope | PolicyEngine | PolicyMonitor> =>
  Effect.gen(function* () {
    const config = yield* decodePolicyEngineConfig(attrs)
    for (const w of config.warnings) yield* Effect.logWarning(w)
    if (config.policies === undefined) {
      if (config.mode === "alert") {
        return yield* entryError("policyengine", "configuration attribute 'policies' missing from policy engine plugin settings")
      }
      // Enrich without policies: every record passes untouched.
      return { name: "policyengine", onChunk: (chunk) => Effect.sync(() => chunk.map(bareEvent)), onEnd: Effect.succeed([]) }
    }
    const path = config.policies
    yield* Effect.logInfo(`Loading policies from: ${path}`)
    yield* Effect.logInfo(`Creating ${config.language} policy interpreter`)
    const run = yield* RunOptions
    const engine = yield* PolicyEngine
    const initial = yield* engine.compile(config, path, run.perflog).pipe(
      // A log line is one line: with several errors, each gets its own, and the failure names the first.
      Effect.tapError((e) =>
        e instanceof PolicyError && e.diagnostics.length > 1 ? Effect.forEach(e.diagnostics, (d) => Effect.logError(renderDiagnostic(d)), { discard: true }) : Effect.void
      ),
      Effect.mapError((e) => new PipelineConfigError({ reason: "Plugin", detail: `Unable to compile local policies from ${path}: ${compileFailure(e)}` }))
    )
    for (const w of initial.policies.warnings) {
      const line = renderDiagnostic(w)
      // P23: -test shows every compile warning whatever -log says.
      // Sigma: errors name files and rules that were not loaded (the set loads without them).
      const level = w.severity === "error" ? "Error" : "Warn"
      yield* run.test
        ? Console.log(formatLine(level, "policyengine", line, new Date(yield* Clock.currentTimeMillis)).trimEnd())
        : level === "Error" ? Effect.logError(line) : Effect.logWarning(line)
    }
    yield* Effect.logInfo(`Policy engine loaded ${initial.policies.enabledRuleCount} rules and ${initial.policies.prefilterCount} prefilters`)

    let current: RuleSet = initial
    let lastCheck = yield* Clock.currentTimeMillis
    const intervalMs = Duration.toMillis(config.monitorInterval)
    const latest = config.monitor !== "local"
      ? undefined
      : yield* (yield* PolicyMonitor).watch({
          path,
          initial,
          debounce: config.monitorDebounce,
          compile: engine.compile(config, path, run.perflog),
          onNewSet: (set) =>
            add(policyReloads, 1, { outcome: "compiled" }).pipe(Effect.zipRight(
              Effect.logInfo(`New rule set compiled: ${set.policies.enabledRuleCount} rules; it replaces the running one within ${config.monitorInterval.toString()}`)
            )),
          onFailure: add(policyReloads, 1, { outcome: "failed" })
        })

    // At a chunk boundary, once monitor.interval has passed, the monitor's newer set replaces the running one.
    const swapIfDue = Effect.gen(function* () {
      if (latest === undefined) return
      const next = yield* SubscriptionRef.get(latest)
      if (next === current) return
      const now = yield* Clock.currentTimeMillis
      if (now - lastCheck < intervalMs) return
      lastCheck = now
      current = next
      yield* Effect.logInfo(`Policy engine reloaded: ${current.policies.enabledRuleCount} rules and ${current.policies.prefilterCount} prefilters`)
    })

    const mode = config.mode
    // Per-chunk counts, added to the metrics after the loop: filtered records, and matches by rule.
    const ruleCounts = new Map<CompiledRule, number>()
    const evaluateChunk = (chunk: ReadonlyArray<FlatRecord>) => {
      const { policies, actions } = current
      const out: PolicyEvent[] = []
      const pending: Array<Promise<unknown>> = []
      const errors: string[] = []
      let filtered = 0
      for (let i = 0; i < chunk.length; i++) {
        const r = chunk[i]
        const e = evaluate(policies, r)
        if (e.dropped) filtered++
        const matches = e.matches
        for (let j = 0; j < matches.length; j++) ruleCounts.set(matches[j], (ruleCounts.get(matches[j]) ?? 0) + 1)
        if (e.dropped || (mode === "alert" && matches.length === 0)) continue
        out.push(
          actions.size > 0 && hasActions(matches) ? withActions(r, matches, actions, pending, errors) : { record: r, rules: matches, tags: noTags }
        )
      }
      return { out, pending, errors, filtered }
    }

    // Each rule's alert counter, tagged with its name and priority.
    const alertCounters = new WeakMap<CompiledRule, Metric.Metric.Counter<number>>()
    const alertCounter = (rule: CompiledRule) => {
      let c = alertCounters.get(rule)
      if (c === undefined) alertCounters.set(rule, (c = withTags(alerts, { rule: rule.name, priority: priorityName[rule.priority] })))
      return c
    }
    const recordMetrics = (filtered: number) => {
      addNow(filterDrops, filtered)
      if (ruleCounts.size === 0) return
      for (const [rule, n] of ruleCounts) addNow(alertCounter(rule), n)
      ruleCounts.clear()
    }

    // A chunk is evaluated and counted synchronously; only actions (promises) and their errors need more.
    const evaluateNow = (chunk: ReadonlyArray<FlatRecord>) =>
      Effect.suspend(() => {
        const { out, pending, errors, filtered } = evaluateChunk(chunk)
        recordMetrics(filtered)
        if (pending.length === 0 && errors.length === 0) return Effect.succeed(out)
        return Effect.gen(function* () {
          if (pending.length > 0) yield* Effect.promise(() => Promise.all(pending))
          for (const e of errors) yield* Effect.logError(`Error in action: ${e}`)
          return out
        })
      })

    return {
      name: "policyengine",
      onChunk: (chunk) => (latest === undefined ? evaluateNow(chunk) : Effect.zipRight(swapIfDue, evaluateNow(chunk))),
      onEnd: Effect.succeed([])
    }
  })

const noTags: ReadonlyArray<string> = []

const priorityName: Record<number, string> = { 0: "informational", 1: "low", 2: "medium", 3: "high", 4: "critical" }

/** The `policyengine` processor. */
export const policyEngineProcessor: ProcessorDefinition<"flattenerchan" | "otelchan", "eventchan", PolicyEngine | PolicyMonitor> = {
  spec: { name: "policyengine", accepts: ["flattenerchan", "otelchan"], emits: ["eventchan"], maxInputs: 1, knownKeys: policyEngineKeys },
  make: makePolicyEngineStage
}
