/**
 * A NATS connection for the `nats` transport and driver: the client library is loaded on first use (as
 * the Elasticsearch client is), reconnects forever once connected (a server restart is an outage, not an
 * end), and reports its state for `/healthz`. Failures are described for people: which servers, and
 * whether it was the network, the credentials, a permission or JetStream.
 */
import type { NatsConnection, NodeConnectionOptions } from "@nats-io/transport-node"
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream"
import { Effect, Redacted, type Scope } from "effect"
import { errorText } from "../../../../domain/errors.js"
import { importModule } from "../../../importModule.js"
import { withHealth } from "../../../metrics/Health.js"
import type { NatsConnectionSettings } from "./NatsSettings.js"

type Client = typeof import("@nats-io/transport-node")
type JetStream = typeof import("@nats-io/jetstream")

/** Both libraries, loaded when a nats exporter or driver is created (outside the CLI bundle, as the ES client). */
export const loadNats = (): Effect.Effect<{ readonly client: Client; readonly jetstream: JetStream }> =>
  Effect.promise(() => Promise.all([importModule<Client>("@nats-io/transport-node"), importModule<JetStream>("@nats-io/jetstream")])).pipe(
    Effect.map(([client, jetstream]) => ({ client, jetstream }))
  )

/** Why a NATS operation failed, in the user's terms (never with a secret: the library's texts have none). */
export const describeNatsError = (e: unknown, settings: NatsConnectionSettings): string => {
  const text = errorText(e)
  const name = (e as { name?: string } | null)?.name ?? ""
  const code = (e as { code?: string } | null)?.code ?? ""
  if (name === "AuthorizationError" || /authorization violation|authentication/i.test(text)) {
    return `NATS at ${settings.where} refused the credentials (${authKind(settings)}): ${text}`
  }
  if (name === "PermissionViolationError" || /permissions violation/i.test(text)) {
    return `NATS at ${settings.where}: permission denied: ${text}`
  }
  if (name === "JetStreamNotEnabled" || /jetstream not enabled/i.test(text)) {
    return `JetStream is not enabled at ${settings.where} (start nats-server with -js): ${text}`
  }
  if (name === "ConnectionError" || code === "ECONNREFUSED" || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|connection refused/i.test(text)) {
    return `cannot connect to NATS at ${settings.where}: ${text}`
  }
  return `NATS at ${settings.where}: ${text}`
}

const authKind = (s: NatsConnectionSettings): string =>
  s.creds !== undefined ? "nats.creds" : s.token !== undefined ? "nats.token" : s.user !== undefined || s.password !== undefined ? "nats.user/nats.password" : "no credentials given"

const connectionOptions = (client: Client, settings: NatsConnectionSettings, name: string, reconnect: boolean): NodeConnectionOptions => {
  const tls = settings.tlsCa !== undefined ? { caFile: settings.tlsCa } : settings.servers.some((u) => u.startsWith("tls://")) ? {} : undefined
  return {
    servers: [...settings.servers],
    name,
    ...(settings.user === undefined ? {} : { user: Redacted.value(settings.user) }),
    ...(settings.password === undefined ? {} : { pass: Redacted.value(settings.password) }),
    ...(settings.token === undefined ? {} : { token: Redacted.value(settings.token) }),
    ...(settings.creds === undefined ? {} : { authenticator: client.credsAuthenticator(Redacted.value(settings.creds)) }),
    ...(tls === undefined ? {} : { tls }),
    // Once connected, an outage is waited out (publishes and acknowledgements resume); a first connection
    // that fails is a load error.
    maxReconnectAttempts: reconnect ? -1 : 0,
    reconnectTimeWait: 500,
    timeout: 4000,
    pingInterval: 5000
  }
}

export interface NatsLink {
  readonly settings: NatsConnectionSettings
  readonly nc: NatsConnection
  readonly js: JetStreamClient
  readonly jsm: JetStreamManager
  readonly jetstream: JetStream
  /** New message headers. */
  readonly headers: Client["headers"]
  /** The connection state for `/healthz`. */
  readonly state: () => { readonly ok: boolean; readonly detail: string }
}

/**
 * Connects (failing with a described error) and checks that the account has JetStream. Scoped: the
 * connection is drained (pending publishes and acknowledgements flushed) and closed with the scope.
 * `health` names the `/healthz` component that shows the connection state.
 */
export const openNats = (
  settings: NatsConnectionSettings,
  options: { readonly name: string; readonly reconnect: boolean; readonly health?: string }
): Effect.Effect<NatsLink, string, Scope.Scope> =>
  Effect.gen(function* () {
    const { client, jetstream } = yield* loadNats()
    const nc = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => client.connect(connectionOptions(client, settings, options.name, options.reconnect)),
        catch: (e) => describeNatsError(e, settings)
      }),
      (c) => Effect.promise(() => (c.isClosed() ? Promise.resolve() : c.drain().catch(() => c.close())))
    )
    const jsm = yield* Effect.tryPromise({ try: () => jetstream.jetstreamManager(nc), catch: (e) => describeNatsError(e, settings) })
    let state = { ok: true, detail: `connected to ${nc.getServer()}` }
    // The client's status events, for as long as the connection lives (the iteration ends with it).
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect") state = { ok: false, detail: `disconnected from ${s.server}` }
        else if (s.type === "reconnecting") state = { ok: false, detail: `reconnecting to ${settings.where}` }
        else if (s.type === "reconnect") state = { ok: true, detail: `connected to ${s.server}` }
        else if (s.type === "close") state = { ok: false, detail: "connection closed" }
      }
    })().catch(() => undefined)
    const link: NatsLink = { settings, nc, js: jetstream.jetstream(nc), jsm, jetstream, headers: client.headers, state: () => state }
    if (options.health !== undefined) {
      const component = options.health
      yield* withHealth((h) => h.probe(component, () => ({ ok: link.state().ok, detail: `nats: ${link.state().detail}` })))
    }
    return link
  })
