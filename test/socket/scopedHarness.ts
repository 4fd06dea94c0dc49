/**
 * The socket driver as a fiber of the test's own runtime (for `@effect/vitest` `it.scoped`), so it reads
 * the test's Clock: under TestClock, time stands still unless the test moves it. The collector is a real
 * SOCK_SEQPACKET client; waits on socket events are in real time, outside the TestClock.
 */
import * as path from "node:path"
import { Effect, Fiber, type Scope } from "effect"
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import { type SocketDriverOptions, type SocketStats, makeSocketStats, runSocketDriver } from "../../src/services/drivers/SocketDriver.js"
import { type Channel, close, makeChannel, takeChunk } from "../../src/services/kernel/Channel.js"
import { SfLoggerLive } from "../../src/services/logging/SfLogger.js"
import { type Collector, connectCollector, waitForSocket } from "../support/seqpacketClient.js"
import { tempSocketDir } from "./harness.js"

export interface ScopedDriver {
  readonly sockPath: string
  /** The driver's output; the test takes chunks from it (nobody else does). */
  readonly channel: Channel<SysFlowDatum>
  readonly lines: string[]
  readonly stats: SocketStats
  readonly linesMatching: (re: RegExp) => string[]
}

/**
 * Starts the driver on a fresh path and waits until it listens. When the scope closes, the channel is
 * drained (so a driver blocked on a full channel can finish), the driver is stopped and the channel closed.
 */
export const scopedDriver = (
  opts: { readonly driver?: Omit<SocketDriverOptions, "stats">; readonly channelCapacity?: number } = {}
): Effect.Effect<ScopedDriver, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sockPath = path.join(tempSocketDir(), "sysflow.sock")
    const lines: string[] = []
    const stats = makeSocketStats()
    const channel = yield* makeChannel<SysFlowDatum>("sysflow", "sysflowchan", opts.channelCapacity)
    const logs = SfLoggerLive({ level: "info", perflog: false }, { stdout: (t) => lines.push(t), stderr: (t) => lines.push(t) })
    const driver = yield* Effect.fork(
      runSocketDriver(sockPath, channel, { ...opts.driver, stats }).pipe(Effect.annotateLogs("component", "socket"), Effect.provide(logs))
    )
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const drain = yield* Effect.fork(Effect.iterate(true, { while: (more) => more, body: () => Effect.map(takeChunk(channel), (c) => c !== undefined) }))
        yield* Fiber.interrupt(driver)
        yield* close(channel)
        yield* Fiber.join(drain)
      })
    )
    yield* Effect.promise(() => waitForSocket(sockPath))
    return { sockPath, channel, lines, stats, linesMatching: (re) => lines.filter((l) => re.test(l)) }
  })

/** A collector connected to the driver, destroyed when the scope closes. */
export const scopedCollector = (sockPath: string): Effect.Effect<Collector, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => connectCollector(sockPath)),
    (c) => Effect.sync(() => c.destroy())
  )

/** Sends packets; done when the kernel has them. */
export const sendPackets = (c: Collector, packets: ReadonlyArray<Uint8Array>): Effect.Effect<void> => Effect.promise(() => c.send(packets))

/** Fails the test after `ms` of real time (TestClock does not move it), instead of hanging. */
const realDeadline = (ms: number, what: string): Effect.Effect<never> =>
  Effect.async<never>((resume) => {
    const t = setTimeout(() => resume(Effect.die(new Error(`${what}: not within ${ms} ms of real time`))), ms)
    return Effect.sync(() => clearTimeout(t))
  })

/** `effect`, or a failure naming `what` if it does not complete within `ms` of real time. */
export const withinRealTime = <A>(effect: Effect.Effect<A>, what: string, ms = 10_000): Effect.Effect<A> =>
  Effect.raceFirst(effect, realDeadline(ms, what))

const realPause = (ms: number): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const t = setTimeout(() => resume(Effect.void), ms)
    return Effect.sync(() => clearTimeout(t))
  })

/** Waits, in real time (socket events), until `cond` holds. */
export const realWaitUntil = (cond: () => boolean, what: string): Effect.Effect<void> => {
  const poll: Effect.Effect<void> = Effect.suspend(() => (cond() ? Effect.void : Effect.zipRight(realPause(5), poll)))
  return withinRealTime(poll, what)
}

/** Takes chunks from the channel until `n` records came (only channel events: no clock involved). */
export const takeRecords = (channel: Channel<SysFlowDatum>, n: number): Effect.Effect<ReadonlyArray<ReadonlyArray<SysFlowDatum>>> =>
  withinRealTime(
    Effect.gen(function* () {
      const chunks: Array<ReadonlyArray<SysFlowDatum>> = []
      let got = 0
      while (got < n) {
        const c = yield* takeChunk(channel)
        if (c === undefined) break
        chunks.push(c)
        got += c.length
      }
      return chunks
    }),
    `${n} records in the channel`
  )
