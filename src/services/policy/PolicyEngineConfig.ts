/**
 * The `policyengine` keys (policy-language.md §8.1), decoded with Schema from the entry's attributes.
 */
import { Duration, Effect } from "effect"
import { optionalKey, Seconds, Text, WholeNumber, withDefault } from "../../domain/configValues.js"
import type { PipelineConfigError } from "../../domain/errors.js"
import { decodeAttributes } from "../kernel/AttributeDecoder.js"
import type { PolicyMode } from "./PolicySet.js"

const Keys = {
  policies: optionalKey(Text),
  // Unknown mode, language and monitor values fall back with a warning (P19).
  mode: optionalKey(Text),
  language: optionalKey(Text),
  // language sigma: the Sigma config file (docs/sigma.md).
  config: optionalKey(Text),
  monitor: optionalKey(Text),
  "monitor.interval": withDefault(Seconds, 30),
  "monitor.debounce": withDefault(Seconds, 10),
  // Q20: at least 1 (the reference deadlocked on 0).
  concurrency: withDefault(WholeNumber({ min: 1 }), 5),
  actiondir: withDefault(Text, "../resources/actions"),
  // -1 = off.
  "bench.rulesetsize": withDefault(WholeNumber({ min: -1 }), -1),
  "bench.ruleindex": withDefault(WholeNumber({ min: -1 }), -1)
}

/** Every key the policy engine reads (env overrides find camelCase spellings of these, P4). */
export const policyEngineKeys = [
  "policies",
  "mode",
  "language",
  "config",
  "monitor",
  "monitor.interval",
  "monitor.debounce",
  "concurrency",
  "actiondir",
  "bench.rulesetsize",
  "bench.ruleindex"
] as const

export interface PolicyEngineConfig {
  readonly policies: string | undefined
  readonly mode: PolicyMode
  readonly language: "falco" | "sigma"
  /** `language: sigma`: the Sigma config file (field mappings…), docs/sigma.md; undefined when none. */
  readonly config: string | undefined
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

export const decodePolicyEngineConfig = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<PolicyEngineConfig, PipelineConfigError> =>
  Effect.gen(function* () {
    const raw = yield* decodeAttributes("policyengine", Keys, attrs)
    const warnings: string[] = []
    const mode: PolicyMode = raw.mode === undefined || raw.mode === "alert" ? "alert" : "enrich"
    if (raw.mode !== undefined && raw.mode !== "alert" && raw.mode !== "enrich") {
      warnings.push(`unknown mode '${raw.mode}', using enrich`)
    }
    const language = raw.language === "sigma" ? "sigma" : "falco"
    if (raw.language !== undefined && raw.language !== "falco" && raw.language !== "sigma") {
      warnings.push(`unknown language '${raw.language}', using falco`)
    }
    if (raw.config !== undefined && raw.config !== "" && language !== "sigma") {
      warnings.push(`'config' is used only with language sigma; ignored`)
    }
    const monitor = raw.monitor === "local" ? "local" : "none"
    if (raw.monitor !== undefined && raw.monitor !== "local" && raw.monitor !== "none") {
      warnings.push(`unknown monitor '${raw.monitor}', using none`)
    }
    return {
      policies: raw.policies === "" ? undefined : raw.policies,
      mode,
      language,
      config: raw.config === "" ? undefined : raw.config,
      monitor,
      monitorInterval: Duration.seconds(raw["monitor.interval"]),
      monitorDebounce: Duration.seconds(raw["monitor.debounce"]),
      concurrency: raw.concurrency,
      actionDir: raw.actiondir,
      benchRuleSetSize: raw["bench.rulesetsize"],
      benchRuleIndex: raw["bench.ruleindex"],
      warnings
    }
  })
