/**
 * Packaging and deployment: `npm pack` of the project, installed from the tarball into a fresh prefix
 * (production dependencies only, from the npm cache when it has them), run as a user would run it; and
 * the deployment files (Dockerfile, .dockerignore, deploy/) checked against that packed layout.
 *
 * No Docker engine is needed: deploy/install.sh (what the image runs) lays the reference's directories out
 * under a temporary DESTDIR, and the image's entry point, environment and default pipeline are run there.
 * Needs the built CLI (`npm run build`; `npm test` builds it first). Takes about 20 s (npm install ~6 s
 * with a warm cache).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Chunk, Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import YAML from "yaml"
import { VERSION_LINE } from "../../src/domain/manifest.js"
import { readTraceFile } from "../../src/services/drivers/TraceFiles.js"
import { encodeDatum } from "../../src/services/trace/TraceWriter.js"
import { projectRoot } from "../support/cli.js"
import { collect, waitForSocket } from "../support/seqpacketClient.js"
import { cleanEnv, dockerContextKeeps, dockerInstructions, envFile, envPairs, ok, run, start, unitSettings } from "./support.js"

const repo = (...p: string[]) => path.join(projectRoot, ...p)
const read = (...p: string[]) => fs.readFileSync(repo(...p), "utf8")
const linux = process.platform === "linux"

/** Where the Dockerfile puts the package, and the reference's root of everything else. */
const PKG_IN_IMAGE = "/usr/local/sysflow/lib/sfprocessor"
const SYSFLOW = "/usr/local/sysflow"

let tmp = ""
let tarball = ""
let packed: string[] = []
let prefix = ""
let pkgDir = ""
/** DESTDIR of deploy/install.sh: the image's (and a host's) file system root. */
let destdir = ""

const installedBin = () => path.join(prefix, "node_modules", ".bin", "sfprocessor")
/** A path of the image or host layout, inside the temporary DESTDIR. */
const reroot = (p: string) => (p.startsWith("/") ? path.join(destdir, p) : p)
/** The default pipeline with its absolute paths moved into DESTDIR, written to the temp dir. */
const reroutedPipeline = (): string => {
  const text = fs.readFileSync(reroot(`${SYSFLOW}/conf/pipeline.json`), "utf8")
  const file = path.join(tmp, "pipeline.image.json")
  fs.writeFileSync(file, text.replaceAll(`"${SYSFLOW}/`, `"${destdir}${SYSFLOW}/`))
  return file
}
const jsonLines = (text: string) => text.split("\n").filter((l) => l.startsWith("{"))

/** The alerts of the repository's own example (runtime-integrity rules, sample trace), computed once. */
let repoAlertsRun: Promise<string[]> | undefined
const repoAlerts = (): Promise<string[]> =>
  (repoAlertsRun ??= run(
    process.execPath,
    [repo("bin", "sfprocessor.js"), "-log=error", "-config", "resources/pipelines/pipeline.alerts.json", "-driver", "file", "resources/traces/sample.sf"],
    { cwd: projectRoot }
  ).then((r) => jsonLines(ok("the repository's example", r).stdout)))

