/**
 * Plugins loaded from disk by the built CLI (pipeline.md §9): the shipped examples, a plugin driver,
 * and every loading error, which names the file and what is wrong.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { describe, expect, it } from "vitest"
import { fileExportPipeline, lines, projectRoot, runCli, tempDir, writePipeline } from "../support/cli.js"

const sample = path.join(projectRoot, "resources", "traces", "sample.sf")
const infoLines = (stdout: string, component: string) =>
  stdout.split("\n").filter((l) => new RegExp(`^\\[Info\\] \\S+ \\S+ ${component}: `).test(l)).map((l) => l.replace(/^\[Info\] \S+ \S+ [^:]+: /, ""))

/** The sample trace's records as JSON, through the file driver (what the plugins should see). */
const sampleRecords = async () => {
  const dir = tempDir()
  const out = path.join(dir, "all.jsonl")
  const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", sample])
  expect(res.code).toBe(0)
  return lines(out).map((l) => JSON.parse(l) as { type: string; proc: { exe: string; tid: number }; file?: { fd: number }; net?: { dport: number } })
}

describe("shipped example plugins (run as their READMEs say)", () => {
  it("processor 'example' logs every process event of the flat records", async () => {
    const res = await runCli([
      "-plugdir", "plugins/processors/example", "-config", "plugins/processors/example/pipeline.example.json", "-driver", "file", sample
    ])
    expect(res.code).toBe(0)
    const expected = (await sampleRecords()).filter((r) => r.type === "PE").map((r) => `Process Event: ${r.proc.exe}, ${r.proc.tid}`)
    expect(expected.length).toBeGreaterThan(5)
    expect(infoLines(res.stdout, "example")).toEqual(expected)
  })

  it("handler 'printer' logs one line per flow and event, in trace order", async () => {
    const res = await runCli(["-config", "plugins/handlers/printer/pipeline.printer.json", "-driver", "file", sample])
    expect(res.code).toBe(0)
    const expected = (await sampleRecords())
      .filter((r) => r.type !== "KE")
      .map((r) =>
        r.type === "NF" ? `NetworkFlow ${r.proc.exe}, ${r.net!.dport}`
        : r.type === "FF" ? `FileFlow ${r.proc.exe}, ${r.file!.fd}`
        : r.type === "FE" ? `FileEvt ${r.proc.exe}, ${r.proc.tid}`
        : `ProcEvt ${r.proc.exe}, ${r.proc.tid}`
      )
    expect(infoLines(res.stdout, "printer")).toEqual(expected)
  })

  it("action 'now' tags every exec with now_in_nanos:<ns>", async () => {
    const before = BigInt(Date.now()) * 1_000_000n
    const res = await runCli(["-log", "quiet", "-config", "plugins/actions/now/pipeline.actions.json", "-driver", "file", sample])
    expect(res.code).toBe(0)
    const alerts = res.stdout.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { opflags: string[]; tags: string[] })
    expect(alerts.length).toBe((await sampleRecords()).filter((r) => r.type === "PE" && r.proc !== undefined).filter((r) => (r as unknown as { opflags: string[] }).opflags.includes("EXEC")).length)
    for (const a of alerts) {
      expect(a.opflags).toContain("EXEC")
      expect(a.tags).toHaveLength(1)
      const ns = BigInt(/^now_in_nanos:(\d+)$/.exec(a.tags[0])![1])
      expect(ns >= before && ns <= BigInt(Date.now()) * 1_000_000n + 1_000_000_000n).toBe(true)
    }
  })
})

describe("plugin drivers from -driverdir", () => {
  it("a driver module feeds the root channel; its drivers block selects it", async () => {
    const dir = tempDir()
    const driverdir = path.join(dir, "drivers")
    fs.mkdirSync(driverdir)
    const dist = pathToFileURL(path.join(projectRoot, "dist", "index.js")).href
    // A driver that writes a tiny trace with the library's TraceWriter and feeds its datums.
    fs.writeFileSync(
      path.join(driverdir, "synthetic.mjs"),
      `import { TraceWriter, MemorySink, OpFlag } from ${JSON.stringify(dist)}
export const Driver = {
  getName: () => "synthetic",
  init(pipeline, conf) { this.out = pipeline.getRootChannel(); this.log = pipeline.logger; this.count = Number(conf?.count ?? 1) },
  async run(_path, signal) {
    // The writer builds well-formed records; the driver sends them as datums (code = union branch).
    const w = new TraceWriter(new MemorySink())
    const datums = [{ code: 0, rec: w.header({ exporter: "plugin-driver" }) }]
    const p = w.process({ pid: 42n, exe: "/bin/true" })
    datums.push({ code: 2, rec: p })
    for (let i = 0; i < this.count && !signal.aborted; i++) datums.push({ code: 4, rec: w.processEvent({ proc: p, opFlags: OpFlag.EXEC }) })
    for (const d of datums) { const wait = this.out.send(d); if (wait) await wait }
    await this.out.close()
    this.log.info("sent", datums.length, "datums")
  },
  cleanup() {}
}
`
    )
    const out = path.join(dir, "out.jsonl")
    const config = { ...fileExportPipeline(out), drivers: [{ driver: "synthetic", count: 5 }] }
    const res = await runCli(["-driverdir", driverdir, "-config", writePipeline(dir, config), "unused"])
    expect(res.stderr).toBe("")
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/\[Info\] \S+ \S+ synthetic: sent 7 datums/)
    expect(lines(out).map((l) => (JSON.parse(l) as { proc: { exe: string } }).proc.exe)).toEqual(Array(5).fill("/bin/true"))
  })
})

