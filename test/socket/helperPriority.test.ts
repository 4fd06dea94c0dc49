/**
 * V8's helper threads at idle priority while the live stream is quiet (HelperPriority.ts, issue 15): the
 * switch follows the main thread's utilisation with a gap between the bounds, never waits for time, puts the
 * threads back when the driver stops or a switch fails; the threads are V8's workers (they do the
 * collector's parallel work, the libuv pool does not); and SCHED_IDLE really is what the addon sets.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Scope, TestClock } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { initSocketDriver } from "../../src/services/drivers/SocketDriver.js"
import {
  adaptHelperPriority,
  BUSY_ABOVE,
  type HelperControl,
  helperMode,
  mayRestoreNormal,
  nextIdle,
  QUIET_BELOW,
  SAMPLE_MS,
  v8HelperThreads,
  v8PoolSize
} from "../../src/services/drivers/socket/HelperPriority.js"
import { loadNativeReader } from "../../src/services/drivers/socket/NativeReader.js"
import { tempSocketDir } from "./harness.js"

const linux = process.platform === "linux"
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

/** A control over fake threads: the utilisation and the time come from the test. */
const fakeControl = (threads: ReadonlyArray<number>, fail?: (tid: number, idle: boolean) => boolean) => {
  const calls: Array<string> = []
  const state = { utilization: 0, now: 0, utilizationReads: 0 }
  const control: HelperControl = {
    threads,
    setIdle: (tid, idle) => {
      if (fail?.(tid, idle) === true) throw new Error(`sched_setscheduler ${tid}: Operation not permitted`)
      calls.push(`${tid}:${idle ? "idle" : "normal"}`)
    },
    utilization: () => {
      state.utilizationReads++
      return state.utilization
    },
    now: () => state.now
  }
  return { control, calls, state }
}

describe("the helper threads' priority: when to switch", () => {
  it("idle helpers get their normal share back above BUSY_ABOVE, and go idle again only below QUIET_BELOW", () => {
    expect(nextIdle(true, 0.3)).toBe(true)
    expect(nextIdle(true, BUSY_ABOVE)).toBe(true)
    expect(nextIdle(true, 0.95)).toBe(false)
    expect(nextIdle(false, 0.7)).toBe(false) // between the bounds: stays as it is
    expect(nextIdle(false, QUIET_BELOW)).toBe(false)
    expect(nextIdle(false, 0.2)).toBe(true)
  })

  it.scoped("the hook judges at most every SAMPLE_MS, switches all threads, and the scope's close restores them; the Clock is never used", () =>
    Effect.gen(function* () {
      const { control, calls, state } = fakeControl([11, 12])
      const warnings: Array<string> = []
      const scope = yield* Scope.make()
      const onRecords = yield* Scope.extend(adaptHelperPriority(control, (m) => warnings.push(m)), scope)
      expect(calls).toEqual(["11:idle", "12:idle"])
      state.utilization = 0.95
      state.now = SAMPLE_MS - 1
      onRecords() // too soon: not judged
      expect(state.utilizationReads).toBe(1)
      expect(calls).toHaveLength(2)
      state.now = SAMPLE_MS
      onRecords()
      expect(calls.slice(2)).toEqual(["11:normal", "12:normal"])
      state.utilization = 0.6 // between the bounds
      state.now += SAMPLE_MS
      onRecords()
      expect(calls).toHaveLength(4)
      state.utilization = 0.1 // a long pause, judged when records come again
      state.now += 60_000
      onRecords()
      expect(calls.slice(4)).toEqual(["11:idle", "12:idle"])
      yield* Scope.close(scope, Exit.void)
      expect(calls.slice(6)).toEqual(["11:normal", "12:normal"])
      onRecords() // after the close: nothing
      expect(calls).toHaveLength(8)
      expect(warnings).toEqual([])
      expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toEqual([])
    })
  )

  it.scoped("a switch that fails ends the adaptation with one warning, and the threads that can be are put back", () =>
    Effect.gen(function* () {
      let refuse = false
      const { control, calls, state } = fakeControl([21, 22], (tid, idle) => refuse && idle && tid === 22)
      const warnings: Array<string> = []
      const onRecords = yield* adaptHelperPriority(control, (m) => warnings.push(m))
      state.utilization = 0.9
      state.now = SAMPLE_MS
      onRecords() // to normal
      refuse = true
      state.utilization = 0.1
      state.now += SAMPLE_MS
      onRecords() // to idle: 21 switches, 22 refuses
      expect(calls.slice(4)).toEqual(["21:idle", "21:normal", "22:normal"])
      expect(warnings).toEqual(["V8's helper threads keep their normal priority: sched_setscheduler 22: Operation not permitted"])
      state.now += 10 * SAMPLE_MS
      onRecords()
      expect(calls).toHaveLength(7)
    })
  )
})

