/**
 * Config and environment errors as an operator meets them (issue 10, §6): every bad value names the
 * config file, the entry, the key, the environment variable it came from and what is expected; an
 * override that cannot take effect is a warning; nothing is silently ignored.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { fileExportPipeline, projectRoot, runCli, tempDir, writePipeline } from "../support/cli.js"

const sample = path.join(projectRoot, "resources", "traces", "sample.sf")

/** The error line of a failed load. */
const loadError = (stderr: string) => /Unable to load pipeline error: {2}(.*)$/m.exec(stderr)?.[1]

/** `-test` of reader → exporter(file) with extra exporter keys, in a fresh directory; returns the run and the config path. */
const check = async (extra: Record<string, unknown>, env: Record<string, string> = {}, pipeline: unknown = fileExportPipeline("out.json", extra)) => {
  const dir = tempDir("sfp-config-")
  const config = writePipeline(dir, pipeline)
  const res = await runCli(["-test", "-config", config, "-driver", "file"], { cwd: dir, env })
  return { ...res, config, dir }
}

describe("a bad value names the file, the entry, the key, the variable and what is expected", () => {
  it("EXPORTER_BUFFER=-5, abc, 1e20: exit 1 with one line, no Schema tree", async () => {
    for (const value of ["-5", "abc", "1e20"]) {
      const res = await check({}, { EXPORTER_BUFFER: value })
      expect(res.code).toBe(1)
      expect(loadError(res.stderr)).toMatch(
        new RegExp(`^${res.config}: pipeline\\[1\\] \\(exporter\\): buffer = "${value}" \\(from EXPORTER_BUFFER\\): must be a whole number`)
      )
      expect(res.stderr).not.toContain("└─")
    }
  })

  it("a value from the file: the same, without a variable; null and {} where text is expected", async () => {
    const [negative, nullPath, objectBuffer] = await Promise.all([check({ buffer: -5 }), check({ "file.path": null }), check({ buffer: {} })])
    expect(loadError(negative.stderr)).toMatch(new RegExp(`^${negative.config}: pipeline\\[1\\] \\(exporter\\): buffer = "-5": must be a whole number`))
    expect(loadError(nullPath.stderr)).toBe(`${nullPath.config}: pipeline[1] (exporter): file.path = null: must be a non-empty string`)
    expect(loadError(objectBuffer.stderr)).toMatch(new RegExp(`^${objectBuffer.config}: pipeline\\[1\\] \\(exporter\\): buffer = \\{\\}: must be a whole number`))
    for (const res of [negative, nullPath, objectBuffer]) expect(res.code).toBe(1)
  })

  it("the reader: an unparseable filter.enabled, a negative filter.maxage or cache.exitttl is a load error", async () => {
    const reader = (extra: Record<string, unknown>) => {
      const p = fileExportPipeline("out.json")
      return { pipeline: [{ ...p.pipeline[0], ...extra }, p.pipeline[1]] }
    }
    const [maybe, negative, ttl] = await Promise.all([
      check({}, { SYSFLOWREADER_FILTER_ENABLED: "maybe" }),
      check({}, {}, reader({ "filter.enabled": "on", "filter.maxage": -60 })),
      check({}, { SYSFLOWREADER_CACHE_EXITTTL: "5m" })
    ])
    expect(maybe.code).toBe(1)
    expect(loadError(maybe.stderr)).toBe(
      `${maybe.config}: pipeline[0] (sysflowreader): filter.enabled = "maybe" (from SYSFLOWREADER_FILTER_ENABLED): must be on or off`
    )
    expect(negative.code).toBe(1)
    expect(loadError(negative.stderr)).toBe(`${negative.config}: pipeline[0] (sysflowreader): filter.maxage = "-60": must be a whole number, 0 or more`)
    expect(ttl.code).toBe(1)
    expect(loadError(ttl.stderr)).toBe(
      `${ttl.config}: pipeline[0] (sysflowreader): cache.exitttl = "5m" (from SYSFLOWREADER_CACHE_EXITTTL): must be a whole number, 0 or more`
    )
  })

  it("the policy engine and the socket driver's config block decode the same way", async () => {
    const dir = tempDir("sfp-config-")
    const engine = {
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", policies: path.join(projectRoot, "policies", "runtimeintegrity") },
        { processor: "exporter", in: "evt eventchan", export: "null" }
      ]
    }
    const [concurrency, interval] = await Promise.all([
      check({}, { POLICYENGINE_CONCURRENCY: "0" }, engine),
      check({}, { POLICYENGINE_MONITOR_INTERVAL: "soon" }, engine)
    ])
    expect(loadError(concurrency.stderr)).toBe(
      `${concurrency.config}: pipeline[1] (policyengine): concurrency = "0" (from POLICYENGINE_CONCURRENCY): must be a whole number, 1 or more`
    )
    expect(loadError(interval.stderr)).toBe(
      `${interval.config}: pipeline[1] (policyengine): monitor.interval = "soon" (from POLICYENGINE_MONITOR_INTERVAL): must be a number of seconds (0 or more)`
    )
    const socketConfig = writePipeline(dir, {
      ...fileExportPipeline("out.json"),
      drivers: [{ driver: "socket", out: "sysflow sysflowchan", "queue.size": "lots" }]
    })
    const socket = await runCli(["-config", socketConfig, path.join(dir, "s.sock")], { cwd: dir })
    expect(socket.code).toBe(1)
    expect(socket.stderr).toContain(`${socketConfig}: drivers[0] (socket): queue.size = "lots": must be a whole number, 1 or more`)
  })
})

