/**
 * Command-line parsing (pipeline.md §1). Go's `flag` package defines the syntax and the error texts, so a
 * small scanner applies Go's rules (`-x v`, `-x=v`, `--x v`, `--x=v`, bool flags only as `-x` or `-x=v`,
 * last value wins, stop at the first non-flag) and rewrites argv into one canonical form; the @effect/cli
 * `Command` then parses that form into the typed `CliArgs`. Help, errors and `-version` texts are ours,
 * never @effect/cli's, and its built-in options are never reachable (see `CLI_NAME`).
 */
import { Args, CliConfig, Command, Options } from "@effect/cli"
import * as Descriptor from "@effect/cli/CommandDescriptor"
// The subpath: the package root loads every Node platform module (~200 ms at startup).
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Either, Option } from "effect"
import * as fs from "node:fs"
import { builtinDrivers } from "../layers/Drivers.js"
import { VERSION_LINE } from "../domain/manifest.js"
import { parsePipelineConfig } from "../services/pipeline/ConfigLoader.js"
import { type LogLevelName, parseLogLevel } from "../services/logging/SfLogger.js"
import { FLAGS, type FlagName, isFlagName, type Output, usageOutput } from "./Usage.js"

export type { Output } from "./Usage.js"

export interface CliArgs {
  readonly driver: string
  readonly config: string
  readonly log: LogLevelName
  readonly perflog: boolean
  readonly driverdir: string
  readonly plugdir: string
  readonly test: boolean
  /** `-list`: print the policy engines' rules (ListRules.ts) instead of running. */
  readonly list: boolean
  readonly version: boolean
  readonly cpuprofile: string
  readonly memprofile: string
  readonly traceprofile: string
  /** The input path; absent only with `-test`, `-list` or `-version`. */
  readonly path: Option.Option<string>
}

export type CliOutcome =
  | {
      readonly _tag: "Run"
      readonly args: CliArgs
      /** Flag-like arguments after the path, which Go's parser ignores (P15: the caller warns). */
      readonly trailingFlags: ReadonlyArray<string>
    }
  | { readonly _tag: "Exit"; readonly code: number; readonly output: ReadonlyArray<Output> }

// @effect/cli treats a lone `--version` as its own built-in, so our flag travels under another name.
const CLI_NAME: Record<FlagName, string> = {
  driver: "driver",
  config: "config",
  log: "log",
  perflog: "perflog",
  driverdir: "driverdir",
  plugdir: "plugdir",
  test: "test",
  list: "list",
  version: "sf-version",
  cpuprofile: "cpuprofile",
  memprofile: "memprofile",
  traceprofile: "traceprofile"
}

type StringFlag = { [K in FlagName]: (typeof FLAGS)[K]["kind"] extends "string" ? K : never }[FlagName]
type BoolFlag = Exclude<FlagName, StringFlag>

const text = (name: StringFlag) => Options.text(CLI_NAME[name]).pipe(Options.withDefault(FLAGS[name].defValue))
const bool = (name: BoolFlag) => Options.boolean(CLI_NAME[name])

export const command = Command.make("sfprocessor", {
  driver: text("driver"),
  config: text("config"),
  log: text("log").pipe(Options.map(parseLogLevel)),
  perflog: bool("perflog"),
  driverdir: text("driverdir"),
  plugdir: text("plugdir"),
  test: bool("test"),
  list: bool("list"),
  version: bool("version"),
  cpuprofile: text("cpuprofile"),
  memprofile: text("memprofile"),
  traceprofile: text("traceprofile"),
  path: Args.text({ name: "path" }).pipe(Args.optional)
})

// Go flag names are case-sensitive; the scanner has already resolved every name, so no auto-correction.
const CLI_CONFIG = CliConfig.make({ isCaseSensitive: true, autoCorrectLimit: 0 })

type Scan =
  | { readonly _tag: "Flags"; readonly values: ReadonlyMap<FlagName, string | true>; readonly rest: ReadonlyArray<string> }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Bad"; readonly message: string }

// strconv.ParseBool
const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"])
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"])