describe("plugin loading errors name the file and what is wrong (exit 1)", () => {
  const withPlugin = async (files: Record<string, string>, processor = "custom") => {
    const dir = tempDir()
    const plugdir = path.join(dir, "plugins")
    fs.mkdirSync(plugdir)
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(plugdir, name), text)
    const config = {
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        { processor, in: "flat flattenerchan" }
      ]
    }
    const res = await runCli(["-plugdir", plugdir, "-config", writePipeline(dir, config), "-driver", "file", sample])
    return { res, plugdir }
  }

  it("no module for an unknown processor", async () => {
    const { res, plugdir } = await withPlugin({})
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`error trying load plugin at: ${plugdir}/custom (looked for custom.mjs, custom.js, custom.cjs)`)
  })

  it("a Go plugin (.so)", async () => {
    const { res, plugdir } = await withPlugin({ "custom.so": "ELF" })
    expect(res.stderr).toContain(`Go plugins are not supported: ${plugdir}/custom.so`)
  })

  it("a module without the Plugin export", async () => {
    const { res, plugdir } = await withPlugin({ "custom.mjs": "export const Something = {}\n" })
    expect(res.stderr).toContain(`${plugdir}/custom.mjs: no export 'Plugin' (or default)`)
  })

  it("a module that does not parse", async () => {
    const { res, plugdir } = await withPlugin({ "custom.mjs": "export const Plugin = {\n" })
    expect(res.stderr).toContain(`cannot load plugin ${plugdir}/custom.mjs: `)
  })

  it("a processor missing methods", async () => {
    const { res, plugdir } = await withPlugin({
      "custom.mjs": `export const Plugin = { register(pc) { pc.addProcessor("custom", () => ({ getName: () => "custom", init() {} })) } }\n`
    })
    expect(res.stderr).toContain(`${plugdir}/custom.mjs: processor 'custom' lacks setOutChan, process, cleanup`)
  })

  it("a name that clashes with a built-in", async () => {
    const { res, plugdir } = await withPlugin({
      "custom.mjs": `export const Plugin = { register(pc) { pc.addProcessor("exporter", () => ({})) } }\n`
    })
    expect(res.stderr).toContain(`${plugdir}/custom.mjs: register failed: ${plugdir}/custom.mjs: processor 'exporter' clashes with a built-in or already loaded processor`)
  })

  it("a processor that throws while processing fails the run with its name", async () => {
    const { res } = await withPlugin({
      "custom.mjs": `export const Plugin = { register(pc) { pc.addProcessor("custom", () => ({
        getName: () => "custom", init() {}, setOutChan() {}, cleanup() {},
        async process(ins) { for await (const r of ins[0]) throw new Error("bad record") } })) } }\n`
    })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain("plugin 'custom': process failed: bad record")
  })
})

describe("plugin loading stays inside the configured directories (security review S3, S4)", () => {
  it("a processor name with a path is refused before anything is imported", async () => {
    const dir = tempDir()
    const outside = path.join(dir, "evil.mjs")
    const marker = path.join(dir, "imported")
    fs.writeFileSync(outside, `import * as fs from "node:fs"; fs.writeFileSync(${JSON.stringify(marker)}, "x"); export const Plugin = { register() {} }\n`)
    fs.mkdirSync(path.join(dir, "plugins"))
    const config = { pipeline: [{ processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" }, { processor: "../evil", in: "flat flattenerchan" }] }
    const res = await runCli(["-plugdir", path.join(dir, "plugins"), "-config", writePipeline(dir, config), "-driver", "file", sample])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain("'../evil' is not a valid plugin name")
    expect(fs.existsSync(marker)).toBe(false)
  })

  it("driver modules are imported only when a driver that is not built in is selected", async () => {
    const dir = tempDir()
    const driverdir = path.join(dir, "drivers")
    fs.mkdirSync(driverdir)
    const marker = path.join(dir, "imported")
    fs.writeFileSync(path.join(driverdir, "x.mjs"), `import * as fs from "node:fs"; fs.writeFileSync(${JSON.stringify(marker)}, "x"); export const Driver = { getName: () => "x", init() {}, async run() {}, cleanup() {} }\n`)
    const out = path.join(dir, "o.jsonl")
    const res = await runCli(["-driverdir", driverdir, "-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "file", sample])
    expect(res.code).toBe(0)
    expect(fs.existsSync(marker)).toBe(false)
    await runCli(["-test", "-driverdir", driverdir, "-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "x"])
    expect(fs.existsSync(marker)).toBe(true)
  })
})
