/**
 * The optional HTTP endpoint (off by default; top-level `"metrics": "<host>:<port>"` in pipeline.json,
 * or `SFPROCESSOR_METRICS`): `/metrics` in Prometheus text format, `/healthz` 200 while every component
 * is healthy (503 otherwise), both with a JSON or text body. Scoped: the server closes with the run.
 */
import { Effect, Runtime, type Scope } from "effect"
import * as http from "node:http"
import * as net from "node:net"
import { PipelineConfigError } from "../../domain/errors.js"
import { Health } from "./Health.js"
import { prometheusText } from "./Prometheus.js"

/** `host:port`, `:port` or a bare port; the host defaults to 127.0.0.1 (not every interface). */
export const parseListenAddress = (text: string): { host: string; port: number } | undefined => {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(text.trim())
  if (m === null) return undefined
  const port = Number(m[2])
  if (port > 65535) return undefined
  return { host: m[1] === undefined || m[1] === "" ? "127.0.0.1" : m[1], port }
}

/** A host that binds every interface (IPv4 `0.0.0.0`, IPv6 `::` in any spelling). */
export const isWildcardHost = (host: string): boolean =>
  host === "0.0.0.0" || (net.isIPv6(host) && /^[0:]+$/.test(host))

/** The endpoint's URL as a browser or curl takes it (an IPv6 host in brackets). */
export const endpointUrl = (host: string, port: number): string => `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}`

export const startMetricsServer = (address: string): Effect.Effect<{ port: number }, PipelineConfigError, Scope.Scope | Health> =>
  Effect.gen(function* () {
    const listen = parseListenAddress(address)
    if (listen === undefined) {
      return yield* new PipelineConfigError({ reason: "Attribute", detail: `metrics: '${address}' is not a listen address (host:port or port)` })
    }
    const health = yield* Health
    const runPromise = Runtime.runPromise(yield* Effect.runtime<never>())
    const server = http.createServer((req, res) => {
      const url = (req.url ?? "/").split("?")[0]
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end()
      } else if (url === "/metrics") {
        runPromise(prometheusText).then(
          (text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(text),
          () => res.writeHead(500).end()
        )
      } else if (url === "/healthz") {
        const r = health.report()
        res.writeHead(r.ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(r) + "\n")
      } else {
        res.writeHead(404).end()
      }
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number, PipelineConfigError>((resume) => {
        server.once("error", (e) =>
          resume(Effect.fail(new PipelineConfigError({ reason: "Attribute", detail: `metrics: cannot listen on ${address}: ${e.message}` })))
        )
        server.listen(listen.port, listen.host, () => resume(Effect.succeed((server.address() as { port: number }).port)))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    yield* Effect.logInfo(`Serving /metrics and /healthz on ${endpointUrl(listen.host, port)}`)
    if (isWildcardHost(listen.host)) {
      yield* Effect.logWarning(
        `metrics: ${endpointUrl(listen.host, port)} listens on every interface: /metrics and /healthz are reachable from the network (bind 127.0.0.1 unless a scraper on another host needs them)`
      )
    }
    return { port }
  })
