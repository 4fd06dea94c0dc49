/**
 * A loopback HTTP(S) server speaking enough of the Elasticsearch REST API for `@elastic/elasticsearch`
 * and `sfprocessor`'s `es` transport: `GET /` (cluster info, with the `x-elastic-product` header the
 * client checks), `HEAD /<index>`, `PUT /<index>`, `POST|PUT /_bulk` and `/<index>/_bulk` (NDJSON
 * `create`/`index` actions; documents stored by `_id`; per-item results), basic auth.
 *
 * Programmable faults, for delivery tests:
 * * `failNextRequests(n, status)`: whole bulk requests answered 429/503/... ;
 * * `failItems(ids, {status, times})`: per-item 429/5xx for the first `times` attempts of these ids;
 * * `rejectItems(predicate)`: permanent per-item 400 (`document_parsing_exception`);
 * * version conflicts on `create` of an existing id (as Elasticsearch);
 * * `delayResponses(ms, n)`: the next n bulk requests are processed (stored) at once, answered late.
 */
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"

export interface BulkServerOptions {
  /** Basic-auth credentials every request must carry (none: no auth). */
  readonly username?: string
  readonly password?: string
  /** Indices that exist at start. */
  readonly indices?: ReadonlyArray<string>
  /** A bulk write to a missing index creates it (Elasticsearch's default); else a per-item 404. Default true. */
  readonly autoCreate?: boolean
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string }
  /** Requests answered 403 (`security_exception`), as `"METHOD /path"`, e.g. `"GET /"`. */
  readonly forbidden?: ReadonlyArray<string>
  /** Listen on this port (default: a random one). */
  readonly port?: number
}

export interface RequestRecord {
  readonly method: string
  readonly path: string
  readonly authorization: string | undefined
  readonly contentType: string | undefined
  /** Milliseconds since the server started. */
  readonly at: number
  /** Number of bulk items (bulk requests only). */
  readonly items: number
  /** Status of the whole response. */
  status: number
}

export interface ItemFaultOptions {
  readonly status?: number
  readonly type?: string
  readonly reason?: string
  /** Fail only the first `times` attempts of each id (default: always). */
  readonly times?: number
}

interface ItemFault {
  readonly status: number
  readonly type: string
  readonly reason: string
  readonly times: number
}

export interface BulkServer {
  readonly url: string
  readonly port: number
  /** index -> `_id` -> the document text as received. */
  readonly indices: Map<string, Map<string, string>>
  readonly requests: RequestRecord[]
  /** `_id` -> number of bulk items received for it (every attempt). */
  readonly attempts: Map<string, number>
  /** Per-item results answered so far, by status. */
  readonly itemStatuses: Map<number, number>
  /** The raw NDJSON bodies of the bulk requests received (for wire-format checks). */
  readonly bodies: string[]
  /** index -> the body of the `PUT /<index>` that created it (settings and mappings). */
  readonly mappings: Map<string, string>
  /** Documents stored in `index`, parsed. */
  docs(index: string): Map<string, unknown>
  bulkRequests(): RequestRecord[]
  createIndex(index: string): void
  failNextRequests(count: number, status?: number, body?: string): void
  failItems(ids: Iterable<string>, options?: ItemFaultOptions): void
  rejectItems(predicate: (id: string, doc: string) => boolean, options?: Omit<ItemFaultOptions, "times">): void
  delayResponses(ms: number, count?: number): void
  close(): Promise<void>
}

const rejected = (status: number) =>
  status === 429
    ? { type: "es_rejected_execution_exception", reason: "rejected execution of coordinating operation [shard_detail=[test][0]]" }
    : { type: "unavailable_shards_exception", reason: "[test][0] primary shard is not active" }

const errorBody = (status: number, type: string, reason: string) =>
  JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status })