describe("driver config blocks", () => {
  it("the file driver's path: a value that is not text names the drivers entry", async () => {
    const dir = tempDir("sfp-config-")
    const config = writePipeline(dir, { ...fileExportPipeline("out.json"), drivers: [{ driver: "file", out: "sysflow sysflowchan", path: { dir: "/x" } }] })
    const res = await runCli(["-config", config, sample], { cwd: dir })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`${config}: drivers[0] (file): path = {"dir":"/x"}: must be a string`)
  })
})

describe("overrides that cannot take effect", () => {
  it("EXPORTER_NOSUCHKEY=1 and EXPORTER_VERSION warn (naming the variable) and the run goes on; unrelated variables are quiet", async () => {
    const res = await check({}, { EXPORTER_NOSUCHKEY: "1", EXPORTER_VERSION: "9", HOME_DIR: "/root", NODE_EXTRA: "x" })
    expect(res.code).toBe(0)
    const warnings = res.stdout.split("\n").filter((l) => l.startsWith("[Warn]"))
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(
      new RegExp(`: ${res.config}: pipeline\\[1\\] \\(exporter\\): EXPORTER_NOSUCHKEY sets nosuchkey, which exporter does not read: ignored \\(its keys: buffer, `)
    )
    expect(warnings[1]).toContain(`${res.config}: pipeline[1] (exporter): EXPORTER_VERSION has no effect: version is set by sfprocessor (to "0.7.0")`)
  })
})

describe("export (P19 no longer applies to it)", () => {
  it("EXPORTER_EXPORT=nonsense is a load error listing the valid transports: nothing reaches stdout, the output file is untouched", async () => {
    const dir = tempDir("sfp-config-")
    const out = path.join(dir, "out.json")
    fs.writeFileSync(out, "previous run\n")
    const config = writePipeline(dir, fileExportPipeline(out))
    const res = await runCli(["-config", config, "-driver", "file", sample], { cwd: dir, env: { EXPORTER_EXPORT: "nonsense" } })
    expect(res.code).toBe(1)
    expect(loadError(res.stderr)).toBe(
      `${config}: pipeline[1] (exporter): export = "nonsense" (from EXPORTER_EXPORT): must be one of terminal, file, syslog, es, kafka, null, findings, nats`
    )
    expect(res.stdout).not.toMatch(/^\{/m)
    expect(fs.readFileSync(out, "utf8")).toBe("previous run\n")
  })

  it("an unknown format still falls back to json with a warning (P19)", async () => {
    const res = await check({ format: "xml" })
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/\[Warn\] .*unknown format 'xml', using json/)
  })
})
