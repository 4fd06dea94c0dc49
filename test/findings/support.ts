/** Helpers for the Findings tests: events, an encoder/transport in a scope, captured logs, event files. */
import { Effect, Exit, Layer, Logger, LogLevel, Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { Priority, type PolicyEvent, type RuleMatch } from "../../src/domain/policyEvent.js"
import type { Encoder } from "../../src/services/export/Encoder.js"
import { makeOccurrenceEncoderWith } from "../../src/services/export/encoders/OccurrenceEncoder.js"
import type { ExporterConfig } from "../../src/services/export/ExporterConfig.js"
import type { PoolClock } from "../../src/services/export/findings/EventPools.js"
import { TerminalOutput, type Transport } from "../../src/services/export/Transport.js"
import { type FindingsTransportOptions, makeFindingsTransportWith } from "../../src/services/export/transports/FindingsTransport.js"
import { decodeOcf } from "../trace/avsc.js"

export const exporterConfig: ExporterConfig = {
  export: "findings",
  format: "occurrence",
  buffer: 0,
  jsonSchemaVersion: "5",
  filePath: "./export.out",
  warnings: []
}

export const rule = (name: string, priority: Priority = Priority.Low, tags: ReadonlyArray<string> = []): RuleMatch => ({
  name,
  desc: `${name} desc`,
  priority,
  tags
})

export const event = (record: FlatRecord, rules: ReadonlyArray<RuleMatch> = [], tags: ReadonlyArray<string> = []): PolicyEvent => ({
  record,
  rules,
  tags
})

/** 2023-11-14T22:13:20Z in ns. */
export const T0 = 1_700_000_000_000_000_000n

/** A clock the test moves by hand (ms). */
export class ManualClock implements PoolClock {
  constructor(public t = 1_700_000_000_000.123) {}
  readonly now = (): number => this.t
  advance(ms: number): void {
    this.t += ms
  }
}

export interface Captured {
  readonly lines: string[]
  readonly layer: Layer.Layer<never>
}

/** A logger that records `<Level> <message>` lines (every level). */
export const captureLogs = (): Captured => {
  const lines: string[] = []
  const logger = Logger.make(({ logLevel, message }) =>
    void lines.push(`${logLevel.label} ${(Array.isArray(message) ? message : [message]).map(String).join(" ")}`)
  )
  return { lines, layer: Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All)) }
}

export interface Opened<T> {
  readonly value: T
  readonly close: () => Promise<void>
}

const open = async <T, E>(make: Effect.Effect<T, E, Scope.Scope>, logs?: Captured): Promise<Opened<T>> => {
  const scope = Effect.runSync(Scope.make())
  const withLogs = logs === undefined ? make : Effect.provide(make, logs.layer)
  const value = await Effect.runPromise(Scope.extend(withLogs, scope))
  return { value, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

export const openEncoder = (attrs: Record<string, unknown>, clock: PoolClock = new ManualClock(), logs?: Captured): Promise<Opened<Encoder>> =>
  open(makeOccurrenceEncoderWith({ clock })(attrs, exporterConfig), logs)

export const openTransport = (
  attrs: Record<string, unknown>,
  options: FindingsTransportOptions = {},
  logs?: Captured
): Promise<Opened<Transport>> =>
  open(Effect.provide(makeFindingsTransportWith(options)(attrs, exporterConfig), TerminalOutput.capture([])), logs)

/** Runs an effect with captured logs. */
export const run = <A, E>(effect: Effect.Effect<A, E>, logs?: Captured): Promise<A> =>
  Effect.runPromise(logs === undefined ? effect : Effect.provide(effect, logs.layer))

/** Every file under `dir`, relative, sorted. */
export const filesUnder = (dir: string): string[] => {
  if (!fs.existsSync(dir)) return []
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(path.relative(dir, p))
    }
  }
  walk(dir)
  return out.sort()
}

/** The events of an event file (decoded by avsc, independent of our writer). */
export const readEvents = async (file: string): Promise<Array<Record<string, unknown>>> =>
  (await decodeOcf(fs.readFileSync(file))).values.map((v) => ({ ...(v as Record<string, unknown>) }))

/** The local-time `<Y>/<M>/<D>` of a ns timestamp. */
export const ymd = (ts: bigint): string => {
  const d = new Date(Number(ts / 1_000_000n))
  return `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()}`
}
