import { Cause, Effect } from "effect"
import { describe, expect, it } from "vitest"
import {
  formatLine,
  type LogLevelName,
  type LogSettings,
  type LogSink,
  logHealth,
  logPerf,
  makePlainLogger,
  parseLogLevel,
  type SfLevel,
  SfLog,
  SfLoggerLive,
  withComponent
} from "../../src/services/logging/SfLogger.js"

interface Captured {
  readonly sink: LogSink
  readonly lines: Array<{ stream: "out" | "err"; line: string }>
}

const capture = (): Captured => {
  const lines: Captured["lines"] = []
  return {
    lines,
    sink: { stdout: (line) => void lines.push({ stream: "out", line }), stderr: (line) => void lines.push({ stream: "err", line }) }
  }
}

const runLogged = (settings: LogSettings, effect: Effect.Effect<void, never, SfLog>): Captured["lines"] => {
  const { sink, lines } = capture()
  Effect.runSync(Effect.provide(effect, SfLoggerLive(settings, sink)))
  return lines
}

const LINE = /^\[(Trace|Info|Warn|Error|Health|Perf)\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} ([^:]+): (.*)\n$/s

const prefixOf = (line: string): string => LINE.exec(line)?.[1] ?? `unformatted: ${line}`

const everyLevel: Effect.Effect<void> = Effect.all([
  Effect.logTrace("t"),
  Effect.logInfo("i"),
  Effect.logWarning("w"),
  Effect.logError("e"),
  logHealth("h"),
  logPerf("p")
]).pipe(Effect.asVoid)

// pipeline.md §2: which prefixes each -log value shows, and where (out = stdout, err = stderr).
const TABLE: Record<LogLevelName, ReadonlyArray<string>> = {
  trace: ["out Trace", "out Info", "out Warn", "err Error", "out Health"],
  info: ["out Info", "out Warn", "err Error", "out Health"],
  warn: ["out Warn", "err Error", "out Health"],
  error: ["err Error", "out Health"],
  health: ["out Health"],
  quiet: []
}

describe("SfLogger routing", () => {
  it.each(Object.entries(TABLE))("-log %s", (level, expected) => {
    const lines = runLogged({ level: level as LogLevelName, perflog: false }, everyLevel)
    expect(lines.map(({ stream, line }) => `${stream} ${prefixOf(line)}`)).toEqual(expected)
  })

  it.each(Object.keys(TABLE))("-perflog adds [Perf] on stdout at -log %s", (level) => {
    const lines = runLogged({ level: level as LogLevelName, perflog: true }, everyLevel)
    expect(lines.map(({ stream, line }) => `${stream} ${prefixOf(line)}`)).toEqual([...TABLE[level as LogLevelName], "out Perf"])
  })

  it("shows Debug as Trace, Fatal as Error", () => {
    const lines = runLogged({ level: "trace", perflog: false }, Effect.zipRight(Effect.logDebug("d"), Effect.logFatal("f")))
    expect(lines.map(({ stream, line }) => `${stream} ${prefixOf(line)}`)).toEqual(["out Trace", "err Error"])
  })
})

describe("SfLogger format", () => {
  it("writes `[Level] YYYY/MM/DD HH:MM:SS component: message` in local time", () => {
    const date = new Date(2024, 0, 2, 3, 4, 5, 678)
    expect(formatLine("Warn", "exporter", "hello", date)).toBe("[Warn] 2024/01/02 03:04:05 exporter: hello\n")
  })

  it("stamps lines with the current time and the default component", () => {
    const before = Math.floor(Date.now() / 1000) * 1000
    const [{ line }] = runLogged({ level: "info", perflog: false }, Effect.logInfo("Successfully loaded pipeline configuration"))
    const m = LINE.exec(line)
    expect(m?.slice(1)).toEqual(["Info", "sfprocessor", "Successfully loaded pipeline configuration"])
    const [, y, mo, d, h, mi, s] = /(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})/.exec(line)!.map(Number)
    const stamped = new Date(y, mo - 1, d, h, mi, s).getTime()
    expect(stamped).toBeGreaterThanOrEqual(before)
    expect(stamped).toBeLessThanOrEqual(Date.now())
  })

  it("takes the component from the annotation", () => {
    const lines = runLogged({ level: "info", perflog: false }, Effect.logWarning("w").pipe(withComponent("exporter")))
    expect(LINE.exec(lines[0].line)?.[2]).toBe("exporter")
  })

  it("joins arguments as Go's Println does", () => {
    const lines = runLogged(
      { level: "info", perflog: true },
      Effect.all([
        Effect.logError("Unable to load pipeline error: ", "boom"),
        logPerf("File driver rate (events/sec): ", 1234),
        logHealth("Health checks:", "passed")
      ])
    )
    expect(lines.map(({ line }) => LINE.exec(line)?.[3])).toEqual([
      "Unable to load pipeline error:  boom",
      "File driver rate (events/sec):  1234",
      "Health checks: passed"
    ])
  })

  it("renders a logged cause as its error message", () => {
    const lines = runLogged({ level: "info", perflog: false }, Effect.logError("Could not start:", Cause.fail(new Error("EACCES"))))
    expect(LINE.exec(lines[0].line)?.[3]).toBe("Could not start: EACCES")
  })
})

describe("plain logger", () => {
  it("shares format and routing with the Effect logger through SfLog", () => {
    const lines = runLogged(
      { level: "warn", perflog: false },
      Effect.map(SfLog, (log) => {
        const levels: Array<SfLevel> = ["Trace", "Info", "Warn", "Error", "Health", "Perf"]
        for (const level of levels) log.log(level, level.toLowerCase())
        log.withComponent("policyengine").log("Warn", "Rule", 3, "ignored")
        expect(log.enabled("Warn")).toBe(true)
        expect(log.enabled("Info")).toBe(false)
      })
    )
    expect(lines.map(({ stream, line }) => `${stream} ${prefixOf(line)}`)).toEqual(["out Warn", "err Error", "out Health", "out Warn"])
    expect(LINE.exec(lines[3].line)?.slice(2)).toEqual(["policyengine", "Rule 3 ignored"])
  })

  it("can be made without a layer", () => {
    const { sink, lines } = capture()
    makePlainLogger({ level: "quiet", perflog: true }, sink).log("Perf", "rate:", 5)
    expect(lines.map(({ line }) => LINE.exec(line)?.slice(1))).toEqual([["Perf", "sfprocessor", "rate: 5"]])
  })
})

describe("parseLogLevel", () => {
  it("is case-insensitive and falls back to info", () => {
    expect(["TRACE", "Info", "wArN", "error", "HEALTH", "quiet", "", "debug"].map(parseLogLevel)).toEqual([
      "trace", "info", "warn", "error", "health", "quiet", "info", "info"
    ])
  })
})
