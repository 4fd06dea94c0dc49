/**
 * Delivery tracking in the kernel (kernel/Delivery.ts), as the nats driver relies on it: a tagged chunk
 * is delivered once every branch of the pipeline finished it, including stages that emit nothing for it
 * and tees, and an exporter holds it until its transport delivered the chunk's records.
 */
import { it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as path from "node:path"
import { describe, expect } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { TerminalOutput } from "../../src/services/export/Transport.js"
import { type Channel, makeChannel, send } from "../../src/services/kernel/Channel.js"
import { DeliveryTag, tagChunk } from "../../src/services/kernel/Delivery.js"
import { startPipeline, streamStage } from "../../src/services/kernel/Runner.js"
import type { Stage } from "../../src/services/kernel/Stage.js"
import { readTraceRecords } from "../../src/services/reader/TraceRecords.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { tempDir } from "../support/cli.js"
import { makeExporter } from "../support/stages.js"

const sink = (seen: number[]): Stage<number, never, never> => ({
  name: "sink",
  onChunk: (chunk) => Effect.sync(() => void seen.push(...chunk)).pipe(Effect.as([])),
  onEnd: Effect.succeed([])
})

/** Keeps the even numbers: a chunk of odd ones gives an empty output. */
const evens: Stage<number, number, never> = {
  name: "evens",
  onChunk: (chunk) => Effect.succeed(chunk.filter((x) => x % 2 === 0)),
  onEnd: Effect.succeed([])
}

describe("delivery tags", () => {
  it.scoped("a chunk is delivered once every branch finished it: empty outputs and tees included", () =>
    Effect.gen(function* () {
      const root = yield* makeChannel<number>("root", "t")
      const left = yield* makeChannel<number>("left", "t")
      const right = yield* makeChannel<number>("right", "t")
      const delivered: number[] = []
      const seenLeft: number[] = []
      const seenRight: number[] = []
      const chunks = [[2, 4], [1, 3], [6]]
      const driver = {
        name: "tagged",
        output: root,
        run: Effect.forEach(chunks, (c, i) =>
          send(root, tagChunk(c, new DeliveryTag(() => delivered.push(i)))), { discard: true })
      }
      const stages = [
        streamStage(evens, root, [left, right] as Array<Channel<number>>),
        streamStage(sink(seenLeft), left, []),
        streamStage(sink(seenRight), right, [])
      ]
      const run = yield* startPipeline([driver], stages)
      yield* run.done
      expect(delivered.sort()).toEqual([0, 1, 2])
      expect(seenLeft).toEqual([2, 4, 6])
      expect(seenRight).toEqual([2, 4, 6])
    })
  )

  it.scoped("an exporter holds a chunk until its transport delivered the chunk's records", () =>
    Effect.gen(function* () {
      const file = path.join(tempDir(), "t.sf")
      generateSyntheticTrace(fileSink(file), { records: 300, seed: 2 })
      const records: ReadonlyArray<FlatRecord> = Chunk.toReadonlyArray(yield* Stream.runCollect(readTraceRecords(file))).flat()
      // buffer 1000: nothing is sent before the end of input.
      const exporter = yield* makeExporter({ export: "null", format: "json", buffer: "1000" }).pipe(Effect.provide(TerminalOutput.capture([])))
      const delivered: number[] = []
      const tags = [new DeliveryTag(() => delivered.push(0)), new DeliveryTag(() => delivered.push(1))]
      const chunks = [tagChunk(records.slice(0, 150), tags[0]), tagChunk(records.slice(150), tags[1])]
      for (let i = 0; i < 2; i++) {
        yield* exporter.onChunk(chunks[i])
        // What the runner does once a stage finished a chunk: the exporter holds a piece of its own.
        tags[i].release()
      }
      expect(delivered).toEqual([])
      yield* exporter.onEnd
      expect(delivered).toEqual([0, 1])
    })
  )
})
