import { Effect, Option } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type CliArgs, type CliOutcome, parseCli } from "../../src/cli/Flags.js"
import { usageOutput } from "../../src/cli/Usage.js"

const parse = (...argv: Array<string>): CliOutcome => Effect.runSync(parseCli(argv))

const run = (...argv: Array<string>): { args: CliArgs; trailingFlags: ReadonlyArray<string> } => {
  const outcome = parse(...argv)
  if (outcome._tag !== "Run") throw new Error(`expected Run, got ${JSON.stringify(outcome)}`)
  return outcome
}

const exitOf = (...argv: Array<string>) => {
  const outcome = parse(...argv)
  if (outcome._tag !== "Exit") throw new Error(`expected Exit, got ${JSON.stringify(outcome)}`)
  return outcome
}

describe("parseCli: values", () => {
  it("applies the spec's defaults", () => {
    const { args, trailingFlags } = run("trace.sf")
    expect(args).toEqual({
      driver: "",
      config: "pipeline.json",
      log: "info",
      perflog: false,
      driverdir: "../resources/drivers",
      plugdir: "../resources/plugins",
      test: false,
      list: false,
      version: false,
      cpuprofile: "",
      memprofile: "",
      traceprofile: "",
      path: Option.some("trace.sf")
    })
    expect(trailingFlags).toEqual([])
  })

  it.each([
    [["-config", "a.json"]],
    [["-config=a.json"]],
    [["--config", "a.json"]],
    [["--config=a.json"]]
  ])("accepts the Go forms %j", (form) => {
    expect(run(...form, "p").args.config).toBe("a.json")
  })

  it("sets every string flag", () => {
    const { args } = run(
      "-driver", "socket", "-config", "c.json", "-log", "warn", "-driverdir", "dd", "-plugdir", "pd",
      "-cpuprofile", "cpu.out", "-memprofile", "mem.out", "-traceprofile", "trace.out", "/tmp/sock"
    )
    expect(args).toMatchObject({
      driver: "socket", config: "c.json", log: "warn", driverdir: "dd", plugdir: "pd",
      cpuprofile: "cpu.out", memprofile: "mem.out", traceprofile: "trace.out", path: Option.some("/tmp/sock")
    })
  })

  it("keeps the last of repeated flags", () => {
    expect(run("-config", "a", "--config=b", "p").args.config).toBe("b")
  })

  it("takes the next argument as the value whatever it looks like", () => {
    const { args } = run("-config", "-log", "--driver", "--version", "p")
    expect(args.config).toBe("-log")
    expect(args.driver).toBe("--version")
    expect(args.version).toBe(false)
    expect(run("-driver", "--config", "-config", "real", "-log", "--sf-version", "p").args).toMatchObject({
      driver: "--config",
      config: "real",
      log: "info",
      version: false
    })
  })

  it("takes `--` as a value after a string flag", () => {
    expect(run("-config", "--", "p").args).toMatchObject({ config: "--", path: Option.some("p") })
    expect(run("-config", "--", "--", "-p").args).toMatchObject({ config: "--", path: Option.some("-p") })
    expect(run("-test", "-config", "--").args).toMatchObject({ config: "--", path: Option.none() })
  })

  it("passes any value and path through @effect/cli unchanged", () => {
    const token = fc.oneof(
      fc.string(),
      fc.constantFrom("--", "-", "-h", "--help", "--version", "--wizard", "--log-level=debug", "-abc", "=", " ", "--sf-version")
    )
    fc.assert(
      fc.property(token, token, token, fc.boolean(), (v, w, p, inline) => {
        const config = inline ? [`-config=${v}`] : ["-config", v]
        expect(run(...config, "--driver", w, "--", p).args).toMatchObject({ config: v, driver: w, path: Option.some(p) })
      })
    )
  })

  it("keeps empty and blank values as given", () => {
    expect(run("-config=", "p").args.config).toBe("")
    expect(run("-config", " a b ", " p ").args).toMatchObject({ config: " a b ", path: Option.some(" p ") })
  })

  it("reads -log case-insensitively, unknown values as info", () => {
    expect(run("-log", "TRACE", "p").args.log).toBe("trace")
    expect(run("-log=Quiet", "p").args.log).toBe("quiet")
    expect(run("-log", "health", "p").args.log).toBe("health")
    expect(run("-log", "verbose", "p").args.log).toBe("info")
  })
})

