/**
 * Secrets of the exporter (`es.username`, `es.password`, `findings.apikey`): the key's own value (from
 * the config file or its environment override, e.g. `EXPORTER_ES_PASSWORD`), else, with
 * `vault.secrets: true`, the file named after the key in `vault.path` (default `/run/secrets`),
 * surrounding whitespace trimmed, base64-decoded with `vault.encoding: base64` (pipeline.md §11.1).
 *
 * Secret values are never logged: errors name the key and the file, not the content.
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { PipelineConfigError } from "../../domain/errors.js"

const fail = (detail: string) => new PipelineConfigError({ reason: "Attribute", detail: `exporter: ${detail}` })

export const readSecret = (
  attrs: Readonly<Record<string, unknown>>,
  key: string
): Effect.Effect<string | undefined, PipelineConfigError> =>
  Effect.gen(function* () {
    const own = attrs[key]
    if (typeof own === "string" && own !== "") return own
    const enabled = attrs["vault.secrets"]
    if (enabled !== "true" && enabled !== true) return undefined
    const dir = typeof attrs["vault.path"] === "string" ? (attrs["vault.path"] as string) : "/run/secrets"
    const st = yield* Effect.tryPromise({
      try: () => fs.stat(dir),
      catch: () => fail(`vault.path ${dir} not found`)
    })
    if (!st.isDirectory()) return yield* fail(`vault.path ${dir} is not a directory`)
    const file = path.join(dir, key)
    const text = yield* Effect.tryPromise({
      try: () => fs.readFile(file, "utf8"),
      catch: (e) => fail(`cannot read secret '${key}' from ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`)
    })
    const encoding = attrs["vault.encoding"] ?? "none"
    if (encoding === "base64") return Buffer.from(text.trim(), "base64").toString("utf8").trim()
    if (encoding !== "none") return yield* fail(`vault.encoding must be none or base64, got '${String(encoding)}'`)
    return text.trim()
  })
