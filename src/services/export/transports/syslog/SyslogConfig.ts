/**
 * The `syslog.*` exporter keys (pipeline.md §11.1), decoded with Schema from the exporter's attributes.
 * Only read when `export` is `syslog` (P2).
 *
 * | key                     | default        |                                                            |
 * |-------------------------|----------------|------------------------------------------------------------|
 * | `syslog.proto`          | `tcp`          | `tcp`, `udp`, `tls`; anything else means tcp, with a warning (P19) |
 * | `syslog.tag`            | `sysflow`      | MSGID; an empty tag means the program name                 |
 * | `syslog.source`         | OS host name   | HOSTNAME                                                   |
 * | `syslog.host`           | `localhost`    |                                                            |
 * | `syslog.port`           | `514`          | a whole number from 1 to 65535, else a config error        |
 * | `syslog.tls.skipverify` | `false`        | `true`/`false` (any case) or a JSON boolean, else a config error (P6) |
 * | `syslog.tls.ca`         | —              | PEM file of CA certificates trusted in addition to the defaults (P6) |
 */
import { Effect } from "effect"
import * as os from "node:os"
import { Flag, Text, WholeNumber, withDefault } from "../../../../domain/configValues.js"
import type { PipelineConfigError } from "../../../../domain/errors.js"
import { decodeAttributes } from "../../../kernel/AttributeDecoder.js"
import { programName } from "./Rfc5424.js"

export type SyslogProto = "tcp" | "udp" | "tls"
export const SYSLOG_PROTOS: ReadonlyArray<SyslogProto> = ["tcp", "udp", "tls"]

export const DEFAULT_TAG = "sysflow"
export const DEFAULT_HOST = "localhost"
export const DEFAULT_PORT = 514

const Keys = {
  "syslog.proto": withDefault(Text, "tcp"),
  "syslog.tag": withDefault(Text, DEFAULT_TAG),
  "syslog.source": withDefault(Text, ""),
  "syslog.host": withDefault(Text, DEFAULT_HOST),
  "syslog.port": withDefault(WholeNumber({ min: 1, max: 65535 }), DEFAULT_PORT),
  "syslog.tls.skipverify": withDefault(Flag, false),
  "syslog.tls.ca": withDefault(Text, "")
}

export interface SyslogConfig {
  readonly proto: SyslogProto
  readonly host: string
  readonly port: number
  /** HOSTNAME of the header. */
  readonly source: string
  /** MSGID of the header (`syslog.tag`, or the program name when the tag is empty). */
  readonly tag: string
  readonly skipVerify: boolean
  /** `syslog.tls.ca`, or undefined. */
  readonly caFile: string | undefined
  /** Fallbacks to log at init (P19). */
  readonly warnings: ReadonlyArray<string>
}

/** Decodes the syslog keys. `hostname` is injectable for tests. */
export const decodeSyslogConfig = (
  attrs: Readonly<Record<string, unknown>>,
  hostname: () => string = os.hostname
): Effect.Effect<SyslogConfig, PipelineConfigError> =>
  Effect.gen(function* () {
    const keys = yield* decodeAttributes("exporter", Keys, attrs)
    const warnings: string[] = []
    const rawProto = keys["syslog.proto"]
    // The reference compares exactly (so `TCP` or `tcp+tls` mean tcp); we keep that and say so.
    const proto = (SYSLOG_PROTOS as ReadonlyArray<string>).includes(rawProto)
      ? (rawProto as SyslogProto)
      : (warnings.push(`unknown syslog.proto '${rawProto}', using tcp (known: tcp, udp, tls)`), "tcp" as const)
    const host = keys["syslog.host"] === "" ? DEFAULT_HOST : keys["syslog.host"]
    const source = keys["syslog.source"] !== "" ? keys["syslog.source"] : hostname()
    const tag = keys["syslog.tag"] === "" ? programName() : keys["syslog.tag"]
    const caFile = keys["syslog.tls.ca"] === "" ? undefined : keys["syslog.tls.ca"]
    if (proto !== "tls" && (caFile !== undefined || keys["syslog.tls.skipverify"])) {
      warnings.push(`syslog.tls.ca and syslog.tls.skipverify only apply to syslog.proto tls (this exporter uses ${proto})`)
    }
    return { proto, host, port: keys["syslog.port"], source, tag, skipVerify: keys["syslog.tls.skipverify"], caFile, warnings }
  })
