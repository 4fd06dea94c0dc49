/**
 * The NATS keys shared by the `nats` exporter transport and the `nats` driver (docs/nats.md): where the
 * servers are, which stream and subject, and how to authenticate. Secrets (`nats.user`, `nats.password`,
 * `nats.token`) come from the key, its environment override or the vault, as for Elasticsearch
 * (`Secrets.ts`); `nats.creds` and `nats.tls.ca` name files, read at load so a missing one fails there.
 * Secret values are never logged: errors name the key and the file.
 */
import { Effect, Redacted, Schema } from "effect"
import * as fs from "node:fs/promises"
import { NonEmptyText, optionalKey, redactUrl, textValue, withDefault } from "../../../../domain/configValues.js"
import type { PipelineConfigError } from "../../../../domain/errors.js"
import { decodeAttributes, keyError } from "../../../kernel/AttributeDecoder.js"
import { readSecret } from "../../Secrets.js"

export const DEFAULT_URL = "nats://127.0.0.1:4222"

/** `nats.url`: one server or a comma-separated list; `nats://`, `tls://` or a bare `host:port`. */
const NatsUrls = textValue(Schema.Array(Schema.String), "must be a nats:// URL or a comma-separated list of them", (s) => {
  const urls = s.split(",").map((u) => u.trim()).filter((u) => u !== "")
  if (urls.length === 0) return undefined
  for (const u of urls) {
    const withScheme = /^[a-z]+:\/\//i.test(u) ? u : `nats://${u}`
    try {
      const parsed = new URL(withScheme)
      if (!["nats:", "tls:"].includes(parsed.protocol) || parsed.hostname === "") return undefined
    } catch {
      return undefined
    }
  }
  return urls
})

/** A JetStream stream or consumer name: no whitespace, `.`, `*`, `>`, path separators. */
export const NatsName = textValue(Schema.String, "must be a name without spaces, '.', '*', '>', '/' or '\\'", (s) =>
  s === "" || /[\s.*>/\\]/.test(s) ? undefined : s
)

/** A subject: dot-separated tokens, wildcards allowed (`*`, and `>` last) where the key reads them. */
const Subject = (wildcards: boolean) =>
  textValue(Schema.String, wildcards ? "must be a NATS subject (tokens separated by '.', '*' and a final '>' allowed)" : "must be a NATS subject without wildcards (tokens separated by '.')", (s) => {
    const tokens = s.split(".")
    const ok = tokens.every((t, i) => t !== "" && !/\s/.test(t) && (wildcards ? (t === ">" ? i === tokens.length - 1 : !t.includes(">")) && (t === "*" || !t.includes("*")) : !/[*>]/.test(t)))
    return ok ? s : undefined
  })

export const natsConnectionKeys = ["nats.url", "nats.user", "nats.password", "nats.token", "nats.creds", "nats.tls.ca"] as const

export interface NatsConnectionSettings {
  readonly servers: ReadonlyArray<string>
  /** The servers as logs and errors show them (credentials in URLs replaced by ***). */
  readonly where: string
  readonly user: Redacted.Redacted<string> | undefined
  readonly password: Redacted.Redacted<string> | undefined
  readonly token: Redacted.Redacted<string> | undefined
  /** The content of the `nats.creds` file (a user JWT and its NKey seed). */
  readonly creds: Redacted.Redacted<Uint8Array> | undefined
  readonly tlsCa: string | undefined
}

const ConnectionKeys = {
  "nats.url": withDefault(NatsUrls, [DEFAULT_URL]),
  "nats.creds": optionalKey(NonEmptyText),
  "nats.tls.ca": optionalKey(NonEmptyText)
}

const readKeyFile = (component: string, attrs: Readonly<Record<string, unknown>>, key: string, file: string) =>
  Effect.tryPromise(() => fs.readFile(file)).pipe(
    Effect.catchAll((e) => keyError(component, attrs, key, `cannot read ${file}: ${(e.error as NodeJS.ErrnoException).code ?? "error"}`))
  )

/** Decodes the connection keys (`component` names the exporter or the driver in errors). */
export const decodeNatsConnection = (
  component: string,
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<NatsConnectionSettings, PipelineConfigError> =>
  Effect.gen(function* () {
    const keys = yield* decodeAttributes(component, ConnectionKeys, attrs)
    // Every NATS secret is optional: a vault without the key's file means the key is not set.
    const secret = (key: string) =>
      Effect.map(readSecret(attrs, key, { optional: true }), (v) => (v === undefined ? undefined : Redacted.make(v)))
    const user = yield* secret("nats.user")
    const password = yield* secret("nats.password")
    const token = yield* secret("nats.token")
    if (token !== undefined && (user !== undefined || password !== undefined)) {
      return yield* keyError(component, attrs, "nats.token", "cannot be used with nats.user/nats.password (choose one way to authenticate)", "***")
    }
    const credsFile = keys["nats.creds"]
    const creds = credsFile === undefined ? undefined : Redacted.make<Uint8Array>(yield* readKeyFile(component, attrs, "nats.creds", credsFile))
    const tlsCa = keys["nats.tls.ca"]
    if (tlsCa !== undefined) yield* readKeyFile(component, attrs, "nats.tls.ca", tlsCa)
    const servers = keys["nats.url"]
    return { servers, where: servers.map(redactUrl).join(","), user, password, token, creds, tlsCa }
  })

export const StreamKeys = {
  "nats.stream": withDefault(NatsName, "SYSFLOW"),
  "nats.subject": withDefault(Subject(false), "sysflow.records")
}

/** The driver's subject filter may use wildcards (`sysflow.>`). */
export const FilterSubject = Subject(true)