describe("parseCli: bool flags", () => {
  it.each([["-test"], ["--test"], ["-test=true"], ["-test=1"], ["--test=T"], ["-test=TRUE"]])("%s sets -test", (form) => {
    expect(run(form).args.test).toBe(true)
  })

  it("-test=false clears it, and the last form wins", () => {
    expect(run("-test=false", "p").args.test).toBe(false)
    expect(run("-test", "-test=0", "p").args.test).toBe(false)
    expect(run("-perflog=f", "-perflog", "p").args.perflog).toBe(true)
  })

  it("-test true makes `true` the path", () => {
    const { args } = run("-test", "true")
    expect(args.test).toBe(true)
    expect(args.path).toEqual(Option.some("true"))
  })

  it("sets -perflog", () => {
    expect(run("-perflog", "p").args.perflog).toBe(true)
  })

  it("rejects a bad bool value with Go's message, exit 2", () => {
    const out = exitOf("-test=yes")
    expect(out.code).toBe(2)
    expect(out.output).toEqual([
      { stream: "stderr", text: 'invalid boolean value "yes" for -test: parse error\n' },
      ...usageOutput()
    ])
  })
})

describe("parseCli: positional path (P15)", () => {
  it("stops at the first non-flag and reports the flags that followed", () => {
    const { args, trailingFlags } = run("trace.sf", "-config", "a.json", "extra", "--log=warn", "-", "--")
    expect(args.config).toBe("pipeline.json")
    expect(args.log).toBe("info")
    expect(args.path).toEqual(Option.some("trace.sf"))
    expect(trailingFlags).toEqual(["-config", "--log=warn"])
  })

  it("takes `-` as the path", () => {
    expect(run("-", "-x").args.path).toEqual(Option.some("-"))
  })

  it("ends flags at `--`", () => {
    expect(run("-log", "warn", "--", "-weird").args).toMatchObject({ log: "warn", path: Option.some("-weird") })
    expect(run("--", "--help").args.path).toEqual(Option.some("--help"))
  })

  it("needs no path with -test", () => {
    expect(run("-test", "-config", "c.json").args).toMatchObject({ test: true, config: "c.json", path: Option.none() })
  })

  it("prints the usage and exits 1 without a path", () => {
    for (const argv of [[], ["-config", "c.json"], ["-version=false"]]) {
      const out = exitOf(...argv)
      expect(out.code).toBe(1)
      expect(out.output).toEqual(usageOutput())
    }
  })
})

describe("parseCli: help, errors, version", () => {
  it.each([["-h"], ["-help"], ["--help"], ["--h"], ["-help=x"]])("%s prints the usage, exit 0", (flag) => {
    const out = exitOf("-config", "c.json", flag, "p")
    expect(out.code).toBe(0)
    expect(out.output).toEqual(usageOutput())
  })

  it.each([
    [["-x"], "flag provided but not defined: -x"],
    [["--nope=1", "p"], "flag provided but not defined: -nope"],
    [["-Config", "c", "p"], "flag provided but not defined: -Config"],
    [["--wizard"], "flag provided but not defined: -wizard"],
    [["--completions", "bash"], "flag provided but not defined: -completions"],
    [["--log-level=debug", "p"], "flag provided but not defined: -log-level"],
    [["---x"], "bad flag syntax: ---x"],
    [["-=x"], "bad flag syntax: -=x"],
    [["-config"], "flag needs an argument: -config"]
  ])("%j exits 2 with `%s` and the usage", (argv, message) => {
    const out = exitOf(...argv)
    expect(out.code).toBe(2)
    expect(out.output).toEqual([{ stream: "stderr", text: `${message}\n` }, ...usageOutput()])
  })

  it("-version prints the version line, exit 0, path or not", () => {
    const line = "Version: 0.7.0+1, Avro Schema Version: 4, Export Schema Version: 5 (JSON), 8.2 (ECS)\n"
    for (const argv of [["-version"], ["--version"], ["-version=true", "-log", "quiet", "p"], ["-test", "-version"]]) {
      expect(exitOf(...argv)).toEqual({ _tag: "Exit", code: 0, output: [{ stream: "stdout", text: line }] })
    }
  })

  it("still validates flags given with -version", () => {
    expect(exitOf("-version", "-bogus").code).toBe(2)
  })
})
