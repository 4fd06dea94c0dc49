import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/support/hashingReady.ts", "test/support/tempDirs.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Test files share their fork's module graph (isolate: false): importing Effect and our modules
    // again for every file was 98 s of the suite's collection time (now 12 s; the suite 254 → 212 s).
    // So a test must not depend on module-level state another file leaves (Effect's metrics, for one,
    // are process-wide): in-process tests read their own channels and captures, not global counters.
    poolOptions: { forks: { maxForks: 2, minForks: 1, isolate: false } }
  }
})
