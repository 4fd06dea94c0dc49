/**
 * Loading a Sigma rule set (`language: sigma`, policy-language.md §10): every `.yml`/`.yaml` file under
 * `policies` (the Falco loader's file set, so the policy monitor watches the same files) is a Sigma rule;
 * `config` names the one Sigma config that applies (configs found among the rules are reported and not
 * applied).
 *
 * What is skipped is always reported: a file that is not a valid rule (error at file:line:col, skipped
 * as the reference did), a rule that cannot compile (error naming the rule and the field, modifier or
 * condition), a rule whose logsource SysFlow does not record (warning). A set in which no rule loads,
 * an unreadable path, or a config that cannot be read are load errors.
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import { type Diagnostic, type PolicyError, policyError } from "../../../domain/policy/Diagnostic.js"
import { listPolicyFiles, type PolicySource, readPolicySources } from "../PolicyLoader.js"
import { compileSigmaRules, type SigmaCompileOutput } from "./SigmaCompiler.js"
import { EMPTY_SIGMA_CONFIG, readSigmaConfig, type SigmaConfig } from "./SigmaConfig.js"
import { readSigmaFile } from "./SigmaReader.js"
import type { SigmaRule } from "./SigmaRule.js"

export interface SigmaLoad extends SigmaCompileOutput {
  /** The files read, in load order. */
  readonly files: ReadonlyArray<string>
  /** Files skipped because they are not valid rules (each has an error diagnostic). */
  readonly skippedFiles: number
}

/** Reads and compiles Sigma sources (pure): file diagnostics first, then rule diagnostics. */
export const compileSigmaSources = (sources: ReadonlyArray<PolicySource>, config: SigmaConfig = EMPTY_SIGMA_CONFIG): SigmaLoad => {
  const rules: Array<SigmaRule> = []
  const diagnostics: Array<Diagnostic> = []
  let skippedFiles = 0
  for (const s of sources) {
    if (config.file !== undefined && s.path === config.file) continue // the config itself, under `policies`
    const r = readSigmaFile(s.path, s.text)
    diagnostics.push(...r.diagnostics)
    if (r.kind === "rule") rules.push(r.rule)
    else if (r.kind === "invalid") skippedFiles++
  }
  const out = compileSigmaRules(rules, config)
  return { ...out, diagnostics: [...diagnostics, ...out.diagnostics], files: sources.map((s) => s.path), skippedFiles }
}

/** Reads the Sigma config named by `config`; any problem is a load error. */
export const loadSigmaConfig = (path: string): Effect.Effect<SigmaConfig, PolicyError> =>
  Effect.tryPromise({
    try: () => fs.readFile(path, "utf8"),
    catch: (e) =>
      policyError([{ severity: "error", file: path, line: 0, column: 0, message: `cannot read Sigma config: ${(e as Error).message}`, reason: "Read" }])
  }).pipe(
    Effect.flatMap((text) => {
      const r = readSigmaConfig(path, text)
      return "errors" in r ? Effect.fail(policyError(r.errors)) : Effect.succeed(r.config)
    })
  )

/** Loads the Sigma rules under `path` with the config at `configPath` (if any). */
export const loadSigmaRules = (path: string, configPath: string | undefined): Effect.Effect<SigmaLoad, PolicyError> =>
  Effect.gen(function* () {
    const config = configPath === undefined || configPath === "" ? EMPTY_SIGMA_CONFIG : yield* loadSigmaConfig(configPath)
    const sources = yield* readPolicySources(path)
    const load = compileSigmaSources(sources, config)
    if (load.rules.length === 0) {
      const errors = load.diagnostics.filter((d) => d.severity === "error")
      return yield* Effect.fail(
        policyError(
          [
            ...errors,
            { severity: "error", file: path, line: 0, column: 0, message: `no Sigma rule could be loaded from ${path}`, reason: "Semantic" }
          ],
          load.diagnostics.filter((d) => d.severity === "warning")
        )
      )
    }
    return load
  })

/** The files a policy monitor must watch for a Sigma set: the rules and the config. */
export const listSigmaFiles = (path: string, configPath: string | undefined): Effect.Effect<ReadonlyArray<string>, PolicyError> =>
  Effect.map(listPolicyFiles(path), (files) => (configPath === undefined || files.includes(configPath) ? files : [...files, configPath]))
