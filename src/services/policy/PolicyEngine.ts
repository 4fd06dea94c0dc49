/**
 * The policy engine service: compiles the configured policy set (Falco/SysFlow or Sigma rules, with the
 * action modules of `actiondir`) into a rule set. The `policyengine` stage asks it for its first set,
 * and the policy monitor for every reload.
 */
import { Context, Effect, Layer } from "effect"
import type { PolicyError } from "../../domain/policy/Diagnostic.js"
import { type ActionFunc, loadActions } from "./Actions.js"
import type { PolicyEngineConfig } from "./PolicyEngineConfig.js"
import { loadSigmaPolicies } from "./sigma/SigmaPolicySet.js"
import { type CompiledPolicySet, loadPolicies, selectRules } from "./PolicySet.js"

/** A rule set with the actions loaded for it (actions are reloaded with every rule set, §8.5). */
export interface RuleSet {
  readonly policies: CompiledPolicySet
  readonly actions: ReadonlyMap<string, ActionFunc>
}

const compileRuleSet = (config: PolicyEngineConfig, path: string, benchmark: boolean): Effect.Effect<RuleSet, PolicyError> =>
  Effect.gen(function* () {
    const actions = yield* loadActions(config.actionDir)
    const all = config.language === "sigma"
      ? yield* loadSigmaPolicies(path, config.config)
      : yield* loadPolicies(path, { actions: new Set(actions.keys()) })
    return { policies: benchmark ? yield* benchmarkSelection(all, config) : all, actions }
  })

/**
 * With `-perflog`, `bench.ruleindex` keeps only rule #i and `bench.rulesetsize` the first N rules
 * (the reference's rule benchmarks, §8.1); filters are kept.
 */
const benchmarkSelection = (set: CompiledPolicySet, config: PolicyEngineConfig) =>
  Effect.gen(function* () {
    if (config.benchRuleIndex < 0 && config.benchRuleSetSize < 0) return set
    const selected = config.benchRuleIndex >= 0
      ? selectRules(set, (_r, i) => i === config.benchRuleIndex)
      : selectRules(set, (_r, i) => i < config.benchRuleSetSize)
    yield* Effect.logInfo(`Benchmarking ${selected.rules.length} rule(s)`)
    for (const r of selected.rules) yield* Effect.logInfo(`Rule Name: ${r.name}, Description: ${r.desc}`)
    return selected
  })

export interface PolicyEngineApi {
  /** The rule set of the policies at `path` (`benchmark`: apply -perflog's bench.* selection). */
  readonly compile: (config: PolicyEngineConfig, path: string, benchmark: boolean) => Effect.Effect<RuleSet, PolicyError>
}

export class PolicyEngine extends Context.Tag("sfprocessor/PolicyEngine")<PolicyEngine, PolicyEngineApi>() {
  static readonly Live = Layer.succeed(PolicyEngine, { compile: compileRuleSet })
}
