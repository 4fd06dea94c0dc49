// Bundles the CLI (dist/cli/main.js, from tsc) into dist/bundle/sfprocessor.cjs and makes V8's cache of its
// compiled code (sfprocessor.cjs.cache), which bin/sfprocessor.js hands to V8. One module graph instead of
// hundreds of files halves start-up time (module resolution and loading dominate a short run); the code
// cache then saves most of compiling it. The bundle is CommonJS because only a script (not an ES module)
// takes a code cache in Node 20. Dependencies loaded on first use (the Elasticsearch and NATS clients) and
// native addons stay external, imported from node_modules (src/services/importModule.ts). The library
// export (dist/index.js) is not bundled.
import { spawnSync } from "node:child_process"
import { build } from "esbuild"
import * as fs from "node:fs"

fs.rmSync("dist/bundle", { recursive: true, force: true })
await build({
  entryPoints: ["dist/cli/main.js"],
  outfile: "dist/bundle/sfprocessor.cjs",
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  external: ["node-unix-socket", "@elastic/elasticsearch", "@nats-io/*"],
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  // importModule.ts reads import.meta.resolve only outside the bundle (bin/sfprocessor.js provides it).
  logOverride: { "empty-import-meta": "silent" }
})

// The cache is written at the end of a run of the default job (README): it then holds the code of the
// start-up and of a whole file run (reader, flattener, policy engine, JSON encoder), already compiled.
const sample = spawnSync(
  process.execPath,
  ["bin/sfprocessor.js", "-log", "error", "-config", "resources/pipelines/pipeline.alerts.json", "-driver", "file", "resources/traces/sample.sf"],
  { env: { ...process.env, SF_CODE_CACHE: "write" }, stdio: ["ignore", "ignore", "inherit"] }
)
if (sample.status !== 0) throw new Error(`the sample run that makes the code cache failed (exit ${sample.status ?? sample.signal})`)
