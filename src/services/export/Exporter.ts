/**
 * The `exporter` processor (pipeline.md §11): encodes the events it receives and hands them to its
 * transport in batches. A batch is written once it holds `buffer` records (so `buffer: 0` writes every
 * chunk as it arrives); an idle ticker writes a non-empty batch that waited more than a second; the
 * rest is written when the input closes, before the transport's scope closes it.
 */
import { Effect, Schedule, type Scope } from "effect"
import { ExportError, PipelineConfigError } from "../../domain/errors.js"
import type { FlatRecord } from "../../domain/flatRecord.js"
import { bareEvent, type PolicyEvent } from "../../domain/policyEvent.js"
import type { Stage } from "../pipeline/Stage.js"
import { encodeJsonBatch } from "./encoders/JsonEncoder.js"
import { decodeExporterConfig, type ExporterConfig } from "./ExporterConfig.js"
import { makeFileTransport } from "./transports/FileTransport.js"
import { nullTransport } from "./transports/NullTransport.js"
import { makeTerminalTransport } from "./transports/TerminalTransport.js"
import type { TerminalOutput, Transport } from "./Transport.js"

const notImplemented = (what: string) =>
  new ExportError({ reason: "NotImplemented", transport: "exporter", detail: `${what} is not implemented yet in sfprocessor` })

const makeTransport = (
  config: ExporterConfig
): Effect.Effect<Transport, ExportError, Scope.Scope | TerminalOutput> => {
  switch (config.export) {
    case "terminal":
      return makeTerminalTransport
    case "file":
      return makeFileTransport(config.filePath)
    case "null":
      return Effect.succeed(nullTransport)
    case "kafka":
      return Effect.fail(
        new ExportError({ reason: "NotImplemented", transport: "exporter", detail: "export 'kafka' (OTel backend) is not supported by sfprocessor" })
      )
    default:
      return Effect.fail(notImplemented(`export '${config.export}'`))
  }
}

type Encoder = (events: ReadonlyArray<PolicyEvent>) => string

const makeEncoder = (config: ExporterConfig): Effect.Effect<Encoder, ExportError> => {
  switch (config.format) {
    case "json":
      return Effect.succeed((events) => encodeJsonBatch(events, config.jsonSchemaVersion))
    case "otel":
      return Effect.fail(
        new ExportError({ reason: "NotImplemented", transport: "exporter", detail: "format 'otel' (OTel backend) is not supported by sfprocessor" })
      )
    default:
      return Effect.fail(notImplemented(`format '${config.format}'`))
  }
}

/** The element an exporter reads: an event from a policy engine, or (our extension) a bare flat record. */
export type ExporterInput = PolicyEvent | FlatRecord

const asEvents = (chunk: ReadonlyArray<ExporterInput>): ReadonlyArray<PolicyEvent> =>
  chunk.length > 0 && "record" in chunk[0] ? (chunk as ReadonlyArray<PolicyEvent>) : (chunk as ReadonlyArray<FlatRecord>).map(bareEvent)

export const makeExporter = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<Stage<ExporterInput, never, ExportError>, PipelineConfigError | ExportError, Scope.Scope | TerminalOutput> =>
  Effect.gen(function* () {
    const config = yield* decodeExporterConfig(attrs)
    for (const w of config.warnings) yield* Effect.logWarning(w)
    const encode = yield* makeEncoder(config)
    const transport = yield* makeTransport(config)
    const lock = yield* Effect.makeSemaphore(1)

    let pending: string[] = []
    let pendingCount = 0
    let lastFlush = Date.now()

    const flushUnlocked = Effect.suspend(() => {
      if (pending.length === 0) return Effect.void
      const batch = pending.length === 1 ? pending[0] : pending.join("")
      pending = []
      pendingCount = 0
      lastFlush = Date.now()
      return transport.write(batch)
    })
    const flush = lock.withPermits(1)(flushUnlocked)

    // The reference's 1-s ticker: flush a waiting batch when more than a second passed since the last flush.
    yield* Effect.forkScoped(
      Effect.repeat(
        lock.withPermits(1)(Effect.suspend(() => (Date.now() - lastFlush > 1000 ? flushUnlocked : Effect.void))),
        Schedule.spaced("1 second")
      ).pipe(Effect.catchAll((e) => Effect.logError(`Error flushing exporter batch: ${e.message}`)))
    )

    const none: ReadonlyArray<never> = []
    return {
      name: "exporter",
      onChunk: (chunk) =>
        lock.withPermits(1)(
          Effect.suspend(() => {
            const events = asEvents(chunk)
            pending.push(encode(events))
            pendingCount += events.length
            return pendingCount >= config.buffer ? flushUnlocked : Effect.void
          })
        ).pipe(Effect.as(none)),
      onEnd: Effect.as(flush, none),
      test: transport.test
    }
  })