/** Go's `FlagSet.Parse` over `argv` (without node and script), with its error messages. */
const scan = (argv: ReadonlyArray<string>): Scan => {
  const values = new Map<FlagName, string | true>()
  let i = 0
  while (i < argv.length) {
    const s = argv[i]
    if (s.length < 2 || s[0] !== "-") break
    const dashes = s[1] === "-" ? 2 : 1
    if (dashes === 2 && s.length === 2) {
      i++
      break
    }
    const body = s.slice(dashes)
    if (body[0] === "-" || body[0] === "=") return { _tag: "Bad", message: `bad flag syntax: ${s}` }
    i++
    const eq = body.indexOf("=")
    const name = eq < 0 ? body : body.slice(0, eq)
    const inline = eq < 0 ? undefined : body.slice(eq + 1)
    if (!isFlagName(name)) {
      if (name === "help" || name === "h") return { _tag: "Help" }
      return { _tag: "Bad", message: `flag provided but not defined: -${name}` }
    }
    if (FLAGS[name].kind === "bool") {
      if (inline === undefined || TRUE.has(inline)) values.set(name, true)
      else if (FALSE.has(inline)) values.delete(name)
      else return { _tag: "Bad", message: `invalid boolean value ${JSON.stringify(inline)} for -${name}: parse error` }
    } else if (inline !== undefined) {
      values.set(name, inline)
    } else if (i < argv.length) {
      values.set(name, argv[i++])
    } else {
      return { _tag: "Bad", message: `flag needs an argument: -${name}` }
    }
  }
  return { _tag: "Flags", values, rest: argv.slice(i) }
}

/** The one form @effect/cli gets: `--name value` / `--name` per set flag, then `-- path`. */
const canonical = (values: ReadonlyMap<FlagName, string | true>, path: string | undefined): Array<string> => {
  const out: Array<string> = []
  for (const [name, value] of values) {
    // A separate `--` would end @effect/cli's options; `--name=value` would lose edge whitespace.
    if (value === "--") out.push(`--${CLI_NAME[name]}=--`)
    else out.push(`--${CLI_NAME[name]}`, ...(value === true ? [] : [value]))
  }
  if (path !== undefined) out.push("--", path)
  return out
}

/**
 * Whether the pipeline file's drivers block names only drivers that read no input path (nats): then no
 * path is needed. An unreadable file is left to the load, which reports it.
 */
const readsNoInput = (configPath: string): boolean => {
  let text: string
  try {
    text = fs.readFileSync(configPath, "utf8")
  } catch {
    return false
  }
  const config = parsePipelineConfig(text, configPath)
  if (Either.isLeft(config)) return false
  const names = config.right.drivers.flatMap((d) => (d.driver === undefined ? [] : [d.driver]))
  return names.length > 0 && names.every((n) => builtinDrivers.some((d) => d.spec.name === n && d.needsInput === false))
}

/** What Go's parser would have taken as a flag, had it not stopped at the path. */
const looksLikeFlag = (arg: string): boolean => /^--?[^-=]/.test(arg)

const exit = (code: number, output: ReadonlyArray<Output>): CliOutcome => ({ _tag: "Exit", code, output })

/**
 * Parses the user's arguments (`process.argv.slice(2)`). `-h`/`-help` give exit 0 with the usage, a bad
 * flag exit 2 with Go's message and the usage, a missing path exit 1 with the usage, `-version` exit 0
 * with the version line; otherwise the parsed flags.
 */
export const parseCli = (argv: ReadonlyArray<string>): Effect.Effect<CliOutcome> => {
  const scanned = scan(argv)
  switch (scanned._tag) {
    case "Help":
      return Effect.succeed(exit(0, usageOutput()))
    case "Bad":
      return Effect.succeed(exit(2, [{ stream: "stderr", text: `${scanned.message}\n` }, ...usageOutput()]))
    case "Flags": {
      const [path, ...after] = scanned.rest
      return Descriptor.parse(command.descriptor, ["sfprocessor", ...canonical(scanned.values, path)], CLI_CONFIG).pipe(
        Effect.provide(NodeContext.layer),
        // The canonical form is valid by construction: a rejection here is a bug, not a user error.
        Effect.orDie,
        Effect.flatMap((directive) =>
          directive._tag === "UserDefined"
            ? Effect.succeed(directive.value)
            : Effect.dieMessage(`@effect/cli took a built-in option from ${JSON.stringify(argv)}`)
        ),
        Effect.map((args): CliOutcome => {
          // Without a path, the pipeline file is read only to see whether its drivers need one.
          if (!args.version && !args.test && !args.list && Option.isNone(args.path) && !(args.driver === "" && readsNoInput(args.config))) {
            return exit(1, usageOutput())
          }
          if (args.version) return exit(0, [{ stream: "stdout", text: `${VERSION_LINE}\n` }])
          return { _tag: "Run", args, trailingFlags: after.filter(looksLikeFlag) }
        })
      )
    }
  }
}

/** The P15 warning for flags that followed the input path. */
export const trailingFlagsWarning = (flags: ReadonlyArray<string>): string =>
  `Ignoring arguments after the input path (flags must come before it): ${flags.join(" ")}`

/** Writes an `Exit` outcome's output in order. */
export const writeOutput = (
  output: ReadonlyArray<Output>,
  write: (stream: Output["stream"], text: string) => void = (stream, text) => void process[stream].write(text)
): void => {
  for (const chunk of output) write(chunk.stream, chunk.text)
}
