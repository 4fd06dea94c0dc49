/**
 * Environment-variable overrides of pipeline entries (pipeline.md §7, with P4's case-insensitive key
 * matching), then the manifest keys every processor receives (§3).
 */
import type { AttributeValue, PipelineConfig, PluginEntry } from "../../domain/pipelineConfig.js"

/** The reference 0.7.0 manifest (`makefile.manifest.inc`); also what `-version` prints. */
export const MANIFEST = {
  version: "0.7.0",
  jsonschemaversion: "5",
  ecsversion: "8.2",
  buildnumber: "1"
} as const

interface Override {
  /** The lowercase processor name the variable targets. */
  readonly processor: string
  /** The lowercase attribute, `_` replaced by `.`. */
  readonly attribute: string
  readonly value: string
}

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
  knownKeys: (processor: string) => ReadonlyArray<string>
): PipelineConfig => {
  const overrides = parseOverrides(env)
  const manifest: ReadonlyArray<readonly [string, string]> = [...Object.entries(MANIFEST), ["cluster.id", env.CLUSTER_ID ?? ""]]
  return {
    ...config,
    pipeline: config.pipeline.map((entry) => setAttributes(overrideEntry(entry, overrides, knownKeys), manifest))
  }
}

const parseOverrides = (env: Readonly<Record<string, string | undefined>>): ReadonlyArray<Override> => {
  const overrides: Array<Override> = []
  for (const [name, value] of Object.entries(env)) {
    const lower = name.toLowerCase()
    const split = lower.indexOf("_")
    if (value === undefined || split < 0) continue
    overrides.push({ processor: lower.slice(0, split), attribute: lower.slice(split + 1).replaceAll("_", "."), value })
  }
  return overrides
}

const overrideEntry = (
  entry: PluginEntry,
  overrides: ReadonlyArray<Override>,
  knownKeys: (processor: string) => ReadonlyArray<string>
): PluginEntry => {
  const processor = entry.processor
  const mine = overrides.filter((o) => o.processor === processor)
  if (processor === undefined || mine.length === 0) return entry
  const known = knownKeys(processor)
  // `processor`, `in` and `out` live in the same map as the attributes in the reference, so they can be overridden too.
  let updated = entry
  const attributes: Array<readonly [string, string]> = []
  for (const { attribute, value } of mine) {
    if (attribute === "processor") updated = { ...updated, processor: value }
    else if (attribute === "in" || attribute === "out") updated = { ...updated, [attribute]: [value] }
    else attributes.push([canonicalKey(attribute, known, entry.attributes), value])
  }
  return setAttributes(updated, attributes)
}

const canonicalKey = (
  attribute: string,
  known: ReadonlyArray<string>,
  present: ReadonlyMap<string, AttributeValue>
): string => {
  const same = (key: string) => key.toLowerCase() === attribute
  return known.find(same) ?? [...present.keys()].find(same) ?? attribute
}

/** Sets attributes in order (later wins); a key set here no longer counts as converted from a number (P3). */
const setAttributes = (entry: PluginEntry, values: ReadonlyArray<readonly [string, string]>): PluginEntry => {
  if (values.length === 0) return entry
  const attributes = new Map(entry.attributes)
  for (const [key, value] of values) attributes.set(key, value)
  const replaced = new Set(values.map(([key]) => key))
  return { ...entry, attributes, converted: entry.converted.filter((key) => !replaced.has(key)) }
}