describe("the helper threads' priority: configuration", () => {
  it("SFPROCESSOR_V8_HELPERS: adaptive by default, normal turns it off, anything else is an error naming the variable", () => {
    expect(helperMode(undefined)).toBe("adaptive")
    expect(helperMode("")).toBe("adaptive")
    expect(helperMode(" normal ")).toBe("normal")
    expect(helperMode("idle")).toEqual({ error: "SFPROCESSOR_V8_HELPERS=idle: expected adaptive or normal" })
  })

  it.effect.skipIf(!linux)("a bad SFPROCESSOR_V8_HELPERS fails the driver's init", () =>
    Effect.gen(function* () {
      const dir = tempSocketDir()
      const before = process.env.SFPROCESSOR_V8_HELPERS
      process.env.SFPROCESSOR_V8_HELPERS = "fast"
      const exit = yield* Effect.exit(initSocketDriver(path.join(dir, "sf.sock"))).pipe(
        Effect.ensuring(Effect.sync(() => (before === undefined ? delete process.env.SFPROCESSOR_V8_HELPERS : (process.env.SFPROCESSOR_V8_HELPERS = before))))
      )
      expect(Exit.isFailure(exit) ? String(Exit.causeOption(exit)) : "succeeded").toMatch(/SFPROCESSOR_V8_HELPERS=fast: expected adaptive or normal/)
    })
  )

  it("--v8-pool-size from node's command line or NODE_OPTIONS (the command line wins), else 4; 0 is one fewer than the cores", () => {
    expect(v8PoolSize([], undefined)).toBe(4)
    expect(v8PoolSize(["--v8-pool-size=2"], undefined)).toBe(2)
    expect(v8PoolSize([], "--max-old-space-size=512 --v8-pool-size 3")).toBe(3)
    expect(v8PoolSize(["--v8_pool_size=6"], "--v8-pool-size=3")).toBe(6)
    expect(v8PoolSize(["--v8-pool-size=0"], undefined)).toBe(Math.max(1, os.availableParallelism() - 1))
  })

  it("the helpers are the pool's threads after the main thread and the platform's delayed-task thread, in id order", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-tasks-"))
    for (const tid of [500, 507, 501, 502, 503, 504, 505, 506, 512]) fs.mkdirSync(path.join(dir, String(tid)))
    expect(v8HelperThreads(4, dir, 500)).toEqual([502, 503, 504, 505])
    expect(v8HelperThreads(2, dir, 500)).toEqual([502, 503])
    expect(v8HelperThreads(8, dir, 500)).toEqual({ unavailable: "9 threads, fewer than V8's 8 workers need" })
    expect(v8HelperThreads(4, dir, 501)).toEqual({ unavailable: "thread ids are not in creation order" })
  })

  it("restoring needs CAP_SYS_NICE or a nice limit of 20", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-proc-"))
    const files = (capEff: string, nice: string) => {
      fs.writeFileSync(path.join(dir, "status"), `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`)
      fs.writeFileSync(path.join(dir, "limits"), `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${nice}                    ${nice}\n`)
      return [path.join(dir, "status"), path.join(dir, "limits")] as const
    }
    expect(mayRestoreNormal(...files("000001ffffffffff", "0"))).toBe(true) // root with every capability
    expect(mayRestoreNormal(...files("00000000a80425fb", "0"))).toBe(false) // a container's default set
    expect(mayRestoreNormal(...files("0000000000800000", "0"))).toBe(true) // CAP_SYS_NICE alone
    expect(mayRestoreNormal(...files("0000000000000000", "20"))).toBe(true)
    expect(mayRestoreNormal(...files("0000000000000000", "unlimited"))).toBe(true)
    expect(mayRestoreNormal(path.join(dir, "missing"), path.join(dir, "missing"))).toBe(false)
  })
})

