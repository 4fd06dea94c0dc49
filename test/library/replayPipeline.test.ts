/**
 * A whole pipeline run from the library (`sfprocessor`, as a program would import it) with test layers
 * instead of files and sockets: a replay driver fed from a TraceWriter trace held in memory (or from
 * datums), the real reader, policy engine and exporter, and a capture transport that keeps every batch.
 */
import { it } from "@effect/vitest"
import { Chunk, Effect, Layer, Stream } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect } from "vitest"
import { tempDir } from "../support/cli.js"

const sf = await import("sfprocessor")

const rules = `- rule: Shell
  desc: a shell ran
  condition: sf.proc.exe = /bin/sh and sf.opflags = EXEC
  priority: high
- rule: Passwd read
  desc: the password file was read
  condition: sf.file.path = /etc/passwd
  priority: medium
`

/** A trace in memory: two shells and a cat of /etc/passwd, each with an exec. */
const traceBytes = (): Uint8Array => {
  const sink = new sf.MemorySink()
  const w = new sf.TraceWriter(sink)
  w.header({ exporter: "replay-test" })
  for (const pid of [10n, 11n]) {
    const sh = w.process({ pid, exe: "/bin/sh", exeArgs: "-c id" })
    w.processEvent({ proc: sh, opFlags: sf.OpFlag.EXEC })
  }
  const cat = w.process({ pid: 12n, exe: "/bin/cat", exeArgs: "/etc/passwd" })
  w.processEvent({ proc: cat, opFlags: sf.OpFlag.EXEC })
  w.fileFlow({ proc: cat, file: "/etc/passwd", opFlags: sf.OpFlag.OPEN | sf.OpFlag.READ_RECV })
  w.close()
  return sink.bytes()
}

/** A pipeline file: replay driver → reader → policy engine (mode) → exporter `export: capture`. */
const pipelineFile = (mode: "alert" | "enrich", buffer = 0): string => {
  const dir = tempDir()
  fs.writeFileSync(path.join(dir, "rules.yaml"), rules)
  const file = path.join(dir, "pipeline.json")
  fs.writeFileSync(file, JSON.stringify({
    drivers: [{ driver: "replay", out: "sysflow sysflowchan" }],
    pipeline: [
      { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
      { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode, policies: dir },
      { processor: "exporter", in: "evt eventchan", export: "capture", format: "json", buffer: String(buffer) }
    ]
  }))
  return file
}

/** The application's processors, with the replay driver and the capture transport swapped in. */
const testLayer = (replay: import("sfprocessor").Replay, batches: import("sfprocessor").CapturedBatches) =>
  sf.pipelineLayer(sf.ReplayDriver.layer(replay), Layer.merge(sf.CaptureTransport.layer(batches), sf.EncodersLive)).pipe(
    Layer.provide(sf.TerminalOutput.capture([]))
  )

describe("a pipeline from the library, on test layers", () => {
  it.effect("replays a TraceWriter trace through reader, policy engine and exporter into a capture transport", () => {
    const batches: import("sfprocessor").CapturedBatches = []
    return Effect.gen(function* () {
      const totals = yield* sf.runPipeline({ configPath: pipelineFile("alert") })
      // Every datum of the trace went in: header, processes, file, events and flow.
      const datums = yield* Stream.runCollect(sf.readTraceBytes("mem.sf", traceBytes()))
      expect(totals.read).toBe(Chunk.toReadonlyArray(datums).flat().length)
      const alerts = batches.flat().map((line) => JSON.parse(line))
      expect(alerts.map((a) => [a.proc.exe, a.policies.map((p: { id: string }) => p.id)])).toEqual([
        ["/bin/sh", ["Shell"]],
        ["/bin/sh", ["Shell"]],
        ["/bin/cat", ["Passwd read"]]
      ])
    }).pipe(Effect.provide(testLayer({ trace: traceBytes() }, batches)))
  })

  it.effect("batches as the exporter's buffer says (enrich: every record), datums replayed as given", () => {
    const batches: import("sfprocessor").CapturedBatches = []
    return Effect.gen(function* () {
      // The same datums, decoded once here and replayed from memory.
      const datums = Chunk.toReadonlyArray(yield* Stream.runCollect(sf.readTraceBytes("mem.sf", traceBytes()))).flat()
      yield* sf.runPipeline({ configPath: pipelineFile("enrich", 2) }).pipe(Effect.provide(testLayer({ datums }, batches)))
      const records = batches.flat().map((line) => JSON.parse(line))
      expect(records.map((r) => r.type)).toEqual(["PE", "PE", "PE", "FF"])
      // buffer 2: two full batches.
      expect(batches.map((b) => b.length)).toEqual([2, 2])
    })
  })
})
