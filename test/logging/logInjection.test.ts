/**
 * Issue 10 §6: a log line is one line. Text from outside (file names, policy values) goes into log
 * messages, so control characters are escaped by the logger: a file named `a\n[Error] forged` or one
 * holding ANSI escapes cannot forge a log line or drive the terminal. The CLI test needs the built CLI.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { escapeControls, formatLine, SfLoggerLive } from "../../src/services/logging/SfLogger.js"
import { generatedTrace } from "../socket/generated.js"
import { fileExportPipeline, lines, runCli, tempDir, writePipeline } from "../support/cli.js"

describe("escapeControls", () => {
  it("escapes C0 controls but tab (newline, CR, ESC, NUL), DEL, C1, line separators and bidi overrides", () => {
    expect(escapeControls("a\n[Error] forged")).toBe("a\\n[Error] forged")
    expect(escapeControls("x\r\ty\u0000\u001b[31mred\u007f\u0085\u009b")).toBe("x\\r\ty\\x00\\x1b[31mred\\x7f\\x85\\x9b")
    expect(escapeControls("a\u2028b\u202ec\u2066")).toBe("a\\u2028b\\u202ec\\u2066")
  })

  it("leaves other text as it is (backslashes, quotes, non-ASCII)", () => {
    const text = `C:\\temp "é" 'ü' ☃ 日本 \\n`
    expect(escapeControls(text)).toBe(text)
  })
})

describe("every log call writes one line", () => {
  it("escapes the message and the component", () => {
    const date = new Date(2024, 0, 2, 3, 4, 5)
    expect(formatLine("Info", "file\u001b[2J", "Reading trace file /t/a\n[Error] forged", date)).toBe(
      "[Info] 2024/01/02 03:04:05 file\\x1b[2J: Reading trace file /t/a\\n[Error] forged\n"
    )
  })

  it("through the Effect logger, causes included", () => {
    const out: Array<string> = []
    const layer = SfLoggerLive({ level: "info", perflog: false }, { stdout: (t) => out.push(t), stderr: (t) => out.push(t) })
    Effect.runSync(Effect.provide(Effect.logError("bad file", new Error("x\ny")), layer))
    expect(out).toHaveLength(1)
    expect(out[0]).toMatch(/^\[Error\] .* sfprocessor: bad file x\\ny\n$/)
  })
})

describe("the CLI reading a directory with hostile file names", () => {
  it("shows each name escaped, on its own line, and forges nothing", async () => {
    const dir = tempDir()
    const traces = path.join(dir, "traces")
    fs.mkdirSync(traces)
    const forged = "a\n[Error] forged"
    const ansi = "b\u001b[31mred\u001b[0m"
    const a = generatedTrace({ flows: 3, file: path.join(traces, forged) })
    const b = generatedTrace({ flows: 2, file: path.join(traces, ansi) })
    const out = path.join(dir, "out.jsonl")
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", traces])
    expect(res.code).toBe(0)
    const all = `${res.stdout}${res.stderr}`
    expect(res.stdout).toContain(`Reading trace file ${traces}/a\\n[Error] forged\n`)
    expect(res.stdout).toContain(`Reading trace file ${traces}/b\\x1b[31mred\\x1b[0m\n`)
    expect(all).not.toContain("\u001b")
    expect(all.split("\n").filter((l) => l.startsWith("[Error] forged"))).toEqual([])
    expect(res.stderr).toBe("")
    const events = (t: { events: Readonly<Record<string, number>> }) => Object.values(t.events).reduce((x, y) => x + y, 0)
    expect(lines(out)).toHaveLength(events(a) + events(b))
  })
})