beforeAll(async () => {
  if (!fs.existsSync(repo("dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first")
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-pack-"))
  // --ignore-scripts: pack the build that is there (`prepare` would rebuild it).
  const pack = ok("npm pack", await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp], { cwd: projectRoot, timeoutMs: 60_000 }))
  const info = (JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]
  tarball = path.join(tmp, info.filename)
  packed = info.files.map((f) => f.path).sort()
  prefix = path.join(tmp, "prefix")
  fs.mkdirSync(prefix)
  fs.writeFileSync(path.join(prefix, "package.json"), JSON.stringify({ name: "sfp-install-test", private: true }))
  // Production dependencies only, no install scripts: what the Dockerfile does.
  ok(
    "npm install",
    await run(
      "npm",
      ["install", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--omit=dev", "--ignore-scripts", "--loglevel=error", tarball],
      { cwd: prefix, timeoutMs: 170_000 }
    )
  )
  pkgDir = path.join(prefix, "node_modules", "sfprocessor")
  destdir = path.join(tmp, "root")
  ok("deploy/install.sh", await run("sh", [path.join(pkgDir, "deploy", "install.sh")], { env: cleanEnv({ DESTDIR: destdir }) }))
}, 180_000)

afterAll(() => {
  if (tmp !== "") fs.rmSync(tmp, { recursive: true, force: true })
})

describe("npm pack", () => {
  it("holds what a user needs: bin, dist (JS and types), policies, resources, plugin examples, deploy/, docs, README", () => {
    const tracked = (dir: string): string[] =>
      fs.readdirSync(repo(dir), { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => path.relative(projectRoot, path.join(d.parentPath, d.name)).split(path.sep).join("/"))
    const expected = [
      "package.json",
      "README.md",
      "bin/sfprocessor.js",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/main.js",
      "dist/bundle/sfprocessor.cjs",
      "dist/bundle/sfprocessor.cjs.cache",
      ...tracked("policies"),
      ...tracked("resources"),
      ...tracked("plugins"),
      ...tracked("deploy"),
      ...tracked("docs").filter((f) => f.endsWith(".md"))
    ]
    if (fs.existsSync(repo("LICENSE"))) expected.push("LICENSE")
    expect(expected).toContain("resources/traces/sample.sf")
    expect(expected).toContain("docs/deployment.md")
    expect(expected).toContain("docs/security.md")
    expect(packed).toEqual(expect.arrayContaining(expected))
    // Every module of src/ is built and shipped with its types.
    const sources = tracked("src").filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    const missing = sources.flatMap((f) => {
      const base = `dist/${f.slice("src/".length, -".ts".length)}`
      return [`${base}.js`, `${base}.d.ts`].filter((p) => !packed.includes(p))
    })
    expect(missing, "modules of src/ missing from the package: run `npm run build`").toEqual([])
  })

  it("holds nothing else: no tests, benchmarks, sources, source maps, build or run leftovers", () => {
    const unwanted = packed.filter(
      (f) =>
        /^(test|bench|scripts|src|node_modules|\.ci|\.git)\//.test(f) ||
        f.endsWith(".map") ||
        f.endsWith(".tgz") ||
        (f.endsWith(".ts") && !f.endsWith(".d.ts")) ||
        ["export.out", "Dockerfile", ".dockerignore", "tsconfig.json", "package-lock.json"].includes(f)
    )
    expect(unwanted).toEqual([])
    // A module whose source was deleted would still be published from an old build (dist/bundle/ is the
    // bundled CLI, rebuilt from scratch by every build).
    const stale = packed.filter(
      (f) =>
        f.startsWith("dist/") && !f.startsWith("dist/bundle/") && f.endsWith(".js") &&
        !fs.existsSync(repo("src", `${f.slice("dist/".length, -".js".length)}.ts`))
    )
    expect(stale, "stale build output in dist/ (its source is gone): `rm -rf dist && npm run build`").toEqual([])
    // About 1.1 MiB of it is the CLI's code cache (dist/bundle/sfprocessor.cjs.cache, scripts/bundle.js).
    expect(fs.statSync(tarball).size).toBeLessThan(3 * 1024 * 1024)
  })
})

describe("the installed package", () => {
  it("sfprocessor -version prints the exact version line", async () => {
    const r = await run(installedBin(), ["-version"], { cwd: tmp })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(`${VERSION_LINE}\n`)
  })

  it("runs the packaged sample trace through the packaged policies: the same alerts as the repository", async () => {
    const pipeline = {
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        {
          processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode: "alert",
          policies: path.join(pkgDir, "policies", "runtimeintegrity")
        },
        { processor: "exporter", in: "evt eventchan", export: "terminal", format: "json" }
      ]
    }
    const config = path.join(tmp, "alerts.json")
    fs.writeFileSync(config, JSON.stringify(pipeline))
    const sample = path.join(pkgDir, "resources", "traces", "sample.sf")
    const installed = await run(installedBin(), ["-log=error", "-config", config, "-driver", "file", sample], { cwd: tmp })
    expect(installed.stderr).toBe("")
    expect(installed.code).toBe(0)
    const alerts = jsonLines(installed.stdout)
    expect(alerts.length).toBeGreaterThan(0)
    for (const a of alerts) expect((JSON.parse(a) as { policies: unknown[] }).policies.length).toBeGreaterThan(0)

    expect(alerts).toEqual(await repoAlerts())

    // The packaged example pipeline, run from the package directory as its comment says.
    const packaged = await run(installedBin(), ["-log=error", "-config", "resources/pipelines/pipeline.alerts.json", "-driver", "file", "resources/traces/sample.sf"], { cwd: pkgDir })
    expect(packaged.code).toBe(0)
    expect(jsonLines(packaged.stdout)).toEqual(alerts)
  })
})

describe("Dockerfile and .dockerignore", () => {
  const dockerfile = read("Dockerfile")
  const ins = dockerInstructions(dockerfile)
  const runtime = (op: string) => ins.filter((i) => i.stage === 1 && i.op === op)
  const imageEnv = Object.fromEntries(runtime("ENV").flatMap((i) => envPairs(i.args)))

  it("two stages from node:20-slim: build (npm ci, build, pack) and runtime (the packed package, production dependencies)", () => {
    expect(ins.filter((i) => i.op === "FROM").map((i) => i.args)).toEqual(["${NODE_IMAGE} AS build", "${NODE_IMAGE} AS runtime"])
    expect(ins.find((i) => i.op === "ARG")?.args).toBe("NODE_IMAGE=node:20-slim")
    const buildRuns = ins.filter((i) => i.stage === 0 && i.op === "RUN").map((i) => i.args).join("\n")
    expect(buildRuns).toMatch(/npm ci --ignore-scripts/)
    expect(buildRuns).toMatch(/npm run build/)
    expect(buildRuns).toMatch(/npm pack --ignore-scripts --pack-destination \/tmp/)
    expect(buildRuns).toMatch(/tar -xzf \/tmp\/sfprocessor-\*\.tgz -C \/opt\/sfprocessor --strip-components=1/)
    expect(buildRuns).toMatch(/npm ci --omit=dev --ignore-scripts/)
    // The native socket reader: compiled in the build stage (the build fails without it), not in the runtime.
    expect(buildRuns).toMatch(/apt-get install -y --no-install-recommends python3 make g\+\+/)
    expect(buildRuns).toMatch(/npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm run install && test -f build\/Release\/sf_seqpacket\.node/)
    expect(runtime("RUN").map((i) => i.args).join("\n")).not.toMatch(/apt-get|g\+\+/)
    expect(runtime("COPY").map((i) => i.args)).toEqual([`--from=build /opt/sfprocessor ${PKG_IN_IMAGE}`])
  })

  it("the unpacked package builds its native socket reader as the image's build stage does (npm run install)", async () => {
    const opt = path.join(tmp, "native-opt")
    fs.mkdirSync(opt)
    ok("tar", await run("tar", ["-xzf", tarball, "-C", opt, "--strip-components=1"]))
    const built = ok("npm run install", await run("npm", ["run", "install"], { cwd: opt, timeoutMs: 300_000 }))
    expect(built.stdout).toMatch(/built the native socket reader/)
    expect(fs.existsSync(path.join(opt, "build", "Release", "sf_seqpacket.node"))).toBe(true)
  })

  it("package-lock.json installs with npm ci, as both stages run it (the sources, and the unpacked package without dev dependencies)", async () => {
    // Stage 1: `npm ci --ignore-scripts` with the repository's package.json and lock (CI's first step too).
    const src = path.join(tmp, "ci-src")
    fs.mkdirSync(src)
    for (const f of ["package.json", "package-lock.json"]) fs.copyFileSync(repo(f), path.join(src, f))
    const flags = ["--dry-run", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"]
    const sources = await run("npm", ["ci", ...flags], { cwd: src, timeoutMs: 120_000 })
    expect(sources.stderr, "npm ci refuses package-lock.json").not.toMatch(/npm error/)
    expect(sources.code).toBe(0)
    // Stage 2: the packed package.json with the same lock, production dependencies only.
    const opt = path.join(tmp, "ci-opt")
    fs.mkdirSync(opt)
    ok("tar", await run("tar", ["-xzf", tarball, "-C", opt, "--strip-components=1"]))
    fs.copyFileSync(repo("package-lock.json"), path.join(opt, "package-lock.json"))
    const production = await run("npm", ["ci", "--omit=dev", ...flags], { cwd: opt, timeoutMs: 120_000 })
    expect(production.stderr, "npm ci --omit=dev refuses package-lock.json").not.toMatch(/npm error/)
    expect(production.code).toBe(0)
  })

  it("every COPY source exists, and the build context lets in the build inputs and every published file, nothing else", () => {
    const ignore = read(".dockerignore")
    for (const c of ins.filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))) {
      const words = c.args.split(/\s+/)
      for (const src of words.slice(0, -1)) {
        expect(fs.existsSync(repo(src)), `COPY source ${src}`).toBe(true)
        if (src !== ".") expect(dockerContextKeeps(ignore, src), `${src} in the build context`).toBe(true)
      }
    }
    // Published files, except dist/: the build stage compiles it.
    const files = (JSON.parse(read("package.json")) as { files: string[] }).files.filter((f) => !f.startsWith("!") && f !== "dist")
    for (const f of [...files, "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "src", "src/cli/main.ts", "deploy/install.sh", "resources/traces/sample.sf"]) {
      expect(dockerContextKeeps(ignore, f), `${f} in the build context`).toBe(true)
    }
    if (fs.existsSync(repo("LICENSE"))) expect(dockerContextKeeps(ignore, "LICENSE")).toBe(true)
    for (const f of ["node_modules", "node_modules/effect/package.json", "dist", "dist/index.js", "test", "bench", ".git", "export.out", "plugins/x/node_modules/y.js", "sfprocessor-0.1.0.tgz"]) {
      expect(dockerContextKeeps(ignore, f), `${f} kept out of the build context`).toBe(false)
    }
  })

  it("every path of the image exists in the packed layout laid out by deploy/install.sh", () => {
    // Files of the package named by their path in the image.
    const inPackage = [...dockerfile.matchAll(new RegExp(`${PKG_IN_IMAGE}/([\\w./-]+)`, "g"))].map((m) => m[1])
    expect(inPackage).toEqual(expect.arrayContaining(["deploy/install.sh", "deploy/docker-entrypoint.sh"]))
    for (const rel of inPackage) expect(fs.existsSync(path.join(pkgDir, rel)), rel).toBe(true)

    // The reference's variables and locations.
    expect(imageEnv).toMatchObject({
      LOG_LEVEL: "info",
      DRIVER: "socket",
      DRIVER_DIR: `${SYSFLOW}/resources/drivers`,
      PLUGIN_DIR: `${SYSFLOW}/resources/plugins`,
      CONFIG_PATH: `${SYSFLOW}/conf/pipeline.json`,
      INPUT_PATH: "/sock/sysflow.sock"
    })
    expect(imageEnv.PATH.split(":")[0]).toBe(`${SYSFLOW}/bin`)
    for (const k of ["DRIVER_DIR", "PLUGIN_DIR"]) expect(fs.statSync(reroot(imageEnv[k])).isDirectory(), k).toBe(true)
    expect(fs.statSync(reroot(imageEnv.CONFIG_PATH)).isFile()).toBe(true)
    for (const d of ["policies", "plugins", "handlers", "actions", "drivers"]) {
      expect(fs.statSync(reroot(`${SYSFLOW}/resources/${d}`)).isDirectory(), d).toBe(true)
    }
    // Driver plugins are loaded from DRIVER_DIR at every start: the image ships none.
    expect(fs.readdirSync(reroot(imageEnv.DRIVER_DIR))).toEqual([])
    // The shipped policy sets are the default policies.
    expect(fs.readdirSync(reroot(`${SYSFLOW}/resources/policies/runtimeintegrity`)).sort()).toEqual(
      fs.readdirSync(repo("policies", "runtimeintegrity")).sort()
    )
    // The binary: a link to the package's bin, on PATH.
    const bin = reroot(`${SYSFLOW}/bin/sfprocessor`)
    expect(fs.lstatSync(bin).isSymbolicLink()).toBe(true)
    expect(fs.realpathSync(bin)).toBe(fs.realpathSync(path.join(pkgDir, "bin", "sfprocessor.js")))
    expect(runtime("WORKDIR").map((i) => i.args)).toEqual([`${SYSFLOW}/bin`])
    expect(fs.statSync(reroot(`${SYSFLOW}/bin`)).isDirectory()).toBe(true)

    // Every absolute path of the default pipeline.
    const absolute = JSON.stringify(JSON.parse(read("deploy", "pipeline.json"))).match(/"\/[^"]*"/g)!.map((s) => JSON.parse(s) as string)
    expect(absolute).toEqual([`${SYSFLOW}/resources/policies`, `${SYSFLOW}/resources/actions`])
    for (const p of absolute) expect(fs.existsSync(reroot(p)), p).toBe(true)

    // Non-root, with the socket volume owned by the service user.
    expect(runtime("USER").map((i) => i.args)).toEqual(["1001:1001"])
    expect(runtime("VOLUME").map((i) => i.args)).toEqual(["/sock"])
    const runs = runtime("RUN").map((i) => i.args).join("\n")
    expect(runs).toContain(`sh ${PKG_IN_IMAGE}/deploy/install.sh`)
    expect(runs).toMatch(/useradd --system --uid 1001 --gid 1001/)
    expect(runs).toMatch(/mkdir -p \/sock && chown 1001:1001 \/sock && chmod 0700 \/sock/)
    expect(path.posix.dirname(imageEnv.INPUT_PATH)).toBe("/sock")
    expect(runtime("STOPSIGNAL").map((i) => i.args)).toEqual(["SIGTERM"])
    expect(JSON.parse(runtime("ENTRYPOINT")[0].args)).toEqual(["/bin/sh", `${PKG_IN_IMAGE}/deploy/docker-entrypoint.sh`])
    expect(runtime("CMD").map((i) => i.args)).toEqual(["[]"])
  })

  /** The image's environment with its paths moved into DESTDIR and the temp dir. */
  const entryEnv = (extra: Record<string, string> = {}) => {
    const env: Record<string, string> = { ...imageEnv, ...extra }
    for (const k of ["DRIVER_DIR", "PLUGIN_DIR"]) env[k] = reroot(env[k])
    env.CONFIG_PATH = reroutedPipeline()
    env.INPUT_PATH = path.join(tmp, "sock", "sysflow.sock")
    env.PATH = `${reroot(`${SYSFLOW}/bin`)}:${process.env.PATH}`
    return cleanEnv(env)
  }
  const entrypoint = () => path.join(pkgDir, "deploy", "docker-entrypoint.sh")
  const workdir = () => reroot(`${SYSFLOW}/bin`)

  it("the entry point with the image's environment: -version, -test of the default pipeline (socket driver), a command", async () => {
    const version = await run("sh", [entrypoint(), "-version"], { cwd: workdir(), env: entryEnv() })
    expect(version.code).toBe(0)
    expect(version.stdout).toBe(`${VERSION_LINE}\n`)

    const test = await run("sh", [entrypoint(), "-test"], { cwd: workdir(), env: entryEnv() })
    expect(test.stderr).toBe("")
    expect(test.code).toBe(0)
    expect(test.stdout).toContain(`Loading policies from: ${destdir}${SYSFLOW}/resources/policies`)
    expect(test.stdout).toMatch(/Policy engine loaded [1-9]\d* rules/)
    expect(test.stdout).toContain("Health checks: passed")

    const command = await run("sh", [entrypoint(), "echo", "a command"], { cwd: workdir(), env: entryEnv() })
    expect(command.stdout).toBe("a command\n")

    // A typo in the pipeline is exit 1 through the entry point too.
    const broken = path.join(tmp, "broken.json")
    fs.writeFileSync(broken, "{ not json")
    const bad = await run("sh", [entrypoint(), "-test", `-config=${broken}`], { cwd: workdir(), env: entryEnv() })
    expect(bad.code).toBe(1)
  })

  it.skipIf(!linux)("the entry point serves the collector on INPUT_PATH (owner-only socket) and drains on SIGTERM", async () => {
    const sock = path.join(tmp, "sock", "sysflow.sock")
    fs.mkdirSync(path.dirname(sock), { recursive: true, mode: 0o700 })
    const sample = path.join(pkgDir, "resources", "traces", "sample.sf")
    const expected = await run(installedBin(), ["-log=error", "-driver", "file", "-config", reroutedPipeline(), sample], { cwd: workdir() })
    expect(expected.code).toBe(0)

    const proc = start("sh", [entrypoint()], { cwd: workdir(), env: entryEnv() })
    try {
      await waitForSocket(sock)
      expect(fs.statSync(sock).mode & 0o777).toBe(0o600)
      // The image's HEALTHCHECK passes while the driver listens.
      const health = runtime("HEALTHCHECK")[0].args.replace(/^.*?\bCMD /, "")
      const healthEnv = cleanEnv({ DRIVER: "socket", INPUT_PATH: sock })
      expect((await run("sh", ["-c", health], { env: healthEnv })).code).toBe(0)
      const datums = Chunk.toReadonlyArray(await Effect.runPromise(Stream.runCollect(readTraceFile(sample)))).flat()
      await collect(sock, datums.map((d) => encodeDatum(d)))
      await proc.waitFor(/Input stream ended/)
      // `exec` in the entry point: the signal reaches sfprocessor itself, which drains and exits 0.
      proc.child.kill("SIGTERM")
      const res = await proc.resultWithin(10_000)
      expect(res.signal).toBeNull()
      expect(res.code).toBe(0)
      expect(res.stdout).toContain("Stopping the processing pipeline")
      expect(fs.existsSync(sock)).toBe(false)
      expect((await run("sh", ["-c", health], { env: healthEnv })).code).toBe(1)
      expect((await run("sh", ["-c", health], { env: cleanEnv({ DRIVER: "file", INPUT_PATH: sock }) })).code).toBe(0)
      expect(jsonLines(res.stdout)).toEqual(jsonLines(expected.stdout))
      // Both shipped sets in alert mode: the runtime-integrity alerts, nothing more or less.
      expect(jsonLines(res.stdout)).toEqual(await repoAlerts())
      expect(jsonLines(res.stdout).length).toBeGreaterThan(0)
    } finally {
      proc.killAll()
    }
  })
})

describe("deploy/docker-compose.yml", () => {
  const compose = YAML.parse(read("deploy", "docker-compose.yml")) as {
    services: Record<string, { image: string; build?: { context: string }; volumes: string[]; environment: Record<string, string | number>; stop_grace_period?: string; depends_on?: string[] }>
    volumes: Record<string, unknown>
  }
  const processor = compose.services["sf-processor"]
  const collector = compose.services["sf-collector"]

  it("builds this repository's image and shares the socket volume with the collector", () => {
    expect(fs.existsSync(path.join(repo("deploy"), processor.build!.context, "Dockerfile"))).toBe(true)
    expect(processor.volumes).toContain("socket-vol:/sock")
    expect(collector.volumes).toContain("socket-vol:/sock")
    expect(Object.keys(compose.volumes)).toEqual(["socket-vol"])
    expect(collector.image).toBe("sysflowtelemetry/sf-collector:latest")
    expect(collector.depends_on).toEqual(["sf-processor"])
    expect(collector.environment.SOCK_FILE).toBe(processor.environment.INPUT_PATH)
    expect(processor.stop_grace_period).toBe("60s")
  })

  it("sets live overrides only; the reference's dead keys appear in a comment, not as settings", () => {
    const env = processor.environment
    expect(env).toMatchObject({ POLICYENGINE_MODE: "alert", EXPORTER_EXPORT: "terminal" })
    for (const dead of ["EXPORTER_TYPE", "EXPORTER_HOST", "EXPORTER_PORT", "EXPORTER_SOURCE", "FILE_PATH"]) {
      expect(Object.keys(env)).not.toContain(dead)
      expect(read("deploy", "docker-compose.yml")).toMatch(new RegExp(`#.*${dead}`))
    }
    const imageVars = ["LOG_LEVEL", "DRIVER", "DRIVER_DIR", "PLUGIN_DIR", "CONFIG_PATH", "INPUT_PATH"]
    for (const k of Object.keys(env)) {
      expect(imageVars.includes(k) || /^(POLICYENGINE|EXPORTER|SYSFLOWREADER)_/.test(k), k).toBe(true)
    }
  })

  it("its environment loads: the entry point's -test with the compose overrides", async () => {
    const dockerfile = read("Dockerfile")
    const imageEnv = Object.fromEntries(dockerInstructions(dockerfile).filter((i) => i.stage === 1 && i.op === "ENV").flatMap((i) => envPairs(i.args)))
    const env: Record<string, string> = { ...imageEnv }
    for (const [k, v] of Object.entries(processor.environment)) env[k] = String(v)
    env.DRIVER_DIR = reroot(env.DRIVER_DIR)
    env.PLUGIN_DIR = reroot(env.PLUGIN_DIR)
    env.CONFIG_PATH = reroutedPipeline()
    env.INPUT_PATH = path.join(tmp, "sock", "compose.sock")
    env.PATH = `${reroot(`${SYSFLOW}/bin`)}:${process.env.PATH}`
    const r = await run("sh", [path.join(pkgDir, "deploy", "docker-entrypoint.sh"), "-test"], { cwd: reroot(`${SYSFLOW}/bin`), env: cleanEnv(env) })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
  })
})

describe("deploy/sfprocessor.service and deploy/sysflow.env", () => {
  const unit = unitSettings(read("deploy", "sfprocessor.service"))
  const one = (k: string) => {
    const v = unit.get(k)
    expect(v, k).toHaveLength(1)
    return v![0]
  }
  const env = envFile(read("deploy", "sysflow.env"))

  it("graceful stop (SIGTERM with a stop timeout), restart on failure, a dedicated user, hardening", () => {
    expect(one("KillSignal")).toBe("SIGTERM")
    expect(Number(one("TimeoutStopSec"))).toBeGreaterThanOrEqual(30)
    expect(one("Restart")).toBe("on-failure")
    expect(one("User")).toBe("sysflow")
    expect(one("EnvironmentFile")).toBe("/etc/sysflow/conf/sysflow.env")
    expect(one("NoNewPrivileges")).toBe("yes")
    expect(one("ProtectSystem")).toBe("strict")
    expect(one("PrivateTmp")).toBe("yes")
    expect(one("CapabilityBoundingSet")).toBe("")
    // V8's JIT needs writable+executable memory; AF_UNIX is the collector's socket.
    expect(unit.has("MemoryDenyWriteExecute")).toBe(false)
    expect(one("RestrictAddressFamilies").split(" ")).toContain("AF_UNIX")
    // The socket's directory is writable despite ProtectSystem=strict.
    const socketDir = path.posix.dirname(env.SOCKET)
    expect(socketDir).toBe(`/run/${one("RuntimeDirectory")}`)
    expect(one("ReadWritePaths").split(" ")).toContain(socketDir)
  })

  it("every path it names exists in the layout, every variable it uses is set, and its command line loads the default pipeline", async () => {
    const exec = one("ExecStart").split(/\s+/)
    const used = [...one("ExecStart").matchAll(/\$\{(\w+)\}/g)].map((m) => m[1])
    expect(used.sort()).toEqual(["CONFIG_PATH", "DRIVER", "DRIVER_DIR", "LOG_LEVEL", "PLUGIN_DIR", "SOCKET"])
    for (const v of used) expect(env[v], v).toBeDefined()
    expect(env).toMatchObject({ DRIVER: "socket", DRIVER_DIR: `${SYSFLOW}/resources/drivers`, PLUGIN_DIR: `${SYSFLOW}/resources/plugins`, CONFIG_PATH: `${SYSFLOW}/conf/pipeline.json` })
    for (const k of ["DRIVER_DIR", "PLUGIN_DIR", "CONFIG_PATH"]) expect(fs.existsSync(reroot(env[k])), k).toBe(true)
    expect(fs.realpathSync(reroot(exec[0]))).toBe(fs.realpathSync(path.join(pkgDir, "bin", "sfprocessor.js")))
    expect(fs.statSync(reroot(one("WorkingDirectory"))).isDirectory()).toBe(true)

    // The unit's command line, with -test added before the path, in the layout.
    const values: Record<string, string> = {
      ...env,
      DRIVER_DIR: reroot(env.DRIVER_DIR),
      PLUGIN_DIR: reroot(env.PLUGIN_DIR),
      CONFIG_PATH: reroutedPipeline(),
      SOCKET: path.join(tmp, "run", "sysflow.sock")
    }
    const args = exec.slice(1).map((a) => a.replace(/\$\{(\w+)\}/g, (_, v: string) => values[v]))
    const r = await run(reroot(exec[0]), ["-test", ...args], { cwd: reroot(one("WorkingDirectory")) })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("Health checks: passed")
  })
})
