/**
 * A loopback stand-in for IBM Cloud IAM and the Findings API (pipeline.md §12), for the Findings
 * transport's tests:
 *
 * - `POST /identity/token` (form: `grant_type=urn:ibm:params:oauth:grant-type:apikey`, `apikey`) issues
 *   bearer tokens `token-<n>` for the configured key (400 for any other key);
 * - `GET /findings/v1/<account>/providers/<provider>/notes` lists `notes`;
 * - `POST /findings/v1/<account>/providers/<provider>/occurrences` records the request and answers 200
 *   (409 for an id it already has).
 *
 * Faults are queued per route (`fail("occurrences", 503, 429, "reset")`): each request to the route takes
 * the next one ("reset" destroys the connection). `expireTokens()` makes every issued token answer 401.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export type Route = "token" | "notes" | "occurrences"
export type Fault = number | "reset" | { readonly status: number; readonly retryAfter?: string; readonly body?: unknown }

export interface RecordedRequest {
  readonly route: Route | "other"
  readonly method: string
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
  /** The status answered (0 for a reset connection). */
  status: number
}

export interface RecordedOccurrence {
  readonly account: string
  readonly provider: string
  readonly headers: http.IncomingHttpHeaders
  /** The raw body text. */
  readonly raw: string
  readonly body: any
}

export interface FindingsServerOptions {
  readonly apiKey?: string
  readonly notes?: ReadonlyArray<string>
  /** `expires_in` of issued tokens, seconds (default 3600). */
  readonly tokenLifetime?: number
}

export interface FindingsServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  /** The `findings.url` to configure. */
  readonly findingsUrl: string
  /** The `findings.iamurl` to configure. */
  readonly iamUrl: string
  readonly apiKey: string
  notes: ReadonlyArray<string>
  tokenLifetime: number
  /** Accepted (200) occurrences, in arrival order. */
  readonly occurrences: RecordedOccurrence[]
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[]
  /** Tokens issued so far. */
  readonly tokens: ReadonlyArray<string>
  fail(route: Route, ...faults: ReadonlyArray<Fault>): void
  /** Every token issued so far becomes invalid (401). */
  expireTokens(): void
  /** Requests to a route. */
  requestsTo(route: Route): RecordedRequest[]
  close(): Promise<void>
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers })
  res.end(text)
}

export const startFindingsServer = (options: FindingsServerOptions = {}): Promise<FindingsServer> => {
  const apiKey = options.apiKey ?? "test-api-key-0123456789"
  const faults = new Map<Route, Fault[]>()
  const valid = new Set<string>()
  const tokens: string[] = []
  const occurrences: RecordedOccurrence[] = []
  const requests: RecordedRequest[] = []
  const seenIds = new Set<string>()
  const state = { notes: options.notes ?? ["notification", "actionable-offense"], tokenLifetime: options.tokenLifetime ?? 3600 }

  const routeOf = (method: string, path: string): { route: Route | "other"; account?: string; provider?: string } => {
    if (method === "POST" && path === "/identity/token") return { route: "token" }
    const m = /^\/findings\/v1\/([^/]+)\/providers\/([^/]+)\/(notes|occurrences)$/.exec(path)
    if (m === null) return { route: "other" }
    const route = m[3] === "notes" && method === "GET" ? "notes" : m[3] === "occurrences" && method === "POST" ? "occurrences" : "other"
    return { route, account: decodeURIComponent(m[1]), provider: decodeURIComponent(m[2]) }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const path = (req.url ?? "/").split("?")[0]
      const { route, account, provider } = routeOf(req.method ?? "", path)
      const rec: RecordedRequest = { route, method: req.method ?? "", path, headers: req.headers, body, status: 0 }
      requests.push(rec)
      const answer = (status: number, payload: unknown, headers: http.OutgoingHttpHeaders = {}) => {
        rec.status = status
        json(res, status, payload, headers)
      }

      if (route === "other") return answer(404, { error: "not found" })
      const fault = faults.get(route)?.shift()
      if (fault !== undefined) {
        if (fault === "reset") {
          req.socket.destroy()
          return
        }
        const f = typeof fault === "number" ? { status: fault } : fault
        return answer(f.status, f.body ?? { error: `injected ${f.status}` }, f.retryAfter === undefined ? {} : { "Retry-After": f.retryAfter })
      }

      if (route === "token") {
        const form = new URLSearchParams(body)
        if (!String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
          return answer(400, { errorCode: "BXNIM0109E", errorMessage: "Unsupported content type" })
        }
        if (form.get("grant_type") !== "urn:ibm:params:oauth:grant-type:apikey" || form.get("apikey") !== apiKey) {
          return answer(400, { errorCode: "BXNIM0415E", errorMessage: "Provided API key could not be found." })
        }
        const token = `token-${tokens.length + 1}`
        tokens.push(token)
        valid.add(token)
        const now = Math.floor(Date.now() / 1000)
        return answer(200, {
          access_token: token,
          refresh_token: "not-used",
          token_type: "Bearer",
          expires_in: state.tokenLifetime,
          expiration: now + state.tokenLifetime,
          scope: "ibm openid"
        })
      }

      const auth = String(req.headers.authorization ?? "")
      if (!auth.startsWith("Bearer ") || !valid.has(auth.slice("Bearer ".length))) {
        return answer(401, { trace: "x", errors: [{ code: "unauthorized", message: "invalid or expired token" }] })
      }

      if (route === "notes") {
        return answer(200, { notes: state.notes.map((id) => ({ id, kind: "FINDING", short_description: id })) })
      }

      // occurrences
      let parsed: { id?: unknown }
      try {
        parsed = JSON.parse(body) as { id?: unknown }
      } catch {
        return answer(400, { error: "body is not JSON" })
      }
      const id = String(parsed.id)
      if (seenIds.has(id)) return answer(409, { error: `occurrence ${id} already exists` })
      seenIds.add(id)
      occurrences.push({ account: account!, provider: provider!, headers: req.headers, raw: body, body: parsed })
      return answer(200, { ...parsed, create_time: new Date().toISOString() })
    })
  })

  return new Promise((resolve, reject) => {
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      const origin = `http://127.0.0.1:${port}`
      resolve({
        origin,
        findingsUrl: `${origin}/findings`,
        iamUrl: `${origin}/identity/token`,
        apiKey,
        get notes() {
          return state.notes
        },
        set notes(v) {
          state.notes = v
        },
        get tokenLifetime() {
          return state.tokenLifetime
        },
        set tokenLifetime(v) {
          state.tokenLifetime = v
        },
        occurrences,
        requests,
        tokens,
        fail: (route, ...fs) => {
          faults.set(route, [...(faults.get(route) ?? []), ...fs])
        },
        expireTokens: () => valid.clear(),
        requestsTo: (route) => requests.filter((r) => r.route === route),
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}
