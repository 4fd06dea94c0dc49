/**
 * The socket driver's reader thread with the native addon (native/seqpacket.c, issue 15): the same work as
 * IntakeWorker.ts (P21, P22, P28; the shared half is HandOver.ts) without a JavaScript callback per packet.
 * The thread exists only to read, so it blocks in poll(2) on the listener, the connections and a wake-up
 * eventfd, and each time a connection is readable one call reads every packet the socket holds into the
 * connection's buffer, end to end, with their lengths (non-blocking `recv` until EAGAIN).
 *
 * * **Batches.** After a round of reads, what arrived is handed over at once if the driver has taken
 *   everything handed over before; otherwise the reader sets `Flow.wakeOnTake`, goes on reading, and the
 *   driver wakes it through the eventfd when it takes packets; a connection's buffer is handed over anyway
 *   once it holds `FLUSH_BYTES` (or `FLUSH_PACKETS`). A single packet on a quiet socket goes out alone, at
 *   once; under load batches grow. No timer is involved.
 * * **Stop.** The driver sets `Flow.stop` and wakes the eventfd: the reader closes the listener and every
 *   connection, hands over what it read, and reports `stopped`.
 * * **Truncation (P28).** `recv` sees a packet's real length (MSG_TRUNC): one that fills the read buffer
 *   is reported and not handed over.
 *
 * Runs from source text, like IntakeWorker.ts: `nativeIntakeWorkerMain` must not use anything from outside
 * its own body and its argument.
 */
import { type Conn, intakeHandOver } from "./HandOver.js"
import type { IntakeCommand, IntakeWorkerData } from "./IntakeProtocol.js"
import type { SeqpacketAddon } from "./NativeReader.js"