export const startBulkServer = async (options: BulkServerOptions = {}): Promise<BulkServer> => {
  const started = Date.now()
  const indices = new Map<string, Map<string, string>>()
  for (const name of options.indices ?? []) indices.set(name, new Map())
  const autoCreate = options.autoCreate ?? true
  const requests: RequestRecord[] = []
  const attempts = new Map<string, number>()
  const itemStatuses = new Map<number, number>()
  const bodies: string[] = []
  const mappings = new Map<string, string>()
  const requestFaults: Array<{ status: number; body: string | undefined }> = []
  const itemFaults = new Map<string, ItemFault>()
  const rejections: Array<{ predicate: (id: string, doc: string) => boolean; fault: ItemFault }> = []
  let delay = { ms: 0, count: 0 }
  let seqNo = 0
  let autoId = 0
  const expectedAuth =
    options.username === undefined && options.password === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.username ?? ""}:${options.password ?? ""}`).toString("base64")}`

  const send = (res: http.ServerResponse, status: number, body?: string) => {
    if (res.destroyed) return
    res.writeHead(status, {
      "x-elastic-product": "Elasticsearch",
      ...(body === undefined
        ? {}
        : { "content-type": body.startsWith("{") ? "application/json; charset=UTF-8" : "text/plain; charset=UTF-8", "content-length": Buffer.byteLength(body) })
    })
    res.end(body)
  }

  const bulk = (pathIndex: string | undefined, text: string) => {
    const lines = text.split("\n")
    const items: unknown[] = []
    let errors = false
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]
      if (line.trim() === "") continue
      const action = JSON.parse(line) as Record<string, { _id?: string; _index?: string }>
      const op = Object.keys(action)[0]
      const meta = action[op] ?? {}
      const doc = op === "delete" ? "" : (lines[++i] ?? "")
      const id = meta._id ?? `auto-${++autoId}`
      attempts.set(id, (attempts.get(id) ?? 0) + 1)
      const index = meta._index ?? pathIndex
      const item = (status: number, extra: Record<string, unknown>) => {
        itemStatuses.set(status, (itemStatuses.get(status) ?? 0) + 1)
        if (status >= 300) errors = true
        items.push({ [op]: { _index: index, _id: id, status, ...extra } })
      }
      const failure = (f: Pick<ItemFault, "status" | "type" | "reason">) =>
        item(f.status, { error: { type: f.type, reason: f.reason, index_uuid: "aAbBcC", shard: "0", index } })
      if (index === undefined) {
        item(400, { error: { type: "action_request_validation_exception", reason: "Validation Failed: 1: index is missing;" } })
        continue
      }
      let store = indices.get(index)
      if (store === undefined) {
        if (!autoCreate) {
          failure({ status: 404, type: "index_not_found_exception", reason: `no such index [${index}]` })
          continue
        }
        store = new Map()
        indices.set(index, store)
      }
      const transient = itemFaults.get(id)
      if (transient !== undefined && attempts.get(id)! <= transient.times) {
        failure(transient)
        continue
      }
      const rejection = rejections.find((r) => r.predicate(id, doc))
      if (rejection !== undefined) {
        failure(rejection.fault)
        continue
      }
      if (op !== "create" && op !== "index") {
        failure({ status: 400, type: "illegal_argument_exception", reason: `unsupported action [${op}] in the test server` })
        continue
      }
      try {
        JSON.parse(doc)
      } catch {
        failure({ status: 400, type: "document_parsing_exception", reason: `[1:1] failed to parse: not JSON` })
        continue
      }
      if (op === "create" && store.has(id)) {
        failure({ status: 409, type: "version_conflict_engine_exception", reason: `[${id}]: version conflict, document already exists (current version [1])` })
        continue
      }
      store.set(id, doc)
      item(201, { _version: 1, result: "created", _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: seqNo++, _primary_term: 1 })
    }
    return JSON.stringify({ errors, took: 1, items })
  }

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => {
    const url = new URL(req.url ?? "/", "http://localhost")
    const parts = url.pathname.split("/").filter((p) => p !== "").map(decodeURIComponent)
    const method = req.method ?? "GET"
    const isBulk = parts[parts.length - 1] === "_bulk" && (method === "POST" || method === "PUT")
    const record: RequestRecord = {
      method,
      path: url.pathname,
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
      at: Date.now() - started,
      items: isBulk ? body.split("\n").filter((l) => l.trim() !== "").length : 0,
      status: 0
    }
    requests.push(record)
    const reply = (status: number, text?: string) => {
      record.status = status
      send(res, status, text)
    }
    if (expectedAuth !== undefined && req.headers.authorization !== expectedAuth) {
      res.setHeader("www-authenticate", 'Basic realm="security" charset="UTF-8"')
      return reply(401, errorBody(401, "security_exception", `unable to authenticate user [${options.username ?? ""}] for REST request [${url.pathname}]`))
    }
    if (options.forbidden?.includes(`${method} ${url.pathname}`)) {
      return reply(403, errorBody(403, "security_exception", `action is unauthorized for user [${options.username ?? ""}]`))
    }
    if (parts.length === 0 && (method === "GET" || method === "HEAD")) {
      return reply(
        200,
        method === "HEAD"
          ? undefined
          : JSON.stringify({
              name: "bulk-server",
              cluster_name: "sfprocessor-test",
              cluster_uuid: "sfprocessor-test-cluster",
              version: { number: "8.19.0", build_flavor: "default", lucene_version: "9.12.0", minimum_wire_compatibility_version: "7.17.0", minimum_index_compatibility_version: "7.0.0" },
              tagline: "You Know, for Search"
            })
      )
    }
    if (isBulk) {
      bodies.push(body)
      const fault = requestFaults.shift()
      if (fault !== undefined) {
        const { type, reason } = rejected(fault.status)
        return reply(fault.status, fault.body ?? errorBody(fault.status, type, reason))
      }
      const pathIndex = parts.length === 2 ? parts[0] : undefined
      let answer: string
      try {
        answer = bulk(pathIndex, body)
      } catch (e) {
        return reply(400, errorBody(400, "x_content_parse_exception", `malformed bulk body: ${(e as Error).message}`))
      }
      if (delay.count > 0) {
        delay.count--
        setTimeout(() => reply(200, answer), delay.ms)
        return
      }
      return reply(200, answer)
    }
    if (parts.length === 1 && !parts[0].startsWith("_")) {
      const index = parts[0]
      if (method === "HEAD") return reply(indices.has(index) ? 200 : 404)
      if (method === "PUT") {
        if (indices.has(index)) {
          return reply(400, errorBody(400, "resource_already_exists_exception", `index [${index}/aAbBcC] already exists`))
        }
        if (body.trim() !== "") {
          try {
            JSON.parse(body)
          } catch {
            return reply(400, errorBody(400, "x_content_parse_exception", "the index settings and mappings are not JSON"))
          }
        }
        indices.set(index, new Map())
        mappings.set(index, body)
        return reply(200, JSON.stringify({ acknowledged: true, shards_acknowledged: true, index }))
      }
    }
    return reply(400, errorBody(400, "illegal_argument_exception", `no handler for [${method}] ${url.pathname} in the test server`))
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString("utf8")))
    req.on("error", () => undefined)
    res.on("error", () => undefined)
  }
  const server = options.tls === undefined ? http.createServer(listener) : https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener)
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  return {
    url: `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
    port,
    indices,
    requests,
    attempts,
    itemStatuses,
    bodies,
    mappings,
    docs: (index) => new Map([...(indices.get(index) ?? new Map<string, string>())].map(([id, text]) => [id, JSON.parse(text) as unknown])),
    bulkRequests: () => requests.filter((r) => r.path.endsWith("/_bulk")),
    createIndex: (index) => void (indices.has(index) || indices.set(index, new Map())),
    failNextRequests: (count, status = 429, body) => {
      for (let i = 0; i < count; i++) requestFaults.push({ status, body })
    },
    failItems: (ids, o = {}) => {
      const status = o.status ?? 429
      const { type, reason } = rejected(status)
      for (const id of ids) itemFaults.set(id, { status, type: o.type ?? type, reason: o.reason ?? reason, times: o.times ?? Infinity })
    },
    rejectItems: (predicate, o = {}) =>
      void rejections.push({
        predicate,
        fault: {
          status: o.status ?? 400,
          type: o.type ?? "document_parsing_exception",
          reason: o.reason ?? "[1:42] failed to parse field [process.pid] of type [long] in document",
          times: Infinity
        }
      }),
    delayResponses: (ms, count = Infinity) => void (delay = { ms, count }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
