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
 * | `syslog.port`           | `514`          | a whole number 1–65535, else a config error                |
 * | `syslog.tls.skipverify` | `false`        | `true`/`false` (any case) or a JSON boolean, else a config error (P6) |
 * | `syslog.tls.ca`         | —              | PEM file of CA certificates trusted in addition to the defaults (P6) |
 */
import { Effect, ParseResult, Schema } from "effect"
import * as os from "node:os"
import { PipelineConfigError } from "../../../../domain/errors.js"
import { programName } from "./Rfc5424.js"

export type SyslogProto = "tcp" | "udp" | "tls"
export const SYSLOG_PROTOS: ReadonlyArray<SyslogProto> = ["tcp", "udp", "tls"]

export const DEFAULT_TAG = "sysflow"
export const DEFAULT_HOST = "localhost"
export const DEFAULT_PORT = 514

/** Go `strconv.Atoi` syntax (optional sign, decimal digits), then a TCP/UDP port number. */
const Port = Schema.transformOrFail(Schema.Union(Schema.String, Schema.Number), Schema.Number, {
  strict: true,
  decode: (v, _, ast) => {
    const s = typeof v === "number" ? String(v) : v
    if (!/^[+-]?\d+$/.test(s)) return ParseResult.fail(new ParseResult.Type(ast, v, `must be a whole number, got '${s}'`))
    const n = Number(s)
    return n >= 1 && n <= 65535
      ? ParseResult.succeed(n)
      : ParseResult.fail(new ParseResult.Type(ast, v, `must be a port number between 1 and 65535, got '${s}'`))
  },
  encode: (n) => ParseResult.succeed(String(n))
})

/** `true`/`false` in any case, or a JSON boolean; anything else is an error (P6). */
const Flag = Schema.transformOrFail(Schema.Union(Schema.String, Schema.Boolean), Schema.Boolean, {
  strict: true,
  decode: (v, _, ast) => {
    if (typeof v === "boolean") return ParseResult.succeed(v)
    const s = v.trim().toLowerCase()
    if (s === "true") return ParseResult.succeed(true)
    if (s === "false") return ParseResult.succeed(false)
    return ParseResult.fail(new ParseResult.Type(ast, v, `must be true or false, got '${v}'`))
  },
  encode: (b) => ParseResult.succeed(String(b))
})

const text = (fallback: string) => Schema.optionalWith(Schema.String, { default: () => fallback })

const Keys = Schema.Struct({
  "syslog.proto": text("tcp"),
  "syslog.tag": text(DEFAULT_TAG),
  "syslog.source": text(""),
  "syslog.host": text(DEFAULT_HOST),
  "syslog.port": Schema.optionalWith(Port, { default: () => DEFAULT_PORT }),
  "syslog.tls.skipverify": Schema.optionalWith(Flag, { default: () => false }),
  "syslog.tls.ca": text("")
})

/** `key: problem` for each key that failed (the "or undefined" branch of optional keys left out). */
const describeIssues = (e: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(e).filter((i) => !i.message.startsWith("Expected undefined"))
  if (issues.length === 0) return ParseResult.TreeFormatter.formatErrorSync(e)
  return [...new Set(issues.map((i) => `${i.path.join(".")}: ${i.message}`))].join("; ")
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
    const keys = yield* Schema.decodeUnknown(Keys, { errors: "all" })(attrs).pipe(
      Effect.mapError((e) => new PipelineConfigError({ reason: "Attribute", detail: `exporter: ${describeIssues(e)}` }))
    )
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
