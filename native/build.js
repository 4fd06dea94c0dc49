// The package's install script: builds the socket driver's native reader (native/seqpacket.c, binding.gyp)
// into build/Release/sf_seqpacket.node with node-gyp. A failed build does not fail the install: the socket
// driver then reads with node-unix-socket (slower) and says so when it starts. `node native/build.js`
// builds it again (e.g. after installing a compiler). Needs python3, make and a C compiler, and Node's
// headers (npm's `nodedir`, or node-gyp downloads them).
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const FALLBACK = "the socket driver will read with node-unix-socket (slower); `node native/build.js` tries again"

const build = () => {
  if (process.platform !== "linux") return { ok: false, why: "it is for Linux only" }
  // npm runs install scripts with its own node-gyp at hand; run by hand, node-gyp must be on the PATH.
  const gyp = process.env.npm_config_node_gyp
  const [command, args] = gyp !== undefined && fs.existsSync(gyp) ? [process.execPath, [gyp, "rebuild"]] : ["node-gyp", ["rebuild"]]
  const r = spawnSync(command, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 })
  if (r.error !== undefined) return { ok: false, why: `${command}: ${r.error.message}` }
  if (r.status !== 0) {
    const output = `${r.stdout}${r.stderr}`.trim().split("\n")
    return { ok: false, why: `node-gyp rebuild exited ${r.status ?? r.signal}`, output: output.slice(-15).join("\n") }
  }
  return { ok: fs.existsSync(path.join(root, "build", "Release", "sf_seqpacket.node")), why: "node-gyp made no build/Release/sf_seqpacket.node" }
}

const result = build()
if (result.ok) {
  console.log("sfprocessor: built the native socket reader (build/Release/sf_seqpacket.node)")
} else {
  if (result.output !== undefined) console.log(result.output)
  console.log(`sfprocessor: the native socket reader was not built (${result.why}): ${FALLBACK}`)
}
