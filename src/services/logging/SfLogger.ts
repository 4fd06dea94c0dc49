/**
 * The reference's six loggers (pipeline.md §2) as one Effect `Logger`:
 * `[<Level>] YYYY/MM/DD HH:MM:SS <component>: <message>`, Error to stderr, everything else to stdout,
 * filtered by `-log` and `-perflog`.
 *
 * Effect code logs with `Effect.logTrace/logInfo/logWarning/logError` and this module's `logHealth` /
 * `logPerf` (Effect has no such levels: they log at Info with a level annotation). The component comes
 * from the `component` log annotation (`withComponent`). Plain code (hot paths, plugins) gets the same
 * formatter and filter through the `SfLog` service.
 *
 * Every log call writes exactly one line (issue 10): control characters in the message and the
 * component are escaped (`\n`, `\x1b`, …), because messages carry text from outside (file names,
 * policy values, server replies) and a file named `a\n[Error] forged`, or one holding ANSI escapes, must
 * not be able to forge a log line or drive the terminal. Text with several lines is logged as several
 * calls.
 */
import { Cause, Context, Effect, HashMap, Inspectable, Layer, Logger, LogLevel, Option } from "effect"

/** Values of `-log`. */
export type LogLevelName = "trace" | "info" | "warn" | "error" | "health" | "quiet"

/** The reference's line prefixes. */
export type SfLevel = "Trace" | "Info" | "Warn" | "Error" | "Health" | "Perf"

export interface LogSettings {
  readonly level: LogLevelName
  readonly perflog: boolean
}

/** Where lines go; tests inject their own. Each call gets one complete line, newline included. */
export interface LogSink {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
}

export const processSink: LogSink = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text)
}

export const COMPONENT_ANNOTATION = "component"
export const DEFAULT_COMPONENT = "sfprocessor"
const LEVEL_ANNOTATION = "sfLevel"

const LEVEL_NAMES: ReadonlyArray<LogLevelName> = ["trace", "info", "warn", "error", "health", "quiet"]

/** `-log` is case-insensitive and any unknown value means info. */
export const parseLogLevel = (value: string): LogLevelName => {
  const lower = value.toLowerCase()
  return LEVEL_NAMES.find((name) => name === lower) ?? "info"
}

// A level is shown when its rank reaches the -log threshold (the table of pipeline.md §2).
const THRESHOLD: Record<LogLevelName, number> = { trace: 0, info: 1, warn: 2, error: 3, health: 4, quiet: 5 }
const RANK: Record<Exclude<SfLevel, "Perf">, number> = { Trace: 0, Info: 1, Warn: 2, Error: 3, Health: 4 }

export const isEnabled = (settings: LogSettings, level: SfLevel): boolean =>
  level === "Perf" ? settings.perflog : RANK[level] >= THRESHOLD[settings.level]

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

/** Go's `log.LstdFlags` date: local time to the second. */
const formatDate = (d: Date): string =>
  `${d.getFullYear()}/${pad2(d.getMonth() + 1)}/${pad2(d.getDate())} ` +
  `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`

const formatArg = (arg: unknown): string =>
  typeof arg === "string" ? arg : arg instanceof Error ? arg.message : Inspectable.toStringUnknown(arg, 0)

/** Go's `Println`: operands separated by one space (so `"error: ", err` gives two). */
const formatMessage = (message: ReadonlyArray<unknown>): string => message.map(formatArg).join(" ")

/**
 * C0 controls (newline and tab included), DEL, C1 controls, the Unicode line and paragraph separators
 * and the bidirectional overrides (which reorder what a terminal shows).
 */
// Tab stays: it cannot break a line, and the reference's Elasticsearch stats line is tab-separated.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/
const CONTROLS = new RegExp(CONTROL.source, "g")
const SHORT_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r" }

