/**
 * The flag table and the usage text of pipeline.md §1, laid out exactly as the reference's Go `flag`
 * package prints them: the synopsis on stdout, the `PrintDefaults` list on stderr.
 */

export interface FlagDef {
  readonly kind: "string" | "bool"
  /** Default as Go's `DefValue` string; shown in the usage only when non-zero. */
  readonly defValue: string
  /** Go usage string: a back-quoted word names the value in the defaults list. */
  readonly usage: string
}

export const FLAGS = {
  driver: { kind: "string", defValue: "", usage: "Driver name {file|socket|otelfile|otelkafka|<custom>}" },
  cpuprofile: { kind: "string", defValue: "", usage: "Write cpu profile to `file`" },
  memprofile: { kind: "string", defValue: "", usage: "Write memory profile to `file`" },
  traceprofile: { kind: "string", defValue: "", usage: "Write trace profile to `file`" },
  config: { kind: "string", defValue: "pipeline.json", usage: "Path to pipeline configuration file" },
  log: { kind: "string", defValue: "info", usage: "Log level {trace|info|warn|error|health|quiet}" },
  perflog: { kind: "bool", defValue: "false", usage: "Enable performance logging" },
  driverdir: { kind: "string", defValue: "../resources/drivers", usage: "Dynamic driver directory" },
  plugdir: { kind: "string", defValue: "../resources/plugins", usage: "Dynamic plugins directory" },
  test: { kind: "bool", defValue: "false", usage: "Test pipeline configuration" },
  list: { kind: "bool", defValue: "false", usage: "List the policy engines' rules with their state, source, priority and tags" },
  version: { kind: "bool", defValue: "false", usage: "Output version information" }
} as const satisfies Record<string, FlagDef>

export type FlagName = keyof typeof FLAGS

export const isFlagName = (name: string): name is FlagName => Object.hasOwn(FLAGS, name)

/** One write of the usage (or of an error) to a standard stream, in the order Go makes them. */
export interface Output {
  readonly stream: "stdout" | "stderr"
  readonly text: string
}

// The reference prints a Go raw string literal, so its source indentation is part of the text.
const SYNOPSIS =
  "Usage: sfprocessor [-version\n" +
  "\t\t   |-test [-log <value>] [-config <value>] [-driverdir <value>] [-plugdir <value>]]\n" +
  "\t\t   |[-driver <value>] [-log <value>] [-perflog] [-config <value>] [-driverdir <value>]" +
  " [-plugdir <value>] [-cpuprofile <value>] [-memprofile <value>] [-traceprofile <value>] path]\n"

const USAGE_HEAD = SYNOPSIS + "\nPositional arguments:\n  path string\n\tInput path\n\nArguments:\n"

/** Go's `UnquoteUsage`: the back-quoted word names the value; otherwise strings say `string`, bools nothing. */
const unquoteUsage = (def: FlagDef): readonly [name: string, usage: string] => {
  const m = /`([^`]*)`/.exec(def.usage)
  if (m !== null) return [m[1], def.usage.replace(m[0], m[1])]
  return [def.kind === "bool" ? "" : "string", def.usage]
}

/** Go's `flag.PrintDefaults`, sorted by name (no one-letter flags here, so always two lines each). */
export const flagDefaults = (): string =>
  (Object.keys(FLAGS) as Array<FlagName>)
    .sort()
    .map((name) => {
      const def: FlagDef = FLAGS[name]
      const [valueName, usage] = unquoteUsage(def)
      const head = valueName === "" ? `  -${name}` : `  -${name} ${valueName}`
      // Go omits zero defaults ("" and false); all our bools default to false, strings print as %q.
      const shown = def.kind === "string" && def.defValue !== "" ? ` (default ${JSON.stringify(def.defValue)})` : ""
      return `${head}\n    \t${usage}${shown}\n`
    })
    .join("")

/** The whole usage, as the reference's `flag.Usage` writes it. */
export const usageOutput = (): ReadonlyArray<Output> => [
  { stream: "stdout", text: USAGE_HEAD },
  { stream: "stderr", text: flagDefaults() },
  { stream: "stdout", text: "\n" }
]
