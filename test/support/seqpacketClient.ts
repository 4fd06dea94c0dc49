/**
 * A real SOCK_SEQPACKET collector for tests (node-unix-socket's `SeqpacketSocket`): connects to the
 * socket driver, sends packets (one Avro datum each, as sf-collector does) and ends the stream.
 */
import * as fs from "node:fs"
import { SeqpacketSocket } from "node-unix-socket"

export interface Collector {
  /** Queues packets; resolves when the last one was handed to the kernel, or the connection closed. */
  readonly send: (packets: ReadonlyArray<Uint8Array>) => Promise<void>
  /** Half-closes after everything queued is written (the server sees EOF); resolves when done. */
  readonly end: () => Promise<void>
  /** Closes at once. */
  readonly destroy: () => void
  /** Errors the socket reported (e.g. EPIPE after the server closed the connection). */
  readonly errors: ReadonlyArray<Error>
  /** Resolves when the server side closed the connection. */
  readonly closed: Promise<void>
}

/**
 * Waits until `path` is a socket (the server is listening). `replacing`: the inode of a stale socket
 * file that is there before the server starts; waits until it has been replaced.
 */
export const waitForSocket = async (path: string, timeoutMs = 15_000, replacing?: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const st = fs.lstatSync(path)
      if (st.isSocket() && st.ino !== replacing) return
    } catch {
      // Not there yet.
    }
    if (Date.now() > deadline) throw new Error(`no socket appeared at ${path} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const connectCollector = (path: string): Promise<Collector> =>
  new Promise((resolve, reject) => {
    const socket = new SeqpacketSocket()
    const errors: Error[] = []
    let connected = false
    let onClosed: () => void = () => {}
    const closed = new Promise<void>((r) => (onClosed = r))
    socket.on("error", (e: Error) => {
      errors.push(e)
      if (!connected) reject(e)
    })
    socket.on("close", () => onClosed())
    // The server closing its side shows as 'end' here; close ours too.
    socket.on("end", () => socket.destroy())
    try {
      socket.connect(path, () => {
        connected = true
        resolve({
          // Also done when the server closes the connection first: writes queued after that never complete.
          send: (packets) =>
            Promise.race([
              closed,
              new Promise<void>((done) => {
                if (packets.length === 0) return done()
                for (let i = 0; i < packets.length; i++) {
                  const p = Buffer.isBuffer(packets[i]) ? (packets[i] as Buffer) : Buffer.from(packets[i])
                  if (i === packets.length - 1) socket.write(p, 0, p.length, () => done())
                  else socket.write(p, 0, p.length)
                }
              })
            ]),
          end: () => new Promise<void>((done) => socket.end(() => done())),
          destroy: () => socket.destroy(),
          errors,
          closed
        })
      })
    } catch (e) {
      reject(e as Error)
    }
  })

/** Connects, sends every packet, ends the stream, and waits until the server closed the connection. */
export const collect = async (path: string, packets: ReadonlyArray<Uint8Array>): Promise<void> => {
  const c = await connectCollector(path)
  await c.send(packets)
  await c.end()
  await c.closed
}
