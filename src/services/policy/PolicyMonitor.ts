/**
 * The policy monitor (`monitor: local`, policy-language.md §8.6): watches exactly the file set the
 * loader loads (recursive, `.yaml` and `.yml`; Q22 fixed), waits until changes have been quiet for the
 * debounce period, and if the set's checksums changed compiles a new rule set. A set that fails to
 * compile is logged with its diagnostics and never replaces the running one (P8).
 *
 * Watching uses `fs.watch` on the policy path (recursive); a periodic checksum poll at the debounce
 * period backs it up where watch events are unreliable (network filesystems, editors that swap files).
 *
 * The current set is a `SubscriptionRef`: it starts with the set the stage loaded and is replaced by
 * every new valid set; the stage reads it at chunk boundaries, other readers may subscribe to changes.
 */
import { Context, type Duration, Effect, Layer, Option, Queue, Schedule, type Scope, SubscriptionRef } from "effect"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import { renderDiagnostic } from "../../domain/policy/Diagnostic.js"
import type { PolicyError } from "../../domain/policy/Diagnostic.js"
import { listPolicyFiles } from "./PolicyLoader.js"

export interface MonitorOptions<S> {
  readonly path: string
  /** The running set, the current value until a reload replaces it. */
  readonly initial: S
  /** Quiet period after the last change before the files are checked. */
  readonly debounce: Duration.Duration
  /** Builds a new rule set from the files as they are now. */
  readonly compile: Effect.Effect<S, PolicyError>
  /** Runs with each new valid rule set, before it becomes current. */
  readonly onNewSet: (set: S) => Effect.Effect<void>
  /** Runs when a changed set fails to compile (the running set stays). */
  readonly onFailure: Effect.Effect<void>
}

/** sha256 of every file of the loader's set, by path; undefined entries for unreadable files. */
const fingerprint = (path: string): Effect.Effect<string> =>
  listPolicyFiles(path).pipe(
    Effect.map((files) =>
      files
        .map((f) => {
          try {
            return `${f}:${createHash("sha256").update(fs.readFileSync(f)).digest("hex")}`
          } catch {
            return `${f}:unreadable`
          }
        })
        .join("\n")
    ),
    Effect.orElseSucceed(() => "no policy files")
  )

/** Starts watching in the current scope; the returned ref holds the current set. */
export const startPolicyMonitor = <S>(options: MonitorOptions<S>): Effect.Effect<SubscriptionRef.SubscriptionRef<S>, never, Scope.Scope> =>
  Effect.gen(function* () {
    const current = yield* SubscriptionRef.make(options.initial)
    let known = yield* fingerprint(options.path)
    const changes = yield* Queue.sliding<void>(1)

    // Filesystem events only wake the checker; the fingerprint decides whether anything changed.
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        try {
          return fs.watch(options.path, { recursive: true, persistent: false }, () => {
            Queue.unsafeOffer(changes, undefined)
          })
        } catch {
          return undefined
        }
      }),
      (watcher) => Effect.sync(() => watcher?.close())
    )

    const check = Effect.gen(function* () {
      const now = yield* fingerprint(options.path)
      if (now === known) return
      known = now
      yield* Effect.logInfo(`Policy files changed under ${options.path}, compiling a new rule set`)
      const compiled = yield* Effect.either(options.compile)
      if (compiled._tag === "Left") {
        for (const d of compiled.left.diagnostics) yield* Effect.logError(`Policy reload failed: ${renderDiagnostic(d)}`)
        yield* Effect.logError("Keeping the running rule set")
        yield* options.onFailure
        return
      }
      yield* options.onNewSet(compiled.right)
      yield* SubscriptionRef.set(current, compiled.right)
    })

    // Wait for a change (or the poll period), then for a quiet period, then check.
    const waitQuiet: Effect.Effect<void> = Queue.take(changes).pipe(
      Effect.timeout(options.debounce),
      Effect.flatMap(() => waitQuiet),
      Effect.catchTag("TimeoutException", () => Effect.void)
    )
    const cycle = Queue.take(changes).pipe(
      Effect.timeoutOption(options.debounce),
      Effect.flatMap((woke) => (Option.isSome(woke) ? waitQuiet : Effect.void)),
      Effect.zipRight(check)
    )
    yield* Effect.forkScoped(Effect.repeat(cycle, Schedule.forever))
    return current
  }).pipe(Effect.annotateLogs("component", "policymonitor"))

/** The policy monitor service (`monitor: local`); a test layer can replace it with its own source of sets. */
export class PolicyMonitor extends Context.Tag("sfprocessor/PolicyMonitor")<
  PolicyMonitor,
  { readonly watch: <S>(options: MonitorOptions<S>) => Effect.Effect<SubscriptionRef.SubscriptionRef<S>, never, Scope.Scope> }
>() {
  static readonly Live = Layer.succeed(PolicyMonitor, { watch: startPolicyMonitor })
}
