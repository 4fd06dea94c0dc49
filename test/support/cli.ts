/** Runs the built `sfprocessor` binary (npm test builds it first) as a user would. */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
export const binPath = path.join(projectRoot, "bin", "sfprocessor.js")

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly cwd?: string
  readonly env?: Readonly<Record<string, string>>
  /** Called once the process is spawned (e.g. to send signals). */
  readonly onSpawn?: (child: import("node:child_process").ChildProcess) => void
  /** Runs under a shell's file-size limit (`ulimit -f`, in the shell's blocks): writes past it fail with EFBIG. */
  readonly fileSizeLimitBlocks?: number
}

export const runCli = (args: ReadonlyArray<string>, options: RunOptions = {}): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const command: ReadonlyArray<string> = [process.execPath, binPath, ...args]
    const limited = options.fileSizeLimitBlocks === undefined ? command : ["sh", "-c", `ulimit -f ${options.fileSizeLimitBlocks} && exec "$@"`, "sh", ...command]
    const child = spawn(limited[0], limited.slice(1), {
      cwd: options.cwd ?? projectRoot,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
    options.onSpawn?.(child)
  })

/** Temporary directories made by the test file that runs, removed after it (test/support/tempDirs.ts). */
const made = new Set<string>()

/** Removes the temporary directories made so far (some hold hundreds of MiB of output). */
export const removeTempDirs = (): void => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
  made.clear()
}

export const tempDir = (prefix = "sfp-"): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  made.add(dir)
  return dir
}

/** Writes a pipeline.json into `dir` and returns its path. */
export const writePipeline = (dir: string, pipeline: unknown, name = "pipeline.json"): string => {
  const file = path.join(dir, name)
  fs.writeFileSync(file, JSON.stringify(pipeline, null, 2))
  return file
}

/** reader -> exporter(file, json) writing `out`. */
export const fileExportPipeline = (out: string, extra: Record<string, unknown> = {}) => ({
  pipeline: [
    { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
    { processor: "exporter", in: "flat flattenerchan", export: "file", format: "json", "file.path": out, ...extra }
  ]
})

export const lines = (file: string): string[] => fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "")
