/**
 * Environment-variable overrides of pipeline entries (pipeline.md §7, with P4's case-insensitive key
 * matching), then the manifest keys every processor receives (§3). Each entry records which variable set
 * which key, so a bad value's error names the variable; an override that cannot take effect is reported.
 */
import { describeEntry, type AttributeValue, type PipelineConfig, type PluginEntry } from "../../domain/pipelineConfig.js"
import type { KnownKeys } from "./Registry.js"

/** The reference 0.7.0 manifest (`makefile.manifest.inc`); also what `-version` prints. */
export const MANIFEST = {
  version: "0.7.0",
  jsonschemaversion: "5",
  ecsversion: "8.2",
  buildnumber: "1"
} as const

interface Override {
  /** The variable's name as written, for messages. */
  readonly variable: string
  /** The lowercase processor name the variable targets. */
  readonly processor: string
  /** The lowercase attribute, `_` replaced by `.`. */
  readonly attribute: string
  readonly value: string
}

/** `processor`, `in` and `out` live in the same map as the attributes in the reference, so they can be overridden too. */
const STRUCTURAL = new Set(["processor", "in", "out"])

/**
 * `<PROCESSOR>_<ATTR>=v` sets attribute `attr` (each `_` read as `.`) of every entry whose `processor`
 * equals the lowercased prefix. The attribute takes the spelling of a key it equals case-insensitively: a
 * known key of the processor first (that is what the processor reads), then a key already in the entry,
 * else its lowercase form. Later variables win. Drivers are not overridden. The manifest keys are set
 * afterwards, overwriting file and environment values.
 */
export const applyEnvOverrides = (
  config: PipelineConfig,
  env: Readonly<Record<string, string | undefined>>,
  knownKeys: KnownKeys
): PipelineConfig => {
  const overrides = parseOverrides(env)
  const manifest = manifestValues(env)
  return {
    ...config,
    pipeline: config.pipeline.map((entry) => setAttributes(overrideEntry(entry, overrides, knownKeys), manifest))
  }
}

/**
 * The overrides that reach an entry but cannot take effect, one warning each (they are not errors, as
 * the environment of a fleet's nodes may carry variables for other versions): a key the processor does
 * not read, or a manifest key, which sfprocessor sets after the overrides. Only variables whose prefix is
 * the processor of an entry count; the rest of the environment (PATH, HOME_DIR, ...) is not about us.
 */
export const envOverrideWarnings = (
  config: PipelineConfig,
  env: Readonly<Record<string, string | undefined>>,
  knownKeys: KnownKeys
): ReadonlyArray<string> => {
  const overrides = parseOverrides(env)
  const manifest = new Map(manifestValues(env))
  const warnings: Array<string> = []
  for (const entry of config.pipeline) {
    const known = knownKeys(entry)
    const where = `${config.file}: ${describeEntry(entry)}`
    for (const { variable, processor, attribute } of overrides) {
      if (processor !== entry.processor || STRUCTURAL.has(attribute)) continue
      const key = canonicalKey(attribute, known, entry.attributes)
      const set = manifest.get(key)
      if (set !== undefined) {
        warnings.push(`${where}: ${variable} has no effect: ${key} is set by sfprocessor (to "${set}")`)
      } else if (known !== "any" && !known.includes(key)) {
        warnings.push(`${where}: ${variable} sets ${key}, which ${processor} does not read: ignored (its keys: ${[...known].sort().join(", ")})`)
      }
    }
  }
  return warnings
}

const manifestValues = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<readonly [string, string]> => [
  ...Object.entries(MANIFEST),
  ["cluster.id", env.CLUSTER_ID ?? ""]
]

const parseOverrides = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<Override> => {
  const overrides: Array<Override> = []
  for (const [variable, value] of Object.entries(env)) {
    const lower = variable.toLowerCase()
    const split = lower.indexOf("_")
    if (value === undefined || split < 0) continue
    overrides.push({ variable, processor: lower.slice(0, split), attribute: lower.slice(split + 1).replaceAll("_", "."), value })
  }
  return overrides
}

const overrideEntry = (entry: PluginEntry, overrides: ReadonlyArray<Override>, knownKeys: KnownKeys): PluginEntry => {
  const processor = entry.processor
  const mine = overrides.filter((o) => o.processor === processor)
  if (processor === undefined || mine.length === 0) return entry
  const known = knownKeys(entry)
  let updated = entry
  const attributes: Array<readonly [string, string, string]> = []
  for (const { variable, attribute, value } of mine) {
    if (attribute === "processor") updated = { ...updated, processor: value }
    else if (attribute === "in" || attribute === "out") updated = { ...updated, [attribute]: [value] }
    else attributes.push([canonicalKey(attribute, known, entry.attributes), value, variable])
  }
  return setAttributes(updated, attributes)
}

const canonicalKey = (
  attribute: string,
  known: ReadonlyArray<string> | "any",
  present: ReadonlyMap<string, AttributeValue>
): string => {
  const same = (key: string) => key.toLowerCase() === attribute
  return (known === "any" ? undefined : known.find(same)) ?? [...present.keys()].find(same) ?? attribute
}

/**
 * Sets attributes in order (later wins), recording the variable that set each (none for the manifest);
 * a key set here no longer counts as converted from a number (P3).
 */
const setAttributes = (entry: PluginEntry, values: ReadonlyArray<readonly [string, string, string?]>): PluginEntry => {
  if (values.length === 0) return entry
  const attributes = new Map(entry.attributes)
  const sources = new Map(entry.sources)
  for (const [key, value, variable] of values) {
    attributes.set(key, value)
    if (variable === undefined) sources.delete(key)
    else sources.set(key, variable)
  }
  const replaced = new Set(values.map(([key]) => key))
  return { ...entry, attributes, sources, converted: entry.converted.filter((key) => !replaced.has(key)) }
}
