/**
 * Helpers of the packaging tests: child processes, a Dockerfile reader, a .dockerignore matcher and a
 * systemd unit reader (just enough of each format for the project's own files).
 */
import { type ChildProcess, spawn } from "node:child_process"

export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Started {
  readonly child: ChildProcess
  readonly result: Promise<Result>
  /** The result, or an error after `timeoutMs`. */
  readonly resultWithin: (timeoutMs: number) => Promise<Result>
  /** SIGKILLs the whole process group (the child and anything it started), if still running. */
  readonly killAll: () => void
  readonly output: () => string
  /** Waits until stdout+stderr matches `re`; fails if the process exits first or after `timeoutMs`. */
  readonly waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>
}

/** The environment of a child: ours, without npm's per-run variables (when vitest runs under `npm test`). */
export const cleanEnv = (extra: Readonly<Record<string, string>> = {}): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || /^npm_(package|lifecycle|config_prefix$|config_global$)/i.test(k)) continue
    env[k] = v
  }
  return { ...env, ...extra }
}

export const start = (
  cmd: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: Record<string, string> } = {}
): Started => {
  // Its own process group, so that killAll also reaches what a shell started.
  const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true })
  let stdout = ""
  let stderr = ""
  let exited = false
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const result = new Promise<Result>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code, signal) => {
      exited = true
      resolve({ code, signal, stdout, stderr })
    })
  })
  return {
    child,
    result,
    resultWithin: (timeoutMs) =>
      Promise.race([
        result,
        new Promise<Result>((_, reject) =>
          setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`)), timeoutMs).unref()
        )
      ]),
    killAll: () => {
      if (exited || child.pid === undefined) return
      try {
        process.kill(-child.pid, "SIGKILL")
      } catch {
        // Already gone.
      }
    },
    output: () => `${stdout}\n${stderr}`,
    waitFor: async (re, timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs
      while (!re.test(`${stdout}\n${stderr}`)) {
        if (exited || Date.now() > deadline) {
          throw new Error(`no ${re} in the output${exited ? " (the process exited)" : ""}:\n${stdout}\n${stderr}`)
        }
        await new Promise((r) => setTimeout(r, 20))
      }
    }
  }
}

export const run = async (
  cmd: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: Record<string, string>; readonly timeoutMs?: number } = {}
): Promise<Result> => {
  const s = start(cmd, args, options)
  const timer = setTimeout(() => s.killAll(), options.timeoutMs ?? 30_000)
  try {
    return await s.result
  } finally {
    clearTimeout(timer)
  }
}

/** Fails with the command's output when it did not exit 0. */
export const ok = (what: string, r: Result): Result => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`)
  return r
}

// ---------------------------------------------------------------------------------------------------
// Dockerfile

export interface Instruction {
  readonly op: string
  readonly args: string
  /** Index of the stage (0 = before or at the first FROM). */
  readonly stage: number
}

/** The instructions, continuation lines joined, comments dropped. */
export const dockerInstructions = (text: string): Instruction[] => {
  const out: Instruction[] = []
  let stage = -1
  let pending = ""
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (pending === "" && (line === "" || line.startsWith("#"))) continue
    if (pending !== "" && line.startsWith("#")) continue
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `
      continue
    }
    const full = (pending + line).replace(/\s+/g, " ").trim()
    pending = ""
    const m = /^(\S+)\s*(.*)$/.exec(full)!
    const op = m[1].toUpperCase()
    if (op === "FROM") stage++
    out.push({ op, args: m[2], stage: Math.max(stage, 0) })
  }
  return out
}

/** `KEY=value` pairs of ENV instructions (unquoted values, as the project's Dockerfile writes them). */
export const envPairs = (args: string): Array<[string, string]> =>
  args
    .split(/\s+/)
    .filter((w) => w !== "")
    .map((w) => {
      const i = w.indexOf("=")
      return [w.slice(0, i), w.slice(i + 1)] as [string, string]
    })

// ---------------------------------------------------------------------------------------------------
// .dockerignore (the subset the project uses: top-level names, `*` globs, `**/` prefixes, `!` negation)

const globRegExp = (glob: string): RegExp =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\u0000").replace(/\*/g, "[^/]*").replace(/\u0000/g, ".*").replace(/\?/g, "[^/]")}$`)

/** Whether the build context keeps the path `rel` (slash-separated, relative to the context root). */
export const dockerContextKeeps = (ignore: string, rel: string): boolean => {
  const patterns = ignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
  const parts = rel.split("/")
  let kept = true
  for (const p of patterns) {
    const negated = p.startsWith("!")
    const body = negated ? p.slice(1) : p
    const re = globRegExp(body.startsWith("**/") ? body.slice(3) : body)
    const anyDepth = body.startsWith("**/")
    // A pattern matches the path or one of its parent directories.
    let matches = false
    for (let i = 1; i <= parts.length && !matches; i++) {
      const prefix = parts.slice(0, i).join("/")
      matches = re.test(prefix) || (anyDepth && re.test(parts[i - 1]))
    }
    if (matches) kept = negated
  }
  return kept
}

// ---------------------------------------------------------------------------------------------------
// systemd unit and environment files

/** `Key=value` lines of a unit, by key (a key may repeat). */
export const unitSettings = (text: string): Map<string, string[]> => {
  const out = new Map<string, string[]>()
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) continue
    const i = line.indexOf("=")
    if (i < 0) continue
    const k = line.slice(0, i).trim()
    out.set(k, [...(out.get(k) ?? []), line.slice(i + 1).trim()])
  }
  return out
}

/** `NAME=value` lines of an environment file (comments and blank lines skipped). */
export const envFile = (text: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const i = line.indexOf("=")
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1)
  }
  return out
}
