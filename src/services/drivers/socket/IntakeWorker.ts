/**
 * The socket driver's reader thread with node-unix-socket (issue 15; P21, P22, P28): the fallback when the
 * native reader (NativeIntakeWorker.ts) is not built, or `SF_SOCKET_READER=js`. A worker that owns the
 * SOCK_SEQPACKET listener and the collector connections, reads their packets (one JavaScript callback per
 * packet: about 80,000 packets/s at most) and hands them to the driver in packed batches (HandOver.ts), so
 * that reading the socket overlaps decoding and evaluating on the main thread, and so that the collector
 * can be made to wait.
 *
 * * **Backpressure (P21).** node-unix-socket cannot pause reading, but a thread that blocks does not read
 *   (HandOver.ts).
 * * **Waiting collectors (P22).** The library reads every connection it accepted; what waiting ones send
 *   is kept up to half the bounds, then dropped and counted (HandOver.ts).
 * * **Batches.** Packets are batched by what arrived and by how far the driver is: once the library's
 *   read callback for the socket has run (a `setImmediate` after the first packet), what arrived is
 *   handed over at once if the driver has taken everything handed over before; otherwise the worker keeps
 *   reading and hands it all over when the driver next takes packets (`Atomics.waitAsync` on the flow
 *   state), or when it reaches `FLUSH_BYTES`. So a single packet on a quiet socket goes out alone, at
 *   once, and under load batches (and the driver's chunks) grow instead of the driver paying for many
 *   small ones. No timer is involved.
 * * **Truncation (P28).** A packet that fills the read buffer is reported, not handed over.
 *
 * The worker runs from source text (`new Worker(text, { eval: true })`), so the same code serves the CLI
 * bundle, the library and the tests: `intakeWorkerMain` must not use anything from outside its own body
 * and its argument.
 */
import { type Conn, intakeHandOver } from "./HandOver.js"
import type { IntakeCommand, IntakeWorkerData } from "./IntakeProtocol.js"

/** `Atomics.waitAsync` (V8 has it; TypeScript's lib for our target does not declare it). */
interface AtomicsWaitAsync {
  waitAsync(a: Int32Array, index: number, value: number): { readonly async: boolean; readonly value: Promise<string> | string }
}

/** The worker's body (runs in the worker, from its source text). */
export function intakeWorkerMain(makeHandOver: typeof intakeHandOver): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require("node:worker_threads") as typeof import("node:worker_threads")
  const data = workerData as IntakeWorkerData
  const { SeqpacketServer } = require(data.module) as typeof import("node-unix-socket")
  const h = makeHandOver(parentPort!, data)
  const flow = h.flow
  const { taken: TAKEN } = data.slots

  let server: import("node-unix-socket").SeqpacketServer | undefined
  const sockets = new Map<Conn, import("node-unix-socket").SeqpacketSocket>()
  let flushScheduled = false
  let waitingForTake = false
  let stopping = false

  const flushAll = () => {
    flushScheduled = false
    // The driver still holds packets of the served side (waiting collectors' are not its to take yet):
    // hand over when it takes them, with whatever arrived meanwhile.
    const taken = Atomics.load(flow, TAKEN)
    if (!stopping && h.driverHolds()) {
      if (!waitingForTake) {
        waitingForTake = true
        const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(flow, TAKEN, taken)
        const resume = () => {
          waitingForTake = false
          flushAll()
        }
        if (typeof w.value === "string") resume()
        else void w.value.then(resume)
      }
      return
    }
    h.flushAll()
  }

  const scheduleFlush = () => {
    if (flushScheduled) return
    flushScheduled = true
    setImmediate(flushAll)
  }

  const onData = (c: Conn, buf: Buffer) => {
    if (c.ended) return
    if (buf.length >= data.readBufferSize) {
      h.post({ t: "truncated", id: c.id, size: buf.length })
      return
    }
    if (!h.admits(c, buf.length)) {
      c.dropped++
      scheduleFlush()
      return
    }
    h.append(c, buf)
    if (h.full(c)) h.flush(c)
    else scheduleFlush()
  }

  const end = (c: Conn, reason: string) => {
    if (!h.end(c, reason)) return
    const socket = sockets.get(c)
    sockets.delete(c)
    // Destroying a socket inside its own callbacks crashes the library: later.
    setImmediate(() => {
      try {
        socket?.destroy()
      } catch {
        // Already destroyed.
      }
    })
  }

  const stop = () => {
    if (stopping) return
    stopping = true
    try {
      server?.close()
    } catch {
      // Already closed.
    }
    for (const c of [...h.conns]) end(c, "stopped")
    h.post({ t: "stopped" })
  }

  const listen = () => {
    try {
      server = new SeqpacketServer()
      server.listen(data.socketPath, data.backlog)
    } catch (e) {
      try {
        server?.close()
      } catch {
        // Never listened.
      }
      server = undefined
      return h.listened((e as Error).message)
    }
    h.listened()
    server.on("error", (e: Error) => h.post({ t: "serverError", message: e.message }))
    server.on("connection", (socket) => {
      if (stopping) {
        socket.on("error", () => {})
        setImmediate(() => socket.destroy())
        return
      }
      if (h.conns.length > data.maxWaiting) {
        socket.on("error", () => {})
        setImmediate(() => socket.destroy())
        h.post({ t: "refused", waiting: h.conns.length })
        return
      }
      socket.setInternalReadBufferSize(data.readBufferSize)
      const c = h.add()
      sockets.set(c, socket)
      socket.on("data", (buf: Buffer) => onData(c, buf))
      socket.on("end", () => end(c, "end of stream"))
      socket.on("error", (e: Error) => end(c, `read error: ${e.message}`))
      socket.on("close", () => end(c, "connection closed"))
    })
  }

  parentPort!.on("message", (m: IntakeCommand) => {
    if (m.t === "listen") listen()
    else stop()
  })
  h.post({ t: "ready" })
}

/** The worker's source text. */
export const intakeWorkerSource = (): string => `(${intakeWorkerMain.toString()})(${intakeHandOver.toString()})`
