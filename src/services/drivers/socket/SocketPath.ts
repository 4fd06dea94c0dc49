/**
 * The socket driver's path handling (pipeline.md §10.2, P20, P25): what may be at the path, the parent
 * directory, replacing a stale socket file, and removing our own socket file at the end.
 *
 * The reference removed whatever was at the path (`os.RemoveAll`, a directory included) and created the
 * parent directory with mode 0600. sfprocessor unlinks only a socket or a regular file (decision P25); a
 * directory, a symbolic link or anything else at the path is an init error, so a mistyped path cannot
 * delete a tree.
 * Missing parent directories are created with mode 0o700; existing ones are left as they are.
 *
 * A socket file is replaced only when it is stale (issue 10 §4): unlinking a live one would leave the
 * process listening on it running, reporting healthy, and receiving nothing ever again. Before the
 * unlink (at init, and again just before listening) the driver connects to the path: when something
 * answers, it refuses to start.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { DriverError } from "../../../domain/errors.js"

const DRIVER = "socket"

/** Longest path a `sockaddr_un` holds on Linux (108 bytes including the terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107

const initError = (detail: string, cause?: unknown) =>
  new DriverError({ reason: "Init", driver: DRIVER, detail, ...(cause === undefined ? {} : { cause }) })

const kindOf = (st: fs.Stats): string =>
  st.isDirectory()
    ? "a directory"
    : st.isFile()
      ? "a regular file"
      : st.isSymbolicLink()
        ? "a symbolic link"
        : st.isFIFO()
          ? "a named pipe"
          : st.isCharacterDevice() || st.isBlockDevice()
            ? "a device"
            : "not a socket"

/** What is at the path now: nothing, or a socket or file (to be replaced). Anything else is an init error. */
export const checkSocketPath = (socketPath: string): DriverError | "absent" | "socket" | "file" => {
  if (socketPath === "") return initError("no socket path given: use -driver socket <path>")
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    return initError(`socket path ${socketPath} is too long (${Buffer.byteLength(socketPath)} bytes; a unix socket path has at most ${MAX_SOCKET_PATH_BYTES})`)
  }
  let st: fs.Stats
  try {
    st = fs.lstatSync(socketPath)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "ENOENT") return "absent"
    // ENOTDIR: a parent is a file; EACCES: we cannot look. Either way we could not listen there.
    return initError(`socket path ${socketPath}: ${(e as Error).message}`, e)
  }
  if (st.isSocket()) return "socket"
  if (st.isFile()) return "file"
  return initError(
    `socket path ${socketPath} is ${kindOf(st)}, not a socket: refusing to replace it (remove it or choose another path)`
  )
}

/**
 * Fails when a server answers at the socket file `socketPath`. The probe is a `SOCK_STREAM` connect,
 * which never reaches a live server's accept queue when the server is the collector's kind of socket:
 * * `ECONNREFUSED`: no socket is bound to the file (its process died): stale, may be replaced;
 * * `ENOENT`: the file went away meanwhile: nothing to replace;
 * * `EPROTOTYPE`: a socket of another type (another sfprocessor's `SOCK_SEQPACKET` listener) is bound
 *   there; a completed connect (a stream server), or `EAGAIN` (its backlog is full): a server is there.
 * Anything else (`EACCES`, …) means we cannot tell, so the file is not touched either.
 */
export const refuseLiveSocket = (socketPath: string): Effect.Effect<void, DriverError> =>
  Effect.async<void, DriverError>((resume) => {
    const probe = net.connect({ path: socketPath })
    const inUse = () =>
      initError(`another process is listening on ${socketPath}: refusing to replace its socket (stop that process first, or choose another path)`)
    probe.once("connect", () => {
      probe.destroy()
      resume(Effect.fail(inUse()))
    })
    probe.once("error", (e: NodeJS.ErrnoException) => {
      probe.destroy()
      switch (e.code) {
        case "ECONNREFUSED":
        case "ENOENT":
          return resume(Effect.void)
        case "EPROTOTYPE":
        case "EAGAIN":
          return resume(Effect.fail(inUse()))
        default:
          return resume(
            Effect.fail(initError(`cannot tell whether another process is listening on ${socketPath} (${e.message}): refusing to replace it`, e))
          )
      }
    })
    return Effect.sync(() => probe.destroy())
  })

/**
 * Prepares the path for `listen`: creates missing parent directories (0o700) and unlinks a stale socket
 * file (after checking that no server answers there). Fails when the path holds something else.
 */
export const prepareSocketPath = (socketPath: string): Effect.Effect<void, DriverError> =>
  Effect.gen(function* () {
    const state = checkSocketPath(socketPath)
    if (state instanceof DriverError) return yield* state
    const dir = path.dirname(socketPath)
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (e) {
      return yield* initError(`cannot create the socket directory ${dir}: ${(e as Error).message}`, e)
    }
    if (state === "absent") return
    if (state === "socket") yield* refuseLiveSocket(socketPath)
    try {
      fs.unlinkSync(socketPath)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        return yield* initError(`cannot remove the stale ${state} ${socketPath}: ${(e as Error).message}`, e)
      }
    }
  })

/** Identity of the socket file we created, so that cleanup never removes someone else's file. */
export interface SocketFileId {
  readonly dev: number
  readonly ino: number
}

export const socketFileId = (socketPath: string): SocketFileId | undefined => {
  try {
    const st = fs.lstatSync(socketPath)
    return st.isSocket() ? { dev: st.dev, ino: st.ino } : undefined
  } catch {
    return undefined
  }
}

/** Unlinks the socket file if it is still the one we created. */
export const removeSocketFile = (socketPath: string, id: SocketFileId | undefined): void => {
  if (id === undefined) return
  const now = socketFileId(socketPath)
  if (now === undefined || now.dev !== id.dev || now.ino !== id.ino) return
  try {
    fs.unlinkSync(socketPath)
  } catch {
    // Already gone, or the directory became unwritable: nothing more to do at shutdown.
  }
}
