// Loaded with `node --import` into each benchmarked process: writes its own CPU time and peak RSS
// (the OS's accounting, as /usr/bin/time reports it) to BENCH_USAGE_FILE when it exits.
import * as fs from "node:fs"
import { isMainThread } from "node:worker_threads"

const target = process.env.BENCH_USAGE_FILE
const started = process.hrtime.bigint()
// File workers (docs/parallel.md) load this too: only the main thread reports (the OS counts every thread).
if (target && isMainThread) {
  process.on("exit", () => {
    const u = process.resourceUsage()
    fs.writeFileSync(
      target,
      JSON.stringify({
        wallMs: Number(process.hrtime.bigint() - started) / 1e6,
        userMs: u.userCPUTime / 1000,
        systemMs: u.systemCPUTime / 1000,
        maxRssKiB: u.maxRSS
      })
    )
  })
}
