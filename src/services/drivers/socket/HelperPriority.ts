/**
 * V8's helper threads at idle priority while the live stream is quiet (issue 15; docs/socket.md, "V8's
 * helper threads").
 *
 * Why: on a quiet stream every record is its own chunk, and its latency is made of short runs of the main
 * thread woken by the reader thread. V8's platform threads (concurrent marking and compiling, the scavenger's
 * parallel tasks) run for milliseconds at a time, and the kernel often wakes the main thread on the core
 * where one of them runs, even with the other core idle: the main thread then waits up to a scheduler slice
 * (2–4 ms here) before it runs (`perf sched timehist`, docs/performance.md item 20). At SCHED_IDLE a helper
 * gives its core to a waking thread of normal policy at once. Under load the helpers must keep their share
 * (held back, they let the heap grow: flat out 206–243 MiB against 172–180), so the policy follows the main
 * thread's event-loop utilisation: idle helpers while it is quiet, normal ones while it is busy.
 *
 * Going back from SCHED_IDLE to SCHED_OTHER needs CAP_SYS_NICE or a `nice` limit (RLIMIT_NICE) of 20; a
 * process without either leaves its helpers as they are. `SFPROCESSOR_V8_HELPERS=normal` turns it off.
 *
 * Which threads: Node's platform starts its delayed-task thread and then its `--v8-pool-size` workers (4 by
 * default) before anything else, so they are the first threads after the main one in creation (thread id)
 * order. A Clock boundary like the turn-taking scheduler: what is judged is the real event loop's
 * utilisation (`performance.eventLoopUtilization`) over real time, and nothing waits for time to pass.
 */
import { Effect, Schema, type Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import { performance } from "node:perf_hooks"

/** The environment variable that chooses: `adaptive` (the default) or `normal` (leave V8's threads alone). */
export const HELPERS_VARIABLE = "SFPROCESSOR_V8_HELPERS"

export const HelperMode = Schema.Literal("adaptive", "normal")
export type HelperMode = typeof HelperMode.Type

/** `SFPROCESSOR_V8_HELPERS` as a mode (unset or empty: adaptive), or an error message. */
export const helperMode = (value: string | undefined): HelperMode | { readonly error: string } => {
  if (value === undefined || value.trim() === "") return "adaptive"
  const mode = Schema.decodeUnknownOption(HelperMode)(value.trim())
  return mode._tag === "Some" ? mode.value : { error: `${HELPERS_VARIABLE}=${value}: expected adaptive or normal` }
}

/** Main-thread utilisation above which the helpers get their normal share back... */
export const BUSY_ABOVE = 0.8
/** ...and below which they go back to idle (the gap keeps a stream near one bound from flapping). */
export const QUIET_BELOW = 0.5
/** The shortest interval over which the utilisation is judged. */
export const SAMPLE_MS = 250

/** Whether the helpers should be idle from now on, given the main thread's utilisation since the last sample. */
export const nextIdle = (idle: boolean, utilization: number): boolean =>
  idle ? utilization <= BUSY_ABOVE : utilization < QUIET_BELOW

/** What the adaptation works with: the threads, the policy switch, the main thread's utilisation, a clock. */
export interface HelperControl {
  readonly threads: ReadonlyArray<number>
  /** SCHED_IDLE (`true`) or SCHED_OTHER for one thread; throws on failure. */
  readonly setIdle: (tid: number, idle: boolean) => void
  /** The main thread's event-loop utilisation (0–1) since the previous call. */
  readonly utilization: () => number
  /** Milliseconds, monotonic. */
  readonly now: () => number
}

/**
 * Sets the helpers idle for as long as the scope is open (its close gives them their normal policy back)
 * and returns the hook the driver calls when records arrive: at most every SAMPLE_MS it judges the
 * utilisation since the last sample and switches. No timer: an idle stream costs nothing, and the first
 * records after a pause are judged over the pause. A switch that fails (a thread gone, a permission lost)
 * ends the adaptation: `warn` says why, and what can be put back is.
 */
export const adaptHelperPriority = (control: HelperControl, warn: (message: string) => void): Effect.Effect<() => void, never, Scope.Scope> =>
  Effect.gen(function* () {
    let idle = false
    let active = true
    let last = control.now()
    const restore = (): void => {
      for (const tid of control.threads) {
        try {
          control.setIdle(tid, false)
        } catch {
          // A thread that is gone needs nothing back.
        }
      }
      idle = false
    }
    const switchTo = (to: boolean): void => {
      try {
        for (const tid of control.threads) control.setIdle(tid, to)
        idle = to
      } catch (e) {
        active = false
        restore()
        warn(`V8's helper threads keep their normal priority: ${(e as Error).message}`)
      }
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        active = false
        if (idle) restore()
      })
    )
    control.utilization() // the first interval starts now
    switchTo(true)
    return () => {
      if (!active) return
      const t = control.now()
      if (t - last < SAMPLE_MS) return
      last = t
      const to = nextIdle(idle, control.utilization())
      if (to !== idle) switchTo(to)
    }
  })

