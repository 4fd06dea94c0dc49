/**
 * The exporter's transports (`export`, pipeline.md §11): the application's transport registry. A new
 * transport is registered here; tests add theirs with `TransportRegistry.extend` (CaptureTransport).
 */
import { Effect } from "effect"
import { ExportError } from "../domain/errors.js"
import { type TransportFactory, TransportRegistry } from "../services/export/Transport.js"
import { makeEsTransport } from "../services/export/transports/EsTransport.js"
import { makeFileTransport } from "../services/export/transports/FileTransport.js"
import { makeFindingsTransport } from "../services/export/transports/FindingsTransport.js"
import { makeNatsTransport } from "../services/export/transports/NatsTransport.js"
import { makeNullTransport } from "../services/export/transports/NullTransport.js"
import { makeSyslogTransport } from "../services/export/transports/SyslogTransport.js"
import { makeTerminalTransport } from "../services/export/transports/TerminalTransport.js"

/** A reference transport or format we do not implement: a load error that says so. */
export const unsupported = (what: string) => () =>
  Effect.fail(new ExportError({ reason: "NotImplemented", transport: "exporter", detail: `${what} (OTel backend) is not supported by sfprocessor` }))

/** In the order `export`'s error message lists them. */
export const builtinTransports: ReadonlyArray<readonly [string, TransportFactory]> = [
  ["terminal", makeTerminalTransport],
  ["file", makeFileTransport],
  ["syslog", makeSyslogTransport],
  ["es", makeEsTransport],
  ["kafka", unsupported("export 'kafka'")],
  ["null", makeNullTransport],
  ["findings", makeFindingsTransport],
  ["nats", makeNatsTransport]
]

export const TransportsLive = TransportRegistry.layer(builtinTransports)
