/**
 * The `policyengine` keys (policy-language.md §8.1), decoded with Schema from the entry's attributes.
 */
import { Duration, Effect, ParseResult, Schema } from "effect"
import { PipelineConfigError } from "../../domain/errors.js"
import type { PolicyMode } from "./PolicySet.js"

const Raw = Schema.Struct({
  policies: Schema.optional(Schema.String),
  mode: Schema.optional(Schema.String),
  language: Schema.optional(Schema.String),
  monitor: Schema.optional(Schema.String),
  "monitor.interval": Schema.optional(Schema.String),
  "monitor.debounce": Schema.optional(Schema.String),
  concurrency: Schema.optional(Schema.String),
  actiondir: Schema.optional(Schema.String),
  "bench.rulesetsize": Schema.optional(Schema.String),
  "bench.ruleindex": Schema.optional(Schema.String)
})

/** Q20: a positive integer, or a configuration error (the reference deadlocked on 0). */
const PositiveInt = Schema.NumberFromString.pipe(
  Schema.int({ message: () => "must be a whole number" }),
  Schema.positive({ message: () => "must be at least 1" })
)

export interface PolicyEngineConfig {
  readonly policies: string | undefined
  readonly mode: PolicyMode
  readonly language: "falco" | "sigma"
  readonly monitor: "none" | "local"
  /** How often the processing loop looks for a new rule set (default 30 s). */
  readonly monitorInterval: Duration.Duration
  /** Quiet period after a policy file change before it is checked (default 10 s, as the reference). */
  readonly monitorDebounce: Duration.Duration
  readonly concurrency: number
  readonly actionDir: string
  /** `bench.rulesetsize` / `bench.ruleindex` (-1 = off; used only with -perflog). */
  readonly benchRuleSetSize: number
  readonly benchRuleIndex: number
  /** Fallbacks taken, to log as warnings. */
  readonly warnings: ReadonlyArray<string>
}

const seconds = (text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback
  const n = Number(text)
  return Number.isFinite(n) && n >= 0 ? n : fallback
}

const wholeOr = (text: string | undefined, fallback: number): number => {
  const n = Number(text)
  return text !== undefined && Number.isInteger(n) ? n : fallback
}

export const decodePolicyEngineConfig = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<PolicyEngineConfig, PipelineConfigError> =>
  Effect.gen(function* () {
    const fail = (detail: string) => new PipelineConfigError({ reason: "Attribute", detail: `policyengine: ${detail}` })
    const raw = yield* Schema.decodeUnknown(Raw)(attrs).pipe(
      Effect.mapError((e) => fail(ParseResult.TreeFormatter.formatErrorSync(e)))
    )
    const warnings: string[] = []
    const mode: PolicyMode = raw.mode === undefined || raw.mode === "alert" ? "alert" : "enrich"
    if (raw.mode !== undefined && raw.mode !== "alert" && raw.mode !== "enrich") {
      warnings.push(`unknown mode '${raw.mode}', using enrich`)
    }
    const language = raw.language === "sigma" ? "sigma" : "falco"
    if (raw.language !== undefined && raw.language !== "falco" && raw.language !== "sigma") {
      warnings.push(`unknown language '${raw.language}', using falco`)
    }
    const monitor = raw.monitor === "local" ? "local" : "none"
    if (raw.monitor !== undefined && raw.monitor !== "local" && raw.monitor !== "none") {
      warnings.push(`unknown monitor '${raw.monitor}', using none`)
    }
    const concurrency = raw.concurrency === undefined
      ? 5
      : yield* Schema.decodeUnknown(PositiveInt)(raw.concurrency).pipe(
          Effect.mapError(() => fail(`concurrency must be a positive integer, got '${raw.concurrency}'`))
        )
    return {
      policies: raw.policies === "" ? undefined : raw.policies,
      mode,
      language,
      monitor,
      monitorInterval: Duration.seconds(seconds(raw["monitor.interval"], 30)),
      monitorDebounce: Duration.seconds(seconds(raw["monitor.debounce"], 10)),
      concurrency,
      actionDir: raw.actiondir ?? "../resources/actions",
      benchRuleSetSize: wholeOr(raw["bench.rulesetsize"], -1),
      benchRuleIndex: wholeOr(raw["bench.ruleindex"], -1),
      warnings
    }
  })