const escapeControl = (c: string): string => {
  const short = SHORT_ESCAPES[c]
  if (short !== undefined) return short
  const code = c.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

/** `text` with every control character written as an escape (`\n`, `\x1b`, `\u202e`): one line, inert. */
export const escapeControls = (text: string): string => (CONTROL.test(text) ? text.replace(CONTROLS, escapeControl) : text)

export const formatLine = (level: SfLevel, component: string, message: string, date: Date): string =>
  `[${level}] ${formatDate(date)} ${escapeControls(component)}: ${escapeControls(message)}\n`

/** Logging for code outside Effect, with the same format and filter as the Effect logger. */
export interface PlainLogger {
  readonly enabled: (level: SfLevel) => boolean
  /** Logs when `level` is enabled; arguments are joined as Go's `Println` does. */
  readonly log: (level: SfLevel, ...message: ReadonlyArray<unknown>) => void
  readonly withComponent: (component: string) => PlainLogger
}

type Emit = (level: SfLevel, component: string, message: string, date: Date) => void

const makeEmit = (settings: LogSettings, sink: LogSink): Emit => (level, component, message, date) => {
  if (!isEnabled(settings, level)) return
  const line = formatLine(level, component, message, date)
  if (level === "Error") sink.stderr(line)
  else sink.stdout(line)
}

/**
 * Plugins log outside any fiber: their lines carry the wall-clock time (a Clock boundary, as a log
 * line's timestamp is); Effect's log lines carry the runtime Clock's date.
 */
const plainLogger = (settings: LogSettings, emit: Emit, component: string): PlainLogger => ({
  enabled: (level) => isEnabled(settings, level),
  log: (level, ...message) => {
    if (isEnabled(settings, level)) emit(level, component, formatMessage(message), new Date())
  },
  withComponent: (c) => plainLogger(settings, emit, c)
})

export const makePlainLogger = (settings: LogSettings, sink: LogSink = processSink): PlainLogger =>
  plainLogger(settings, makeEmit(settings, sink), DEFAULT_COMPONENT)

/** The plain logger of the installed settings, for handing to non-Effect code. */
export class SfLog extends Context.Tag("sfprocessor/SfLog")<SfLog, PlainLogger>() {}

/** The installed plain logger, or one with the default settings (`-log info`) where none is installed. */
export const currentPlainLogger: Effect.Effect<PlainLogger> = Effect.map(Effect.serviceOption(SfLog), (o) =>
  Option.getOrElse(o, () => makePlainLogger({ level: "info", perflog: false }))
)

const sfLevelOf = (logLevel: LogLevel.LogLevel, annotations: HashMap.HashMap<string, unknown>): SfLevel => {
  switch (logLevel._tag) {
    case "Trace":
    case "Debug":
      return "Trace"
    case "Warning":
      return "Warn"
    case "Error":
    case "Fatal":
      return "Error"
    default: {
      const tagged = HashMap.get(annotations, LEVEL_ANNOTATION)
      return Option.isSome(tagged) && (tagged.value === "Health" || tagged.value === "Perf") ? tagged.value : "Info"
    }
  }
}

const causeText = (cause: Cause.Cause<unknown>): string => {
  if (Cause.isEmpty(cause)) return ""
  const error = Cause.squash(cause)
  return ` ${error instanceof Error ? error.message : String(error)}`
}

const effectLogger = (emit: Emit): Logger.Logger<unknown, void> =>
  Logger.make(({ annotations, cause, date, logLevel, message }) => {
    const component = HashMap.get(annotations, COMPONENT_ANNOTATION).pipe(Option.map(String), Option.getOrElse(() => DEFAULT_COMPONENT))
    emit(sfLevelOf(logLevel, annotations), component, messageText(message, cause), date)
  })

/** A log call's message and cause as the line's text (a file worker sends it to the main thread's logger). */
export const messageText = (message: unknown, cause: Cause.Cause<unknown>): string =>
  formatMessage(Array.isArray(message) ? message : [message]) + causeText(cause)

/**
 * Replaces Effect's default logger with the reference format for these settings, lowers Effect's
 * minimum level to Trace when `-log trace` asks for it, and provides `SfLog`.
 */
export const SfLoggerLive = (settings: LogSettings, sink: LogSink = processSink): Layer.Layer<SfLog> => {
  const emit = makeEmit(settings, sink)
  return Layer.mergeAll(
    Logger.replace(Logger.defaultLogger, effectLogger(emit)),
    // Health and Perf travel at Info, so Info is the floor whatever -log says.
    Logger.minimumLogLevel(settings.level === "trace" ? LogLevel.Trace : LogLevel.Info),
    Layer.succeed(SfLog, plainLogger(settings, emit, DEFAULT_COMPONENT))
  )
}

/** Logs a `[Health]` line (shown unless `-log quiet`). */
export const logHealth = (...message: ReadonlyArray<unknown>): Effect.Effect<void> =>
  Effect.annotateLogs(Effect.logInfo(...message), LEVEL_ANNOTATION, "Health")

/** Logs a `[Perf]` line (shown only with `-perflog`). */
export const logPerf = (...message: ReadonlyArray<unknown>): Effect.Effect<void> =>
  Effect.annotateLogs(Effect.logInfo(...message), LEVEL_ANNOTATION, "Perf")

/** Tags every log line of `self` with a component name in place of `sfprocessor`. */
export const withComponent =
  (component: string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.annotateLogs(self, COMPONENT_ANNOTATION, component)
