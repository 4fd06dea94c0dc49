/**
 * A file worker's side of the protocol (docs/parallel.md), over a real MessageChannel: files are read in
 * the order they were assigned, and a file assigned ahead (PREFETCH) that a stop came before is reported
 * cut without being read or logged, as a one-thread run never names a file it did not start.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { MessageChannel } from "node:worker_threads"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { runFileWorker } from "../../src/services/parallel/FileWorker.js"
import { FILE_WORKER, type FromWorker, type ToWorker, type WorkerSetup } from "../../src/services/parallel/WorkerProtocol.js"
import { writeSampleTrace } from "../../src/services/trace/SampleTraces.js"
import { tempDir } from "../support/cli.js"

/** No stages: the worker reads and counts each file's datums, and logs what it reads. */
const setup: WorkerSetup = { sfprocessor: FILE_WORKER, stages: [], root: "sysflow", credit: 4, trace: false, perflog: false }

/** Runs a worker on `messages` (sent before it starts) and returns everything it sent back. */
const serve = (messages: ReadonlyArray<ToWorker>) =>
  Effect.gen(function* () {
    const channel = new MessageChannel()
    const received: FromWorker[] = []
    channel.port2.on("message", (m: FromWorker) => received.push(m))
    for (const m of messages) channel.port2.postMessage(m)
    yield* runFileWorker(setup, channel.port1, Effect.succeed([]), false)
    // Messages posted before the port closed still arrive on the other side.
    yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
    channel.port2.close()
    return received
  })

describe("file worker", () => {
  const dir = tempDir("sfp-file-worker-")
  const trace = path.join(dir, "a.sf")
  writeSampleTrace(fileSink(trace))

  it.effect("reads its files in the order assigned, logging each before its records", () =>
    Effect.gen(function* () {
      const received = yield* serve([
        { t: "file", file: 0, path: trace },
        { t: "file", file: 1, path: trace },
        { t: "end" }
      ])
      const kinds = received.map((m) => (m.t === "log" ? `log ${m.file} ${m.item.message}` : m.t === "done" ? `done ${m.file} ${m.read > 0} ${m.stopped}` : m.t))
      expect(kinds).toEqual([`log 0 Reading trace file ${trace}`, "done 0 true false", `log 1 Reading trace file ${trace}`, "done 1 true false", "end"])
    }))

  it.effect("a file assigned ahead and not started when a stop comes: cut, not read, not logged", () =>
    Effect.gen(function* () {
      expect(fs.existsSync(trace)).toBe(true)
      const received = yield* serve([{ t: "stop" }, { t: "file", file: 7, path: trace }, { t: "end" }])
      expect(received.filter((m) => m.t === "log")).toEqual([])
      expect(received).toContainEqual({ t: "done", file: 7, read: 0, counters: [], fault: undefined, stopped: true })
      expect(received.at(-1)?.t).toBe("end")
    }))
})
