/**
 * `-cpuprofile`, `-traceprofile` and `-memprofile` (pipeline.md §1) as one scoped resource. Acquiring it
 * creates every requested file up front (the reference's `os.Create`; failure → exit 1) and starts the
 * profilers; releasing it writes the heap snapshot, then stops tracing and CPU profiling and writes them,
 * the reference's order (memory profile first, deferred stops after).
 *
 * * CPU: `node:inspector` `Profiler` → a `.cpuprofile` JSON (Chrome DevTools format).
 * * Trace: the `NodeTracing` inspector domain, Node's trace_events categories `v8,node` → a Chrome trace
 *   JSON (`{"traceEvents":[…]}`) written to the file itself. `node:trace_events` can only write
 *   `node_trace.<n>.log` in the working directory when the process exits, too late to copy.
 * * Memory: `v8.writeHeapSnapshot` → a `.heapsnapshot` JSON.
 */
import { Data, Effect, Layer, type Scope } from "effect"
import * as fs from "node:fs"
import { Session } from "node:inspector/promises"
import * as path from "node:path"
import * as v8 from "node:v8"
import { errorText } from "../domain/errors.js"

/** The profile flags; `""` means not requested (`CliArgs` fits as is). */
export interface ProfileFiles {
  readonly cpuprofile: string
  readonly memprofile: string
  readonly traceprofile: string
}

/** A profile that cannot be created or started; `message` is the reference's log text. */
export class ProfileError extends Data.TaggedError("ProfileError")<{ readonly message: string }> {}


const fail = (what: string) => (e: unknown) => new ProfileError({ message: `${what}:  ${errorText(e)}` })

/** Opens (creating or truncating) a profile file for the whole run. */
const createFile = (file: string, kind: string): Effect.Effect<number, ProfileError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.try({ try: () => fs.openSync(file, "w"), catch: fail(`Could not create ${kind} profile`) }),
    (fd) => Effect.sync(() => fs.closeSync(fd))
  )

/** Finalizers cannot fail: a profile that cannot be written is logged as the reference does. */
const finish = (what: string, write: () => Promise<void>): Effect.Effect<void> =>
  Effect.tryPromise(write).pipe(Effect.catchAll((e) => Effect.logError(`${what}: `, errorText(e.error))))

/** A connected inspector session on which `start` succeeded. */
const startSession = async (start: (session: Session) => Promise<unknown>): Promise<Session> => {
  const session = new Session()
  session.connect()
  try {
    await start(session)
    return session
  } catch (e) {
    session.disconnect()
    throw e
  }
}

const cpuProfile = (file: string): Effect.Effect<void, ProfileError, Scope.Scope> =>
  Effect.flatMap(createFile(file, "CPU"), (fd) =>
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => startSession((session) => session.post("Profiler.enable").then(() => session.post("Profiler.start"))),
        catch: fail("Could not start CPU profiling")
      }),
      (session) =>
        finish("Could not write CPU profile", async () => {
          const { profile } = await session.post("Profiler.stop")
          session.disconnect()
          fs.writeFileSync(fd, JSON.stringify(profile))
        })
    )
  )

const traceProfile = (file: string): Effect.Effect<void, ProfileError, Scope.Scope> =>
  Effect.flatMap(createFile(file, "trace"), (fd) =>
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          startSession((session) => {
            // Events go to the file as Node hands them over, so a long run is not held in memory.
            let separator = ""
            fs.writeSync(fd, '{"traceEvents":[')
            session.on("NodeTracing.dataCollected", ({ params }) => {
              if (params.value.length === 0) return
              fs.writeSync(fd, separator + params.value.map((event) => JSON.stringify(event)).join(","))
              separator = ","
            })
            return session.post("NodeTracing.start", { traceConfig: { includedCategories: ["v8", "node"] } })
          }),
        catch: fail("Could not start trace profiling")
      }),
      (session) =>
        finish("Could not write trace profile", async () => {
          const complete = new Promise((resolve) => session.once("NodeTracing.tracingComplete", resolve))
          await session.post("NodeTracing.stop")
          await complete
          session.disconnect()
          fs.writeSync(fd, "]}\n")
        })
    )
  )

const heapProfile = (file: string): Effect.Effect<void, ProfileError, Scope.Scope> => {
  // Resolved now: the snapshot is written by path at the end, whatever the working directory is then.
  const target = path.resolve(file)
  return Effect.try({
    try: () => fs.closeSync(fs.openSync(target, "w")),
    catch: fail("Could not create memory profile")
  }).pipe(
    Effect.zipRight(
      Effect.addFinalizer(() =>
        finish("Could not write memory profile", async () => {
          v8.writeHeapSnapshot(target)
        })
      )
    )
  )
}

/** Starts the requested profiles in the current scope; closing the scope writes them. */
export const startProfiling = (files: ProfileFiles): Effect.Effect<void, ProfileError, Scope.Scope> =>
  Effect.gen(function* () {
    if (files.cpuprofile !== "") yield* cpuProfile(files.cpuprofile)
    if (files.traceprofile !== "") yield* traceProfile(files.traceprofile)
    if (files.memprofile !== "") yield* heapProfile(files.memprofile)
  })

export const ProfilingLive = (files: ProfileFiles): Layer.Layer<never, ProfileError> =>
  Layer.scopedDiscard(startProfiling(files))
