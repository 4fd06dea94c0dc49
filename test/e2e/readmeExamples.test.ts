/**
 * Every `npx sfprocessor ...` command of README.md's shell code blocks runs as written and exits 0.
 *
 * The commands are read from the README each time, so new examples are covered as they are added. Each
 * runs with `sh -c` in a fresh directory that links every top-level entry of the repository (so the
 * relative paths of the examples resolve, and the `export.out` an example writes lands there, not in the
 * repository), with `npx sfprocessor` replaced by the built bundle. A command line ending in `&` (start in
 * the background, then query it) runs in the foreground. Usage synopses (`npx sfprocessor [-flags] path`)
 * are not commands and are skipped.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { binPath, projectRoot, tempDir } from "../support/cli.js"

/** The `npx sfprocessor` command lines of the ```sh (bash, shell) blocks of a Markdown text. */
const readmeCommands = (markdown: string): ReadonlyArray<string> => {
  const commands: Array<string> = []
  for (const block of markdown.matchAll(/^```(?:sh|bash|shell)[ \t]*\n([\s\S]*?)^```/gm)) {
    // Lines continued with a trailing backslash are one command.
    for (const line of block[1].replace(/\\\n/g, " ").split("\n")) {
      const command = line.trim()
      if (!/\bnpx sfprocessor\b/.test(command) || /\[-[^\]]*\]/.test(command)) continue
      commands.push(command.replace(/\s*&$/, ""))
    }
  }
  return commands
}

/** A directory that looks like the repository root: a link to each of its top-level entries. */
const repositoryView = (): string => {
  const dir = tempDir("sfp-readme-")
  for (const name of fs.readdirSync(projectRoot)) {
    if (name === ".git" || name.startsWith("export.out")) continue
    fs.symlinkSync(path.join(projectRoot, name), path.join(dir, name))
  }
  return dir
}

const commands = readmeCommands(fs.readFileSync(path.join(projectRoot, "README.md"), "utf8"))

describe("README examples run as written", () => {
  it("the README has the examples of 'Running it' (the extraction finds them)", () => {
    expect(commands).toContain("npx sfprocessor -config resources/pipelines/pipeline.alerts.json -driver file resources/traces/sample.sf")
    expect(commands.some((c) => c.includes(" -test "))).toBe(true)
  })

  it.each(commands)("%s", (command) => {
    const cwd = repositoryView()
    const script = command.replace(/\bnpx sfprocessor\b/g, `"${process.execPath}" "${binPath}"`)
    const res = spawnSync("sh", ["-c", script], { cwd, encoding: "utf8", timeout: 120_000 })
    const explain = `$ ${command}\nexit ${res.status} ${res.signal ?? ""}\nstdout:\n${res.stdout.slice(-2000)}\nstderr:\n${res.stderr.slice(-2000)}`
    expect(res.status, explain).toBe(0)
    fs.rmSync(cwd, { recursive: true, force: true })
  })

  it("the extraction: sh blocks only, synopses skipped, continuations joined, a trailing & dropped", () => {
    const md = [
      "```sh",
      "npx sfprocessor [-flags] path",
      "A=1 npx sfprocessor -config x.json \\",
      "  -driver file t.sf &",
      "npm test",
      "```",
      "```json",
      '{"x": "npx sfprocessor -version"}',
      "```",
      "```bash",
      "npx sfprocessor -version && echo ok",
      "```"
    ].join("\n")
    expect(readmeCommands(md)).toEqual(["A=1 npx sfprocessor -config x.json    -driver file t.sf", "npx sfprocessor -version && echo ok"])
  })
})
