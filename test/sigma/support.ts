/**
 * Helpers for the Sigma tests: rule files from a few lines of YAML, compiling them (with a config), and
 * which rules a record fires.
 */
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import { EMPTY_SIGMA_CONFIG, readSigmaConfig, type SigmaConfig } from "../../src/services/policy/sigma/SigmaConfig.js"
import { compileSigmaSources, type SigmaLoad } from "../../src/services/policy/sigma/SigmaLoader.js"

/** A Sigma rule file: `detection` is the YAML under `detection:` (indented by 4). */
export const ruleYaml = (o: {
  readonly title: string
  readonly id?: string
  readonly detection: string
  readonly logsource?: string
  readonly level?: string
  readonly extra?: string
}): string =>
  [
    `title: ${o.title}`,
    `id: ${o.id ?? "00000000-0000-4000-8000-000000000000"}`,
    "status: test",
    `description: ${o.title} (test rule)`,
    "references:",
    "    - https://example.org/sigma-tests",
    "tags:",
    "    - attack.execution",
    "    - attack.t1059.004",
    "logsource:",
    ...(o.logsource ?? "category: process_creation\nproduct: linux").split("\n").map((l) => `    ${l}`),
    "detection:",
    ...o.detection.trim().split("\n").map((l) => `    ${l}`),
    `level: ${o.level ?? "high"}`,
    ...(o.extra === undefined ? [] : [o.extra])
  ].join("\n") + "\n"

export const config = (text: string, file = "sigma-config.yml"): SigmaConfig => {
  const r = readSigmaConfig(file, text)
  if ("errors" in r) throw new Error(r.errors.map(renderDiagnostic).join("\n"))
  return r.config
}

/** Compiles rule files given as path → YAML text. */
export const compile = (files: Readonly<Record<string, string>>, cfg: SigmaConfig = EMPTY_SIGMA_CONFIG): SigmaLoad =>
  compileSigmaSources(
    Object.entries(files).map(([path, text]) => ({ path, text })),
    cfg
  )

/** Compiles one rule with `detection` (process_creation unless `logsource` says otherwise). */
export const compileRule = (detection: string, logsource?: string, cfg?: SigmaConfig): SigmaLoad =>
  compile({ "rule.yml": ruleYaml({ title: "t", detection, logsource }) }, cfg)

export const diagnosticsOf = (load: SigmaLoad): Array<string> => load.diagnostics.map(renderDiagnostic)

/** Titles of the rules a record fires, in rule order. */
export const fired = (load: SigmaLoad, r: FlatRecord): Array<string> =>
  load.rules.filter((rule) => rule.conditionByType[r.type]?.(r) === true).map((rule) => rule.sigma.title)

/** True if the (only) rule of the load fires on the record. */
export const fires = (load: SigmaLoad, r: FlatRecord): boolean => {
  if (load.rules.length !== 1) throw new Error(`expected one rule, got ${load.rules.length}:\n${diagnosticsOf(load).join("\n")}`)
  return fired(load, r).length === 1
}
