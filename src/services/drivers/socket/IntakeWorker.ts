/**
 * The socket driver's reader thread (issue 15; P21, P22, P28): a worker that owns the SOCK_SEQPACKET
 * listener and the collector connections, reads their packets, and hands them to the driver in packed
 * batches (one transferred buffer of bytes and one of lengths per batch), so that reading the socket
 * overlaps decoding and evaluating on the main thread, and so that the collector can be made to wait.
 *
 * * **Backpressure (P21).** node-unix-socket cannot pause reading, but a thread that blocks does not read:
 *   while the packets handed over and not yet taken by the driver reach `maxRecords` or `maxBytes`, the
 *   worker waits (`Atomics.wait` on the shared flow counters, which the driver lowers as it takes
 *   packets). The kernel's socket buffer then fills and the collector blocks in `send()`, as with the
 *   reference. Nothing of the served stream is dropped.
 * * **Waiting collectors (P22).** Only the oldest open connection is served; later ones are read too (the
 *   library reads every connection it accepted), and what they send is kept up to half the bounds, then
 *   dropped and counted: blocking for them would also stop reading the served stream, whose end the driver
 *   waits for before it turns to them.
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
 * bundle, the library and the tests: `intakeWorkerMain` must not use anything from outside its own body.
 */

/** Shared flow state: Int32 slots of `workerData.flow`. */
export const Flow = {
  /** Packets handed to the driver and not yet taken. */
  packets: 0,
  /** Bytes of those packets. */
  bytes: 1,
  /** Set to 1 by the driver to stop the worker (it is woken if it waits). */
  stop: 2,
  /** Bumped (and notified) by the driver each time it takes packets: the worker waits on this slot. */
  taken: 3,
  /** Set by the worker once it listened: 1, or 2 when listening failed. */
  listened: 4
} as const
export const FLOW_SLOTS = 5

export interface IntakeWorkerData {
  /** node-unix-socket's resolved entry point (the worker runs from text, with no module path of its own). */
  readonly module: string
  readonly socketPath: string
  readonly backlog: number
  readonly readBufferSize: number
  readonly maxRecords: number
  readonly maxBytes: number
  readonly maxWaiting: number
  readonly flow: SharedArrayBuffer
  /** The slots of `flow` (`Flow`: the body cannot see this module's constants). */
  readonly slots: typeof Flow
  /** `FLUSH_BYTES`. */
  readonly flushBytes: number
}

/** Messages from the worker to the driver. */
export type IntakeMessage =
  | { readonly t: "ready" }
  | { readonly t: "listenError"; readonly message: string }
  | { readonly t: "connection"; readonly id: number; readonly waiting: number }
  | { readonly t: "refused"; readonly waiting: number }
  | { readonly t: "data"; readonly id: number; readonly bytes: ArrayBuffer; readonly lengths: ArrayBuffer }
  | { readonly t: "truncated"; readonly id: number; readonly size: number }
  | { readonly t: "dropped"; readonly id: number; readonly count: number }
  | { readonly t: "end"; readonly id: number; readonly reason: string }
  | { readonly t: "serverError"; readonly message: string }
  | { readonly t: "stopped" }

/** Messages from the driver to the worker. */
export type IntakeCommand = { readonly t: "listen" } | { readonly t: "stop" }

/** `Atomics.waitAsync` (V8 has it; TypeScript's lib for our target does not declare it). */
interface AtomicsWaitAsync {
  waitAsync(a: Int32Array, index: number, value: number): { readonly async: boolean; readonly value: Promise<string> | string }
}

/** A batch is handed over once it holds this many bytes, even while the socket has more. */
export const FLUSH_BYTES = 256 * 1024

