/**
 * A test layer: a driver that replays SysFlow datums from memory, with no file or socket. Give it the
 * datums themselves, or the bytes of a trace written with `TraceWriter` to a `MemorySink` (decoded as a
 * file would be). The pipeline names it like any driver (`-driver replay`, or a `drivers` block).
 */
import { Effect, Stream } from "effect"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { readTraceBytes } from "../../services/drivers/TraceFiles.js"
import { CHUNK_SIZE, send } from "../../services/kernel/Channel.js"
import { type DriverDefinition, DriverRegistry } from "../../services/kernel/DriverRegistry.js"
import { builtinDrivers } from "../Drivers.js"

export type Replay = { readonly datums: ReadonlyArray<SysFlowDatum> } | { readonly trace: Uint8Array }

/** A driver named `name` that sends the replay's datums in chunks of CHUNK_SIZE, then ends. */
export const replayDriver = (replay: Replay, name = "replay"): DriverDefinition => ({
  spec: { name, emits: "sysflowchan", output: "out" },
  init: () =>
    Effect.succeed((output) =>
      "datums" in replay
        ? Effect.forEach(
            Array.from({ length: Math.ceil(replay.datums.length / CHUNK_SIZE) }, (_, i) => replay.datums.slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE)),
            (chunk) => send(output, chunk),
            { discard: true }
          )
        : Stream.runForEach(readTraceBytes(name, replay.trace), (chunk) => send(output, chunk))
    )
})

export const ReplayDriver = {
  /** The built-in drivers and the replay driver (`replay` unless named otherwise). */
  layer: (replay: Replay, name = "replay") => DriverRegistry.layer([...builtinDrivers, replayDriver(replay, name)])
}