/** The worker's body (runs in the worker, from its source text). */
export function nativeIntakeWorkerMain(makeHandOver: typeof intakeHandOver): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require("node:worker_threads") as typeof import("node:worker_threads")
  const data = workerData as IntakeWorkerData
  const loaded = { exports: {} as SeqpacketAddon }
  process.dlopen(loaded, data.module)
  const addon = loaded.exports
  const h = makeHandOver(parentPort!, data)
  const flow = h.flow
  const { stop: STOP, wakeOnTake: WAKE_ON_TAKE } = data.slots
  // native/seqpacket.c: recv's results, and poll's POLLIN.
  const RECV_AGAIN = 0
  const RECV_FULL = 1
  const RECV_END = 2
  const RECV_TRUNCATED = 3
  const POLLIN = 0x001
  // The driver wakes the reader (eventfd) for everything it must notice; this only bounds how long a
  // reader it could not wake (a process exiting without its 'exit' event) keeps the thread from ending.
  const SAFETY_POLL_MS = 1_000
  const PACE_MS = 1
  // Paced rounds only after a hand-over of several packets (a busy stream). On a quiet one, a packet at
  // a time, pacing made the reader wake twice per packet (the packet, then the driver's take) and the
  // driver write the eventfd per packet: at 1 k ev/s 10% more CPU on the other threads and 4% on the
  // main thread (the latency the same).
  const PACE_MIN_PACKETS = 2
  /** Packets in the last hand-over. */
  let handed = 0

  const fds = new Map<Conn, number>()
  let listener = -1

  const end = (c: Conn, reason: string) => {
    if (!h.end(c, reason)) return
    addon.close(fds.get(c)!)
    fds.delete(c)
  }

  /** Keeps, of the packets a waiting connection just read (from packet `from`, byte `fromByte`), those within its bound. */
  const admitRead = (c: Conn, from: number, fromByte: number) => {
    if (h.served(c)) return
    const count = c.at[1]
    let read = fromByte
    c.at[0] = fromByte
    c.at[1] = from
    for (let i = from; i < count; i++) {
      const length = c.lengths[i]
      if (h.admits(c, length)) {
        if (read !== c.at[0]) c.bytes.copyWithin(c.at[0], read, read + length)
        c.lengths[c.at[1]] = length
        c.at[0] += length
        c.at[1]++
      } else {
        c.dropped++
      }
      read += length
    }
  }

  /** Reads what the connection's socket holds (or a buffer's worth: the next poll comes back at once for the rest). */
  const read = (c: Conn) => {
    const fd = fds.get(c)!
    for (;;) {
      const from = c.at[1]
      const fromByte = c.at[0]
      let status: number
      try {
        status = addon.recv(fd, c.bytes, c.lengths, c.at, data.readBufferSize)
      } catch (e) {
        admitRead(c, from, fromByte)
        return end(c, `read error: ${(e as Error).message}`)
      }
      admitRead(c, from, fromByte)
      switch (status) {
        case RECV_AGAIN:
          return
        case RECV_END:
          return end(c, "end of stream")
        case RECV_TRUNCATED:
          h.post({ t: "truncated", id: c.id, size: Math.min(c.at[2], data.readBufferSize) })
          continue
        case RECV_FULL:
          return h.flush(c)
      }
    }
  }

  const acceptAll = () => {
    for (;;) {
      let fd: number
      try {
        fd = addon.accept(listener)
      } catch (e) {
        h.post({ t: "serverError", message: (e as Error).message })
        addon.close(listener)
        listener = -1
        return
      }
      if (fd < 0) return
      if (h.conns.length > data.maxWaiting) {
        h.post({ t: "refused", waiting: h.conns.length }) // before the collector sees its connection closed
        addon.close(fd)
        continue
      }
      fds.set(h.add(), fd)
    }
  }

  /** Hands over what was read if the driver has taken everything before; otherwise asks it for a wake-up when it does. */
  const handOver = () => {
    if (!h.conns.some((c) => c.at[1] > 0 || c.dropped > 0)) return
    if (h.driverHolds()) {
      Atomics.store(flow, WAKE_ON_TAKE, 1)
      if (h.driverHolds()) return // it had not taken them when it looked at the slot: it will wake us
      Atomics.store(flow, WAKE_ON_TAKE, 0)
    }
    handed = 0
    for (const c of h.conns) handed += c.at[1]
    h.flushAll()
  }

  const stop = () => {
    if (listener >= 0) addon.close(listener)
    listener = -1
    for (const c of [...h.conns]) end(c, "stopped")
    h.post({ t: "stopped" })
  }

  const wakeOnly = Int32Array.of(data.wakeFd)
  const wakeEvents = Int32Array.of(POLLIN)
  const wakeRevents = new Int32Array(1)

  /**
   * While the driver is busy with packets handed over before, what the reader reads waits for it anyway:
   * the reader then reads in rounds, every PACE_MS or as soon as the driver takes packets (it wakes the
   * reader), instead of each time a packet arrives. A few hundred packets a round instead of a handful
   * take a third less CPU per packet, and leave more of it to the pipeline. The collector's socket buffer
   * holds a few hundred packets, so a collector sending faster than that waits about PACE_MS at most.
   */
  const pace = () => {
    Atomics.store(flow, WAKE_ON_TAKE, 1)
    if (h.driverHolds()) {
      addon.poll(wakeOnly, wakeEvents, wakeRevents, 1, PACE_MS)
      if (wakeRevents[0] !== 0) addon.drain(data.wakeFd)
    }
    handOver() // what was read before, now that the driver took its packets (or asks to be woken again)
  }

  /** The reader's loop: until the driver sets `Flow.stop`, wait for something to happen and deal with it. */
  const serve = () => {
    const capacity = 2 + data.maxWaiting + 1
    const pollFds = new Int32Array(capacity)
    const events = new Int32Array(capacity).fill(POLLIN)
    const revents = new Int32Array(capacity)
    const polled: Conn[] = []
    while (Atomics.load(flow, STOP) === 0) {
      if (h.driverHolds() && handed >= PACE_MIN_PACKETS) {
        pace()
        // pace() may have drained the eventfd of a stop's wake-up: look again before polling for up to a second.
        if (Atomics.load(flow, STOP) !== 0) break
      }
      let n = 0
      pollFds[n++] = data.wakeFd
      const listenerAt = listener >= 0 ? n : -1
      if (listener >= 0) pollFds[n++] = listener
      const first = n
      polled.length = 0
      for (const c of h.conns) {
        pollFds[n++] = fds.get(c)!
        polled.push(c)
      }
      addon.poll(pollFds, events, revents, n, SAFETY_POLL_MS)
      if (revents[0] !== 0) addon.drain(data.wakeFd)
      if (Atomics.load(flow, STOP) !== 0) break
      if (listenerAt >= 0 && revents[listenerAt] !== 0) acceptAll()
      for (let i = 0; i < polled.length; i++) {
        if (revents[first + i] !== 0 && !polled[i].ended) read(polled[i])
      }
      handOver()
    }
    stop()
  }

  const listen = () => {
    try {
      listener = addon.listen(data.socketPath, data.backlog)
    } catch (e) {
      return h.listened((e as Error).message)
    }
    h.listened()
    serve()
  }

  parentPort!.on("message", (m: IntakeCommand) => {
    if (m.t === "listen") listen()
  })
  h.post({ t: "ready" })
}

/** The worker's source text. */
export const nativeIntakeWorkerSource = (): string => `(${nativeIntakeWorkerMain.toString()})(${intakeHandOver.toString()})`
