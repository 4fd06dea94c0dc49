/** A pipeline whose drivers block names only the nats driver runs without -driver and without a path. */
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import { parseCli } from "../../src/cli/Flags.js"
import { usageOutput } from "../../src/cli/Usage.js"
import { tempDir, writePipeline } from "../support/cli.js"
import { natsDriverBlock } from "./support.js"

const parse = (...argv: Array<string>) => Effect.runSync(parseCli(argv))
const sink = [{ processor: "exporter", in: "flat flattenerchan", export: "null" }]

describe("no input path with a nats drivers block", () => {
  it("runs without a path when every driver of the block reads none", () => {
    const dir = tempDir()
    const out = parse("-config", writePipeline(dir, { drivers: [natsDriverBlock("nats://127.0.0.1:4222", "c")], pipeline: sink }))
    expect(out._tag).toBe("Run")
    if (out._tag === "Run") expect(out.args.path).toEqual(Option.none())
  })

  it("still prints the usage without a path for a file driver, a -driver flag, or an unreadable config", () => {
    const dir = tempDir()
    const file = writePipeline(dir, { drivers: [{ driver: "file", path: "x" }], pipeline: sink }, "file.json")
    const nats = writePipeline(dir, { drivers: [natsDriverBlock("nats://127.0.0.1:4222", "c")], pipeline: sink }, "nats.json")
    for (const argv of [["-config", file], ["-config", nats, "-driver", "nats"], ["-config", `${dir}/missing.json`]]) {
      const out = parse(...argv)
      expect(out).toEqual({ _tag: "Exit", code: 1, output: usageOutput() })
    }
  })
})
