/**
 * The flat wire format: records decoded from a message are the records the edge flattened, field for
 * field: every policy attribute (string, int64 and value forms) and the JSON and ECS documents.
 */
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { attributeTable } from "../../src/domain/attributes.js"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { bareEvent } from "../../src/domain/policyEvent.js"
import { agentAndEcs, encodeEcsBatch } from "../../src/services/export/encoders/EcsEncoder.js"
import { encodeJsonText } from "../../src/services/export/encoders/JsonEncoder.js"
import { TextBatch } from "../../src/services/export/ExportBatch.js"
import { decodeFlatWire, FlatWireError, FlatWireReader, FlatWireWriter } from "../../src/services/export/transports/nats/FlatWire.js"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { generateSyntheticTrace, writeSamples } from "../../src/services/trace/SampleTraces.js"
import { tempDir } from "../support/cli.js"
import { traceRecords } from "../support/traceRecords.js"

const jsonOf = (rs: ReadonlyArray<FlatRecord>) => new TextBatch(encodeJsonText(rs.map(bareEvent), "5")).lines
const ecsOf = (rs: ReadonlyArray<FlatRecord>) => encodeEcsBatch(rs.map(bareEvent), agentAndEcs({ agentVersion: "0.7.0", ecsVersion: "8.2" }))

const expectSame = (a: ReadonlyArray<FlatRecord>, b: ReadonlyArray<FlatRecord>) => {
  expect(b.length).toBe(a.length)
  const defs = [...attributeTable.values()]
  const values = (rs: ReadonlyArray<FlatRecord>) =>
    rs.map((r) => defs.map((def) => `${def.name}=${def.str(r)}|${def.int === undefined ? "" : def.int(r)}`).join("\n"))
  expect(values(b)).toEqual(values(a))
  expect(jsonOf(b)).toEqual(jsonOf(a))
  const ea = ecsOf(a)
  const eb = ecsOf(b)
  expect(eb.lines).toEqual(ea.lines)
  expect(eb.ids).toEqual(ea.ids)
}

describe("flat wire format", () => {
  it("round-trips the sample trace (containers, pods, K8s events, missing parents) exactly", async () => {
    const dir = tempDir()
    const [file] = writeSamples(dir)
    const records = await traceRecords(file)
    expect(records.length).toBeGreaterThan(10)
    const writer = new FlatWireWriter()
    expectSame(records, decodeFlatWire(writer.encode(records)))
    // One record per message, and the writer's buffers reused between messages.
    expectSame(records, records.flatMap((r) => decodeFlatWire(writer.encode([r]))))
  })

  it("round-trips a synthetic trace in chunk-sized messages, sharing entities within a message", async () => {
    const dir = tempDir()
    const file = path.join(dir, "syn.sf")
    generateSyntheticTrace(fileSink(file), { records: 6000, seed: 7 })
    const records = await traceRecords(file)
    const writer = new FlatWireWriter()
    const reader = new FlatWireReader()
    const decoded: FlatRecord[] = []
    let bytes = 0
    for (let i = 0; i < records.length; i += 2048) {
      const msg = writer.encode(records.slice(i, i + 2048))
      bytes += msg.length
      const out = reader.decode(msg)
      // Records of one process share one process object (and one ancestry array), as on the edge.
      const byOid = new Map<string, object>()
      for (const r of out) {
        if (r.process === undefined) continue
        const k = `${r.process.oid.hpid}:${r.process.oid.createTS}`
        expect(byOid.get(k) ?? r.process).toBe(r.process)
        byOid.set(k, r.process)
      }
      decoded.push(...out)
    }
    expectSame(records, decoded)
    expect(bytes / records.length).toBeLessThan(400)
    // Across messages, a reader gives equal entities (and ancestries) one object, as the edge's cache did.
    const same = (get: (r: FlatRecord) => object | undefined) => {
      const edge = new Map<object, object>()
      for (let i = 0; i < records.length; i++) {
        const a = get(records[i])
        const b = get(decoded[i])
        if (a === undefined || b === undefined) continue
        expect(edge.get(a) ?? b).toBe(b)
        edge.set(a, b)
      }
    }
    same((r) => r.process)
    same((r) => r.file)
    same((r) => r.ptree)
    same((r) => r.container)
  })

  it("refuses a message that is not in the format, or truncated", () => {
    expect(() => decodeFlatWire(Buffer.from('{"not":"flat"}'))).toThrow(FlatWireError)
    const msg = new FlatWireWriter().encode([])
    expect(decodeFlatWire(msg)).toEqual([])
    expect(() => decodeFlatWire(msg.subarray(0, msg.length - 1))).toThrow(FlatWireError)
  })
})
