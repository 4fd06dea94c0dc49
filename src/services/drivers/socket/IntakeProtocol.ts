/**
 * What the socket driver's main thread and its reader thread (IntakeWorker.ts with node-unix-socket, or
 * NativeIntakeWorker.ts with the native addon) share: the flow counters in a SharedArrayBuffer, the
 * worker's start data, and the messages between them.
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
  listened: 4,
  /**
   * Set to 1 by the native reader when it holds packets back until the driver takes the ones before; the
   * driver then wakes it (IntakeReader.wake) as it takes packets, and sets the slot back to 0.
   */
  wakeOnTake: 5
} as const
export const FLOW_SLOTS = 6

/** A batch is handed over once it holds this many bytes, even while the socket has more. */
export const FLUSH_BYTES = 256 * 1024

/** Packets per batch at most (the size of a reader's lengths buffer). */
export const FLUSH_PACKETS = 16_384

export interface IntakeWorkerData {
  /** The reader's library: node-unix-socket's resolved entry point, or the native addon's `.node` file. */
  readonly module: string
  /** The native reader's wake-up eventfd (created and closed by the main thread); -1 for node-unix-socket. */
  readonly wakeFd: number
  readonly socketPath: string
  readonly backlog: number
  readonly readBufferSize: number
  readonly maxRecords: number
  readonly maxBytes: number
  readonly maxWaiting: number
  readonly flow: SharedArrayBuffer
  /** The slots of `flow` (`Flow`: the worker's body cannot see this module's constants). */
  readonly slots: typeof Flow
  /** `FLUSH_BYTES`. */
  readonly flushBytes: number
  /** `FLUSH_PACKETS`. */
  readonly flushPackets: number
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

/** Messages from the driver to the worker (the native reader reads only `listen`: it stops on `Flow.stop`). */
export type IntakeCommand = { readonly t: "listen" } | { readonly t: "stop" }
