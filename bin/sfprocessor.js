#!/usr/bin/env node
// Runs the CLI bundle (dist/bundle/sfprocessor.cjs) with V8's cache of its compiled code, made at build time
// (scripts/bundle.js): compiling the 2-MB bundle was about 40% of start-up. V8 takes the cache only if it
// fits this Node build, these V8 flags and this source; otherwise it compiles the bundle as usual.
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { isMainThread } from "node:worker_threads"

// Between major GCs V8 lets the old generation grow up to 4x its live size while allocation is fast, as it
// is here; a processor running beside the workloads it watches should stay smaller. Capping growth at 2x
// keeps peak RSS about a fifth lower for a few percent of time (docs/performance.md). A value given on
// node's command line (`node --heap-growing-percent=N`) wins. Set before compiling: the cache records the
// flags it was made with.
const HEAP_GROWING = "--heap-growing-percent"
if (!process.execArgv.some((a) => a.startsWith(HEAP_GROWING))) v8.setFlagsFromString(`${HEAP_GROWING}=100`)

const file = fileURLToPath(new URL("../dist/bundle/sfprocessor.cjs", import.meta.url))
const cacheFile = `${file}.cache`
const readCache = () => {
  try {
    return fs.readFileSync(cacheFile)
  } catch {
    return undefined
  }
}
const cachedData = readCache()
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, "utf8")}\n})`, {
  filename: file,
  cachedData
})
// A script made from a code cache has lost Node's callback for its own import(): it imports through this
// module's (src/services/importModule.ts). Bare names resolve from here, as from the bundle beside it.
globalThis[Symbol.for("sfprocessor.import")] = (specifier) => import(specifier)
const require = createRequire(file)
globalThis[Symbol.for("sfprocessor.resolve")] = (specifier) => require.resolve(specifier)
// File workers (docs/parallel.md) run this script too, so they start from the same code cache.
globalThis[Symbol.for("sfprocessor.entry")] = fileURLToPath(import.meta.url)
// The build writes the cache at the end of a sample run, when the run's code is compiled.
if (process.env.SF_CODE_CACHE === "write" && isMainThread) process.once("exit", () => fs.writeFileSync(cacheFile, script.createCachedData()))
if (process.env.SF_CODE_CACHE === "debug") process.stderr.write(`code cache: ${cachedData === undefined ? "absent" : script.cachedDataRejected ? "rejected" : "used"}\n`)
const module = { exports: {} }
script.runInThisContext().call(module.exports, module.exports, require, module, file, path.dirname(file))
