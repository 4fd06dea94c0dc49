// Bundles the CLI (dist/cli/main.js, from tsc) into dist/bundle/: one module graph instead of hundreds of
// files halves start-up time (module resolution and loading dominate a short run). Dynamically imported
// libraries (the Elasticsearch client) become chunks loaded on first use; native addons stay external.
// The library export (dist/index.js) is not bundled.
import { build } from "esbuild"
import * as fs from "node:fs"

fs.rmSync("dist/bundle", { recursive: true, force: true })
await build({
  entryPoints: { sfprocessor: "dist/cli/main.js" },
  outdir: "dist/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["node-unix-socket"],
  // CommonJS dependencies call require() for Node built-ins, which an ES module does not have.
  banner: { js: "import { createRequire as __sfCreateRequire } from 'node:module'; const require = __sfCreateRequire(import.meta.url);" },
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning"
})
