/**
 * docs/deployment.md and docs/security.md point at files and tests: every path they name exists, and every
 * test name they quote (in "double quotes", after the test file's path; `...` stands for any text) is a
 * test in that file, so the security claims keep pointing at the tests that prove them.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { projectRoot } from "../support/cli.js"

const doc = (name: string) => fs.readFileSync(path.join(projectRoot, "docs", name), "utf8")
const squash = (s: string) => s.replace(/\s+/g, " ").trim()

/** Repository paths written in backticks, without a `:line` or `#anchor` suffix. */
const pathsIn = (text: string): string[] =>
  [...text.matchAll(/`((?:src|test|deploy|docs|policies|resources|plugins|bin)\/[^`\s:#]*)[^`]*`/g)]
    .map((m) => m[1].replace(/[.,)]+$/, ""))
    .filter((p) => !p.includes("*") && !p.includes("<"))

/** [test file, quoted name] pairs: the names quoted after a test file's path, up to the next path. */
const quotedTests = (text: string): Array<[string, string]> => {
  const out: Array<[string, string]> = []
  const noCode = text.replace(/`([^`]*)`/g, (m, inner: string) => (/^test\/\S+\.test\.ts$/.test(inner) ? m : "``"))
  const parts = noCode.split(/`(test\/\S+?\.test\.ts)`/)
  for (let i = 1; i < parts.length; i += 2) {
    for (const q of parts[i + 1].matchAll(/"([^"]+)"/g)) out.push([parts[i], squash(q[1])])
  }
  return out
}

describe.each(["deployment.md", "security.md"])("docs/%s", (name) => {
  const text = doc(name)

  it("names only paths that exist", () => {
    const paths = pathsIn(text)
    expect(paths.length).toBeGreaterThan(0)
    expect(paths.filter((p) => !fs.existsSync(path.join(projectRoot, p)))).toEqual([])
  })

  it("quotes only tests that exist, in the file it names", () => {
    const missing = quotedTests(text).filter(([file, title]) => {
      const source = squash(fs.readFileSync(path.join(projectRoot, file), "utf8").replace(/\\"/g, '"'))
      const re = new RegExp(title.split("...").map((s) => s.trim().replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*?"))
      return !re.test(source)
    })
    expect(missing).toEqual([])
  })
})

describe("docs/security.md", () => {
  it("proves its claims with tests and lists the findings S1-S11, each naming a source file", () => {
    const text = doc("security.md")
    expect(quotedTests(text).length).toBeGreaterThanOrEqual(30)
    for (let i = 1; i <= 11; i++) expect(text).toMatch(new RegExp(`\\| S${i} \\| [^|]+ \\| [^|]*\`src/`))
  })
})
