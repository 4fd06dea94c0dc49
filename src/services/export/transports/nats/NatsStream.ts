/**
 * The JetStream stream the `nats` exporter publishes to and the `nats` driver reads: found, checked
 * (its subjects must capture the exporter's subject), and created by the exporter when absent.
 */
import { Effect } from "effect"
import { describeNatsError, type NatsLink } from "./NatsConnection.js"

/** Whether `subject` matches a stream subject `pattern` (`*` one token, `>` the rest). */
export const subjectMatches = (pattern: string, subject: string): boolean => {
  const p = pattern.split(".")
  const s = subject.split(".")
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false
  }
  return p.length === s.length
}

const isNotFound = (e: unknown): boolean => {
  const name = (e as { name?: string } | null)?.name ?? ""
  return name === "StreamNotFoundError" || /stream not found/i.test(String((e as { message?: string } | null)?.message ?? ""))
}

/**
 * "absent", or the stream's subjects once checked. Fails when the stream does not capture `subject`
 * (given only by the exporter: the driver reads whatever its stream holds).
 */
export const inspectStream = (link: NatsLink, stream: string, subject?: string): Effect.Effect<"absent" | ReadonlyArray<string>, string> =>
  Effect.tryPromise({ try: () => link.jsm.streams.info(stream), catch: (e) => e }).pipe(
    Effect.map((info): "absent" | ReadonlyArray<string> => info.config.subjects ?? []),
    Effect.catchAll((e) => (isNotFound(e) ? Effect.succeed("absent" as const) : Effect.fail(`stream '${stream}': ${describeNatsError(e, link.settings)}`))),
    Effect.flatMap((found) =>
      found === "absent" || subject === undefined || found.some((p) => subjectMatches(p, subject))
        ? Effect.succeed(found)
        : Effect.fail(
            `stream '${stream}' at ${link.settings.where} does not capture subject '${subject}' (its subjects: ${found.join(", ") || "none"}): add the subject to the stream, or set nats.subject to one of its subjects`
          )
    )
  )

/** Duplicate window of a stream the exporter creates: resends within it are dropped (JetStream's default). */
export const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000

/** Finds the stream, creating it (file storage, limits retention) when absent. */
export const ensureStream = (link: NatsLink, stream: string, subject: string): Effect.Effect<void, string> =>
  Effect.flatMap(inspectStream(link, stream, subject), (found) =>
    found !== "absent"
      ? Effect.void
      : Effect.tryPromise({
          try: () =>
            link.jsm.streams.add({
              name: stream,
              subjects: [subject],
              storage: link.jetstream.StorageType.File,
              retention: link.jetstream.RetentionPolicy.Limits,
              duplicate_window: DUPLICATE_WINDOW_NS
            }),
          catch: (e) => `cannot create stream '${stream}' capturing '${subject}': ${describeNatsError(e, link.settings)}`
        }).pipe(Effect.zipRight(Effect.logInfo(`Created stream '${stream}' capturing '${subject}' at ${link.settings.where}`)))
  )
