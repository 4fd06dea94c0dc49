/**
 * Runs the socket driver in-process against a real SOCK_SEQPACKET client: the driver fiber feeds a
 * channel, a consumer collects the records (and can be held back to simulate a slow pipeline), and the
 * log lines are captured.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Exit, Fiber, Stream } from "effect"
import type { DriverError } from "../../src/domain/errors.js"
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import { type SocketDriverOptions, type SocketStats, makeSocketStats, runSocketDriver } from "../../src/services/drivers/SocketDriver.js"
import { SfLoggerLive } from "../../src/services/logging/SfLogger.js"
import { type Channel, chunks, close, makeChannel } from "../../src/services/kernel/Channel.js"
import { encodeDatum } from "../../src/services/trace/TraceWriter.js"

export const tempSocketDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "sfsock-"))

export interface Harness {
  readonly sockPath: string
  readonly records: SysFlowDatum[]
  readonly lines: string[]
  readonly stats: SocketStats
  /** Lets a held-back consumer go on. */
  readonly release: () => void
  /** Interrupts the driver (as the runner does on stop), lets the consumer go, closes the channel, drains the consumer. */
  readonly stop: () => Promise<Exit.Exit<void, DriverError>>
  /** The driver's exit once it ended by itself. */
  readonly done: Promise<Exit.Exit<void, DriverError>>
  readonly waitFor: (cond: () => boolean, what: string, timeoutMs?: number) => Promise<void>
  readonly linesMatching: (re: RegExp) => string[]
}

export interface HarnessOptions {
  readonly sockPath?: string
  readonly driver?: Omit<SocketDriverOptions, "stats">
  /** Records the channel holds (default the pipeline's). */
  readonly channelCapacity?: number
  /** Start with the consumer held back until `release()`. */
  readonly holdConsumer?: boolean
  /** Do not wait for the socket file (e.g. when the driver is expected to fail). */
  readonly noWait?: boolean
}

export const startDriver = async (opts: HarnessOptions = {}): Promise<Harness> => {
  const sockPath = opts.sockPath ?? path.join(tempSocketDir(), "sysflow.sock")
  const records: SysFlowDatum[] = []
  const lines: string[] = []
  const stats = makeSocketStats()
  const layer = SfLoggerLive({ level: "info", perflog: false }, { stdout: (t) => lines.push(t), stderr: (t) => lines.push(t) })
  const channel: Channel<SysFlowDatum> = Effect.runSync(makeChannel<SysFlowDatum>("sysflow", "sysflowchan", opts.channelCapacity))

  let release: () => void = () => {}
  const gate = opts.holdConsumer === true ? new Promise<void>((r) => (release = r)) : Promise.resolve()
  const consumer = Effect.runFork(
    chunks(channel).pipe(
      Stream.mapEffect((c) => Effect.as(Effect.promise(() => gate), c)),
      Stream.runForEach((c) => Effect.sync(() => records.push(...c)))
    )
  )
  const driver = Effect.runFork(
    runSocketDriver(sockPath, channel, { ...opts.driver, stats }).pipe(
      Effect.annotateLogs("component", "socket"),
      Effect.provide(layer)
    )
  )
  const done = Effect.runPromise(Fiber.await(driver))

  const waitFor = async (cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log:\n${lines.join("")}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  if (opts.noWait !== true) {
    await Promise.race([
      waitFor(() => lines.some((l) => l.includes("Listening for a collector")), "the driver to listen"),
      done.then((exit) => {
        throw new Error(`the driver ended before listening: ${Exit.isFailure(exit) ? String(exit.cause) : "success"}`)
      })
    ])
  }

  return {
    sockPath,
    records,
    lines,
    stats,
    release: () => release(),
    done,
    waitFor,
    linesMatching: (re) => lines.filter((l) => re.test(l)),
    stop: async () => {
      // The consumer is let go once the stop has begun: the driver's last chunks may need it to move.
      const interrupted = Effect.runPromise(Fiber.interrupt(driver))
      release()
      const exit = await interrupted
      await Effect.runPromise(close(channel))
      await Effect.runPromise(Fiber.await(consumer))
      return exit as Exit.Exit<void, DriverError>
    }
  }
}

/** The collector's packets for datums (v4 layout). */
export const packets = (datums: ReadonlyArray<SysFlowDatum>): Buffer[] => datums.map((d) => encodeDatum(d))

/** Datums compared through their v4 encoding (FOIDs are Buffers on one side, Uint8Arrays on the other). */
export const encoded = (datums: ReadonlyArray<SysFlowDatum>): string[] => datums.map((d) => encodeDatum(d).toString("hex"))