/** The V8 platform's worker pool size: node's `--v8-pool-size` (command line, then NODE_OPTIONS), else 4. */
export const v8PoolSize = (execArgv: ReadonlyArray<string>, nodeOptions: string | undefined): number => {
  const args = [...(nodeOptions ?? "").split(/\s+/).filter(Boolean), ...execArgv]
  let size = 4
  for (let i = 0; i < args.length; i++) {
    const m = /^--v8[-_]pool[-_]size(?:=(.*))?$/.exec(args[i])
    if (m !== null) size = Number(m[1] ?? args[++i])
  }
  // Node takes 0 (or less) as "one fewer than the cores".
  return Number.isInteger(size) && size >= 1 ? size : Math.max(1, os.availableParallelism() - 1)
}

/**
 * The V8 platform's worker threads of this process: after the main thread, in thread-id order, the first
 * is the platform's delayed-task thread and the next `poolSize` its workers. Undefined (with the reason)
 * when the ids do not allow that reading: too few threads, or ids below the main thread's (wrapped around).
 */
export const v8HelperThreads = (poolSize: number, taskDir = "/proc/self/task", mainTid = process.pid): ReadonlyArray<number> | { readonly unavailable: string } => {
  let tids: Array<number>
  try {
    tids = fs.readdirSync(taskDir).map(Number).sort((a, b) => a - b)
  } catch (e) {
    return { unavailable: `${taskDir}: ${(e as Error).message}` }
  }
  if (tids[0] !== mainTid) return { unavailable: "thread ids are not in creation order" }
  if (tids.length < 2 + poolSize) return { unavailable: `${tids.length} threads, fewer than V8's ${poolSize} workers need` }
  return tids.slice(2, 2 + poolSize)
}

/** Whether this process may give a thread SCHED_OTHER back after SCHED_IDLE: CAP_SYS_NICE, or RLIMIT_NICE ≥ 20. */
export const mayRestoreNormal = (status = "/proc/self/status", limits = "/proc/self/limits"): boolean => {
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(status, "utf8"))
    if (capEff !== null && (BigInt(`0x${capEff[1]}`) & (1n << 23n)) !== 0n) return true
    const nice = /^Max nice priority\s+(\S+)/m.exec(fs.readFileSync(limits, "utf8"))
    return nice !== null && (nice[1] === "unlimited" || Number(nice[1]) >= 20)
  } catch {
    return false
  }
}

/** The main thread's event-loop utilisation since the previous call (the first call starts the interval). */
export const eventLoopUtilization = (): (() => number) => {
  let last = performance.eventLoopUtilization()
  return () => {
    const now = performance.eventLoopUtilization()
    const u = performance.eventLoopUtilization(now, last).utilization
    last = now
    return u
  }
}

/**
 * The control of this process's V8 helpers through `setIdle` (the native addon's `schedIdle`), or why there
 * is none: not permitted to restore them, or the threads not identified.
 */
export const processHelperControl = (setIdle: (tid: number, idle: boolean) => void): HelperControl | { readonly unavailable: string } => {
  if (!mayRestoreNormal()) return { unavailable: "without CAP_SYS_NICE (or a nice limit of 20) their priority could not be given back under load" }
  const threads = v8HelperThreads(v8PoolSize(process.execArgv, process.env.NODE_OPTIONS))
  if (!Array.isArray(threads)) return threads as { readonly unavailable: string }
  return { threads, setIdle, utilization: eventLoopUtilization(), now: () => performance.now() }
}
