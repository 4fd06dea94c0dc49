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
import { Flag, NonEmptyText, OneOf, withDefault } from "../../domain/configValues.js"
import type { PipelineConfigError } from "../../domain/errors.js"
import { decodeAttributes, keyError } from "../kernel/AttributeDecoder.js"

const VaultKeys = {
  "vault.secrets": withDefault(Flag, false),
  "vault.path": withDefault(NonEmptyText, "/run/secrets"),
  "vault.encoding": withDefault(OneOf(["none", "base64"]), "none")
}

/**
 * The secret `key`, or undefined when it is not set. `optional`: a vault without the key's file (or no
 * vault directory) means the key is not set (NATS, where every secret is optional); otherwise a missing
 * file or directory is an error.
 */
export const readSecret = (
  attrs: Readonly<Record<string, unknown>>,
  key: string,
  options: { readonly optional?: boolean } = {}
): Effect.Effect<string | undefined, PipelineConfigError> =>
  Effect.gen(function* () {
    // The secret's own value is never decoded with the others: an error would show it.
    const own = attrs[key]
    if (typeof own === "string" && own !== "") return own
    const vault = yield* decodeAttributes("exporter", VaultKeys, attrs)
    if (!vault["vault.secrets"]) return undefined
    const dir = vault["vault.path"]
    if (options.optional !== true) {
      const st = yield* Effect.tryPromise(() => fs.stat(dir)).pipe(Effect.catchAll(() => keyError("exporter", attrs, "vault.path", "not found", dir)))
      if (!st.isDirectory()) return yield* keyError("exporter", attrs, "vault.path", "is not a directory", dir)
    }
    const file = path.join(dir, key)
    const text = yield* Effect.tryPromise(() => fs.readFile(file, "utf8")).pipe(
      Effect.catchAll((e) => {
        const code = (e.error as NodeJS.ErrnoException).code
        return options.optional === true && (code === "ENOENT" || code === "ENOTDIR")
          ? Effect.succeed(undefined)
          : keyError("exporter", attrs, "vault.path", `cannot read secret '${key}' from ${file}: ${code ?? "error"}`, dir)
      })
    )
    if (text === undefined) return undefined
    return vault["vault.encoding"] === "base64" ? Buffer.from(text.trim(), "base64").toString("utf8").trim() : text.trim()
  })