/** The worker's body (runs in the worker, from its source text). */
export function intakeWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require("node:worker_threads") as typeof import("node:worker_threads")
  const data = workerData as IntakeWorkerData
  const { SeqpacketServer } = require(data.module) as typeof import("node-unix-socket")
  const port = parentPort!
  const flow = new Int32Array(data.flow)
  const { packets: PACKETS, bytes: BYTES, stop: STOP, taken: TAKEN, listened: LISTENED } = data.slots

  interface Conn {
    readonly id: number
    readonly socket: import("node-unix-socket").SeqpacketSocket
    chunks: Buffer[]
    lengths: number[]
    size: number
    ended: boolean
    /** Packets and bytes handed over while this connection waited (counted against the waiting bound). */
    waitingPackets: number
    waitingBytes: number
    dropped: number
  }

  let server: import("node-unix-socket").SeqpacketServer | undefined
  const conns: Conn[] = []
  let nextId = 1
  let waitingPackets = 0
  let waitingBytes = 0
  let flushScheduled = false
  let waitingForTake = false
  let stopping = false

  const post = (m: IntakeMessage, transfer?: ReadonlyArray<ArrayBuffer>) => port.postMessage(m, transfer as ArrayBuffer[] | undefined)
  const served = (c: Conn) => conns[0] === c

  /** Waits while the driver holds as much as it may; the served stream then waits in the kernel's buffer. */
  const waitForRoom = () => {
    while (
      Atomics.load(flow, STOP) === 0 &&
      (Atomics.load(flow, PACKETS) >= data.maxRecords || Atomics.load(flow, BYTES) >= data.maxBytes)
    ) {
      Atomics.wait(flow, TAKEN, Atomics.load(flow, TAKEN), 100)
    }
  }

  const flush = (c: Conn) => {
    if (c.lengths.length === 0) return
    const bytes = new Uint8Array(c.size)
    let at = 0
    for (const chunk of c.chunks) {
      bytes.set(chunk, at)
      at += chunk.length
    }
    const lengths = Uint32Array.from(c.lengths)
    const count = c.lengths.length
    const size = c.size
    c.chunks = []
    c.lengths = []
    c.size = 0
    if (!served(c)) {
      c.waitingPackets += count
      c.waitingBytes += size
      waitingPackets += count
      waitingBytes += size
    }
    Atomics.add(flow, PACKETS, count)
    Atomics.add(flow, BYTES, size)
    post({ t: "data", id: c.id, bytes: bytes.buffer, lengths: lengths.buffer }, [bytes.buffer, lengths.buffer])
    if (served(c)) waitForRoom()
  }

  const flushAll = () => {
    flushScheduled = false
    // The driver still holds packets of the served side (waiting collectors' are not its to take yet):
    // hand over when it takes them, with whatever arrived meanwhile.
    const taken = Atomics.load(flow, TAKEN)
    if (!stopping && Atomics.load(flow, PACKETS) - waitingPackets > 0) {
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
    for (const c of [...conns]) {
      flush(c)
      reportDrops(c)
    }
  }

  const onData = (c: Conn, buf: Buffer) => {
    if (c.ended) return
    if (buf.length >= data.readBufferSize) {
      post({ t: "truncated", id: c.id, size: buf.length })
      return
    }
    if (!served(c) && (waitingPackets + c.lengths.length >= data.maxRecords / 2 || waitingBytes + c.size + buf.length > data.maxBytes / 2)) {
      c.dropped++
      if (!flushScheduled) {
        flushScheduled = true
        setImmediate(flushAll)
      }
      return
    }
    c.chunks.push(buf)
    c.lengths.push(buf.length)
    c.size += buf.length
    if (c.size >= data.flushBytes) flush(c)
    else if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flushAll)
    }
  }

  const reportDrops = (c: Conn) => {
    if (c.dropped === 0) return
    post({ t: "dropped", id: c.id, count: c.dropped })
    c.dropped = 0
  }

  /** Hands over what the connection sent, then its end; the next connection is served. */
  const end = (c: Conn, reason: string) => {
    if (c.ended) return
    flush(c)
    reportDrops(c)
    c.ended = true
    const i = conns.indexOf(c)
    if (i >= 0) conns.splice(i, 1)
    // Destroying a socket inside its own callbacks crashes the library: later.
    setImmediate(() => {
      try {
        c.socket.destroy()
      } catch {
        // Already destroyed.
      }
    })
    post({ t: "end", id: c.id, reason })
    // Its packets handed over while it waited now belong to the served stream's side of the bound.
    const next = conns[0]
    if (next !== undefined) {
      waitingPackets -= next.waitingPackets
      waitingBytes -= next.waitingBytes
      next.waitingPackets = 0
      next.waitingBytes = 0
    }
  }

  const stop = () => {
    if (stopping) return
    stopping = true
    try {
      server?.close()
    } catch {
      // Already closed.
    }
    for (const c of [...conns]) end(c, "stopped")
    post({ t: "stopped" })
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
      post({ t: "listenError", message: (e as Error).message })
      Atomics.store(flow, LISTENED, 2)
      Atomics.notify(flow, LISTENED)
      return
    }
    Atomics.store(flow, LISTENED, 1)
    Atomics.notify(flow, LISTENED)
    server.on("error", (e: Error) => post({ t: "serverError", message: e.message }))
    server.on("connection", (socket) => {
      if (stopping) {
        socket.on("error", () => {})
        setImmediate(() => socket.destroy())
        return
      }
      if (conns.length > data.maxWaiting) {
        socket.on("error", () => {})
        setImmediate(() => socket.destroy())
        post({ t: "refused", waiting: conns.length })
        return
      }
      socket.setInternalReadBufferSize(data.readBufferSize)
      const c: Conn = { id: nextId++, socket, chunks: [], lengths: [], size: 0, ended: false, waitingPackets: 0, waitingBytes: 0, dropped: 0 }
      post({ t: "connection", id: c.id, waiting: conns.length })
      conns.push(c)
      socket.on("data", (buf: Buffer) => onData(c, buf))
      socket.on("end", () => end(c, "end of stream"))
      socket.on("error", (e: Error) => end(c, `read error: ${e.message}`))
      socket.on("close", () => end(c, "connection closed"))
    })
  }

  port.on("message", (m: IntakeCommand) => {
    if (m.t === "listen") listen()
    else stop()
  })
  post({ t: "ready" })
}

/** The worker's source text. */
export const intakeWorkerSource = (): string => `(${intakeWorkerMain.toString()})()`
