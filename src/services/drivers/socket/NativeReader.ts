/**
 * The native socket reader (native/seqpacket.c, issue 15): where its `.node` file is, loading it, and the
 * choice between it and node-unix-socket.
 *
 * `node native/build.js` (the package's install script) builds it into `build/Release/` of the package
 * with node-gyp; where that failed (no compiler), the socket driver reads with node-unix-socket instead and
 * says so in one line. `SF_SOCKET_READER` chooses: `native` (fail if it is not built), `js`
 * (node-unix-socket), or unset/`auto` (native when built).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The addon's functions (native/seqpacket.c). Descriptors are plain numbers; errors are thrown. */
export interface SeqpacketAddon {
  /** A non-blocking SOCK_SEQPACKET listener bound to `path`. */
  listen(path: string, backlog: number): number
  /** A new non-blocking connection, or -1 when none is waiting. */
  accept(fd: number): number
  eventfd(): number
  wake(fd: number): void
  drain(fd: number): void
  /** poll(2) of `count` descriptors; `revents` receives what happened to each. */
  poll(fds: Int32Array, events: Int32Array, revents: Int32Array, count: number, timeoutMs: number): number
  /** Reads packets into `bytes`/`lengths` from the cursor `at` (HandOver.ts `Conn.at`); a `RECV` status. */
  recv(fd: number, bytes: Uint8Array, lengths: Uint32Array, at: Int32Array, maxPacket: number): number
  close(fd: number): void
}

/** The addon's target name (binding.gyp). */
const ADDON = "sf_seqpacket"

/** `SF_SOCKET_READER`'s values. */
export type ReaderChoice = "auto" | "native" | "js"

export const READER_VARIABLE = "SF_SOCKET_READER"

/** `SF_SOCKET_READER` as a choice, or an error message for another value. */
export const readerChoice = (value: string | undefined): ReaderChoice | { readonly error: string } =>
  value === undefined || value === "" || value === "auto" || value === "native" || value === "js"
    ? ((value === undefined || value === "" ? "auto" : value) as ReaderChoice)
    : { error: `${READER_VARIABLE}=${value}: expected native, js or auto` }

/** The file of this code: a module (ES module) or the CLI bundle (CommonJS, which has `__filename`). */
const thisFile = (): string => (typeof __filename === "string" ? __filename : fileURLToPath(import.meta.url))

/** The package's root: the nearest directory above this code that holds binding.gyp. */
const packageRoot = (): string | undefined => {
  for (let dir = path.dirname(thisFile()); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "binding.gyp"))) return dir
    if (path.dirname(dir) === dir) return undefined
  }
}

/** The native reader, loaded in this thread (the main thread wakes the reader through it). */
export interface NativeReader {
  /** The `.node` file, for the reader thread to load. */
  readonly file: string
  readonly addon: SeqpacketAddon
}

let loaded: NativeReader | { readonly unavailable: string } | undefined

/** The native reader, or why it cannot be used (loaded once per process). */
export const loadNativeReader = (): NativeReader | { readonly unavailable: string } => {
  if (loaded !== undefined) return loaded
  if (process.platform !== "linux") return (loaded = { unavailable: "it is built for Linux only" })
  const root = packageRoot()
  if (root === undefined) return (loaded = { unavailable: "binding.gyp not found above the program" })
  const file = path.join(root, "build", "Release", `${ADDON}.node`)
  if (!fs.existsSync(file)) {
    return (loaded = { unavailable: `${path.relative(root, file)} is not built: \`node native/build.js\` in ${root} builds it` })
  }
  try {
    const module = { exports: {} as SeqpacketAddon }
    process.dlopen(module, file)
    return (loaded = { file, addon: module.exports })
  } catch (e) {
    return (loaded = { unavailable: `${file} does not load: ${(e as Error).message}` })
  }
}