/**
 * A node process that loads the addon, finds its V8 helpers, allocates enough to make V8's collector work
 * in parallel, and reports each thread's CPU time and policy.
 */
const PROBE = `
import * as fs from "node:fs"
const { v8HelperThreads, v8PoolSize } = await import(process.argv[1])
const addon = { exports: {} }
process.dlopen(addon, process.argv[2])
fs.readFile(process.execPath, () => {}) // starts libuv's pool, whose threads come after V8's
setTimeout(() => {
  const helpers = v8HelperThreads(v8PoolSize(process.execArgv, process.env.NODE_OPTIONS))
  const cpu = (tid) => { const f = fs.readFileSync("/proc/self/task/" + tid + "/stat", "utf8").split(") ")[1].split(" "); return Number(f[11]) + Number(f[12]) }
  const policy = (tid) => Number(fs.readFileSync("/proc/self/task/" + tid + "/stat", "utf8").split(") ")[1].split(" ")[38])
  const all = fs.readdirSync("/proc/self/task").map(Number).filter((t) => t !== process.pid)
  const before = new Map(all.map((t) => [t, cpu(t)]))
  let keep = []
  for (let i = 0; i < 3e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 2e5) keep = [] }
  const used = (t) => cpu(t) - before.get(t)
  for (const t of helpers) addon.exports.schedIdle(t, true)
  const idle = helpers.map(policy)
  let back = "skipped"
  if (process.argv[3] === "restore") { for (const t of helpers) addon.exports.schedIdle(t, false); back = helpers.map(policy) }
  process.stdout.write(JSON.stringify({ helpers, helperTicks: helpers.reduce((n, t) => n + used(t), 0), otherTicks: all.filter((t) => !helpers.includes(t)).reduce((n, t) => n + used(t), 0), idle, back }))
}, 50)
`

describe.skipIf(!linux)("the helper threads' priority, in a real node process", () => {
  const native = loadNativeReader()
  it.skipIf("unavailable" in native)("the identified threads are the ones that do V8's parallel work; the addon sets SCHED_IDLE and, where permitted, SCHED_OTHER again", () => {
    if ("unavailable" in native) return
    const module = path.join(root, "dist", "services", "drivers", "socket", "HelperPriority.js")
    if (!fs.existsSync(module)) throw new Error("dist/ is missing: run `npm run build` first")
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", PROBE, module, native.file, mayRestoreNormal() ? "restore" : "keep"], { encoding: "utf8" })
    expect(r.stderr).toBe("")
    const out = JSON.parse(r.stdout) as { helpers: Array<number>; helperTicks: number; otherTicks: number; idle: Array<number>; back: unknown }
    expect(out.helpers).toHaveLength(4)
    // Scavenges of 3 M objects: V8's workers took part (clock ticks of 10 ms); the other threads did not.
    expect(out.helperTicks).toBeGreaterThan(0)
    expect(out.otherTicks).toBe(0)
    const SCHED_IDLE = 5
    expect(out.idle).toEqual([SCHED_IDLE, SCHED_IDLE, SCHED_IDLE, SCHED_IDLE])
    if (mayRestoreNormal()) expect(out.back).toEqual([0, 0, 0, 0])
  })
})
