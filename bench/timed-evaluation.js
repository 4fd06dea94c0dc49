// Times only `evaluate` of a compiled rule set over every record of a trace (a file or a directory),
// reading and flattening chunk by chunk outside the timed part. Shared by the policy and Sigma benches.
import { Effect, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { evaluate, readTraceRecords } from "../dist/index.js"

/**
 * { records, matched, seconds, cpuSeconds } of evaluating `set` over `trace` (wall time, and the process's
 * CPU time, which moves less on a loaded machine). `inspect(chunk)`, when given, runs after each chunk's
 * timed evaluation, outside the timed part.
 */
export const timedEvaluation = async (set, trace, inspect) => {
  let records = 0
  let matched = 0
  let ns = 0n
  let cpuMicros = 0
  const files = fs.statSync(trace).isDirectory() ? fs.readdirSync(trace).sort().map((n) => path.join(trace, n)) : [trace]
  await Effect.runPromise(
    Stream.fromIterable(files).pipe(
      Stream.flatMap((f) => readTraceRecords(f)),
      Stream.runForEach((chunk) =>
        Effect.sync(() => {
          const t0 = process.hrtime.bigint()
          const c0 = process.cpuUsage()
          for (const r of chunk) if (evaluate(set, r).matches.length > 0) matched++
          const c = process.cpuUsage(c0)
          ns += process.hrtime.bigint() - t0
          cpuMicros += c.user + c.system
          records += chunk.length
          inspect?.(chunk)
        })
      )
    )
  )
  return { records, matched, seconds: Number(ns) / 1e9, cpuSeconds: cpuMicros / 1e6 }
}
