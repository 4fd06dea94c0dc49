/**
 * A Sigma rule set as the engine's `CompiledPolicySet` (policy-language.md §10): the compiled Sigma
 * rules go through the same index, evaluation, outputs and policy engine stage as Falco-syntax rules.
 * The set's diagnostics are the Sigma loader's: errors for files and rules that were not loaded (the set
 * loads without them), warnings for rules that do not apply to SysFlow.
 */
import { Effect } from "effect"
import type { PolicyError } from "../../../domain/policy/Diagnostic.js"
import { type CompiledPolicySet, makeSet } from "../PolicySet.js"
import { loadSigmaRules, type SigmaLoad } from "./SigmaLoader.js"

export const sigmaPolicySet = (load: SigmaLoad): CompiledPolicySet =>
  makeSet(load.files, load.rules, [], load.diagnostics, 0, 0, load.memo)

/** Loads the Sigma rules under `path` with the Sigma config at `config` (if any). */
export const loadSigmaPolicies = (path: string, config: string | undefined): Effect.Effect<CompiledPolicySet, PolicyError> =>
  Effect.map(loadSigmaRules(path, config), sigmaPolicySet)
