/**
 * Finding and loading policy files (policy-language.md §2): a file or a directory walked recursively in
 * Go `filepath.Walk` order, `.yaml` and `.yml` only, one compiler over all files in order.
 */
import { Effect, Either } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { listPolicyFiles } from "../../src/services/policy/PolicyLoader.js"
import { loadPolicies } from "../../src/services/policy/PolicySet.js"
import { matchNames, pe } from "./fixtures.js"

let dir = ""

const write = async (rel: string, text: string) => {
  const p = path.join(dir, rel)
  await fs.mkdir(path.dirname(p), { recursive: true })
  await fs.writeFile(p, text)
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "sfpolicies-"))
  await write("tree/b.yaml", "- rule: from b\n  desc: d\n  condition: base\n")
  await write("tree/a.yml", "- macro: base\n  condition: sf.type = PE\n")
  await write("tree/Z.yaml", "- list: l\n  items: [python]\n")
  await write("tree/sub/c.yaml", "- rule: from c\n  desc: d\n  condition: base and sf.proc.name in (l)\n")
  await write("tree/notes.txt", "not a policy")
  await write("tree/x.YAML", "- not: loaded\n")
  await fs.mkdir(path.join(dir, "empty"))
  await write("single.yaml", "- rule: single\n  desc: d\n  condition: sf.type = PE\n")
  await write("single.json", "[]")
  await write("broken/a.yaml", "- rule: r\n  desc: d\n  condition: x =\n")
})

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.either(e))

describe("listPolicyFiles", () => {
  it("walks a directory recursively, sorted by name bytes, depth-first, .yaml and .yml only", async () => {
    const files = await run(listPolicyFiles(path.join(dir, "tree")))
    expect(Either.getOrThrow(files).map((f) => path.relative(dir, f))).toEqual([
      "tree/Z.yaml",
      "tree/a.yml",
      "tree/b.yaml",
      path.join("tree", "sub", "c.yaml")
    ])
  })

  it("accepts a single file with a policy extension", async () => {
    expect(Either.getOrThrow(await run(listPolicyFiles(path.join(dir, "single.yaml"))))).toEqual([path.join(dir, "single.yaml")])
  })

  it("fails when no policy file is found", async () => {
    for (const p of [path.join(dir, "empty"), path.join(dir, "single.json")]) {
      const r = await run(listPolicyFiles(p))
      expect(Either.isLeft(r) && r.left.message).toBe(`error: no policy files with extension .yaml or .yml found in path: ${p}`)
      expect(Either.isLeft(r) && r.left.reason).toBe("Read")
    }
  })

  it("fails for a path that does not exist", async () => {
    const p = path.join(dir, "nope")
    const r = await run(listPolicyFiles(p))
    expect(Either.isLeft(r) && r.left.message).toBe(`${p}: error: cannot read policy path: no such file or directory`)
  })
})

describe("loadPolicies", () => {
  it("compiles every file in walk order with one compiler (definitions persist across files)", async () => {
    const set = Either.getOrThrow(await run(loadPolicies(path.join(dir, "tree"))))
    expect(set.files.map((f) => path.basename(f))).toEqual(["Z.yaml", "a.yml", "b.yaml", "c.yaml"])
    expect(matchNames(set, pe())).toEqual(["from b", "from c"])
  })

  it("fails with every error diagnostic of the set", async () => {
    const r = await run(loadPolicies(path.join(dir, "broken")))
    expect(Either.isLeft(r) && r.left.message).toBe(
      `${path.join(dir, "broken", "a.yaml")}:3:17: error: expected a value after '=', found end of condition`
    )
  })
})
