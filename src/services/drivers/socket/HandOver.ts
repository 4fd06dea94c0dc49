/**
 * The half both socket reader threads share (IntakeWorker.ts with node-unix-socket, NativeIntakeWorker.ts
 * with the native addon): the connections, what each has read and not handed over yet, and handing it to
 * the driver as packed batches (one transferred buffer of bytes and one of lengths per batch).
 *
 * * **Backpressure (P21).** `flush` of the served connection waits (`Atomics.wait` on the shared flow
 *   counters, which the driver lowers as it takes packets) while the packets handed over and not yet taken
 *   reach `maxRecords` or `maxBytes`; the thread reads nothing meanwhile, so the kernel's socket buffer
 *   fills and the collector blocks in `send()`, as with the reference. Nothing of the served stream is
 *   dropped.
 * * **Waiting collectors (P22).** Only the oldest open connection is served. What later ones send is kept
 *   up to half the bounds (`admits`), then dropped and counted: blocking for them would also stop reading
 *   the served stream, whose end the driver waits for before it turns to them.
 *
 * It runs in the worker from source text (the worker bodies receive it as an argument): it must not use
 * anything from outside its own body.
 */
import type { MessagePort } from "node:worker_threads"
import type { IntakeMessage, IntakeWorkerData } from "./IntakeProtocol.js"

/** A collector's connection, as a reader thread keeps it. */
export interface Conn {
  readonly id: number
  /** Packets read and not handed over yet, end to end: `at[0]` bytes, `at[1]` packets with their `lengths`. */
  readonly bytes: Uint8Array
  readonly lengths: Uint32Array
  /** `[bytes used, packets, the length of a packet too long for the read buffer]` (the native reader's cursor). */
  readonly at: Int32Array
  ended: boolean
  /** Packets and bytes handed over while this connection waited (counted against the waiting bound). */
  waitingPackets: number
  waitingBytes: number
  /** Packets dropped beyond the waiting bound and not reported yet. */
  dropped: number
}

export type HandOver = ReturnType<typeof intakeHandOver>

export function intakeHandOver(port: MessagePort, data: IntakeWorkerData) {
  const flow = new Int32Array(data.flow)
  const { packets: PACKETS, bytes: BYTES, stop: STOP, taken: TAKEN } = data.slots
  /** The served connection first, then the waiting ones in arrival order. */
  const conns: Conn[] = []
  let nextId = 1
  /** Packets and bytes handed over by waiting connections (not the driver's to take yet). */
  let waitingPackets = 0
  let waitingBytes = 0

  const post = (m: IntakeMessage, transfer?: ReadonlyArray<ArrayBuffer>) => port.postMessage(m, transfer as ArrayBuffer[] | undefined)
  const served = (c: Conn) => conns[0] === c

  /** Tells the driver, which waits on the `listened` slot, whether the listener is up (else why not). */
  const listened = (error?: string) => {
    if (error !== undefined) post({ t: "listenError", message: error })
    Atomics.store(flow, data.slots.listened, error === undefined ? 1 : 2)
    Atomics.notify(flow, data.slots.listened)
  }

  /** A new connection (the caller checked `maxWaiting`); the driver hears of it. */
  const add = (): Conn => {
    const c: Conn = {
      id: nextId++,
      // Room for a packet of up to the read buffer's size once FLUSH_BYTES are held.
      bytes: new Uint8Array(data.flushBytes + data.readBufferSize),
      lengths: new Uint32Array(data.flushPackets),
      at: new Int32Array(3),
      ended: false,
      waitingPackets: 0,
      waitingBytes: 0,
      dropped: 0
    }
    post({ t: "connection", id: c.id, waiting: conns.length })
    conns.push(c)
    return c
  }

  /** Whether a packet of `length` bytes may be kept: always for the served stream; within half the bounds for a waiting one. */
  const admits = (c: Conn, length: number): boolean =>
    served(c) || (waitingPackets + c.at[1] < data.maxRecords / 2 && waitingBytes + c.at[0] + length <= data.maxBytes / 2)

  /** Appends a packet (shorter than the read buffer) to what the connection holds. */
  const append = (c: Conn, packet: Uint8Array): void => {
    c.bytes.set(packet, c.at[0])
    c.lengths[c.at[1]] = packet.length
    c.at[0] += packet.length
    c.at[1]++
  }

  /** The connection holds a batch's worth: hand it over now, whatever the driver holds. */
  const full = (c: Conn): boolean => c.at[0] >= data.flushBytes || c.at[1] >= data.flushPackets

  /** The driver holds packets of the served stream it has not taken yet. */
  const driverHolds = (): boolean => Atomics.load(flow, PACKETS) - waitingPackets > 0

  /** Waits while the driver holds as much as it may; the served stream then waits in the kernel's buffer. */
  const waitForRoom = () => {
    while (
      Atomics.load(flow, STOP) === 0 &&
      (Atomics.load(flow, PACKETS) >= data.maxRecords || Atomics.load(flow, BYTES) >= data.maxBytes)
    ) {
      Atomics.wait(flow, TAKEN, Atomics.load(flow, TAKEN), 100)
    }
  }

  /** Hands what the connection holds over as one batch (copied out, so its buffers are read into again). */
  const flush = (c: Conn): void => {
    const count = c.at[1]
    if (count === 0) return
    const size = c.at[0]
    const bytes = c.bytes.slice(0, size)
    const lengths = c.lengths.slice(0, count)
    c.at[0] = 0
    c.at[1] = 0
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

  const reportDrops = (c: Conn): void => {
    if (c.dropped === 0) return
    post({ t: "dropped", id: c.id, count: c.dropped })
    c.dropped = 0
  }

  /** Hands over what every connection holds, and their drop counts. */
  const flushAll = (): void => {
    for (const c of [...conns]) {
      flush(c)
      reportDrops(c)
    }
  }

  /**
   * Hands over what the connection sent, then its end; the next connection is served. False when it had
   * ended already (the caller closes the connection when true).
   */
  const end = (c: Conn, reason: string): boolean => {
    if (c.ended) return false
    flush(c)
    reportDrops(c)
    c.ended = true
    const i = conns.indexOf(c)
    if (i >= 0) conns.splice(i, 1)
    post({ t: "end", id: c.id, reason })
    // Its packets handed over while it waited now belong to the served stream's side of the bound.
    const next = conns[0]
    if (next !== undefined) {
      waitingPackets -= next.waitingPackets
      waitingBytes -= next.waitingBytes
      next.waitingPackets = 0
      next.waitingBytes = 0
    }
    return true
  }

  return { flow, conns, post, served, listened, add, admits, append, full, driverHolds, flush, flushAll, reportDrops, end }
}
