import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { CodecName } from "../../src/services/avro/Codecs.js"
import { MemorySink, OcfWriter, encodeHeader, readOcfHeader, syncMarker } from "../../src/services/avro/OcfWriter.js"
import { bigintType, blockCounts, decodeOcf } from "./avsc.js"

const schema = {
  type: "record",
  name: "test.Item",
  fields: [
    { name: "id", type: "long" },
    { name: "name", type: "string" }
  ]
}
const type = bigintType(schema)
const items = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: (1n << 60n) + BigInt(from + i), name: `item-${from + i}` }))

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ocfwriter-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe("OcfWriter", () => {
  it.each<CodecName>(["null", "deflate", "snappy"])("writes %s blocks that avsc reads back", async (codec) => {
    const sink = new MemorySink()
    const sync = syncMarker("test")
    const w = OcfWriter.create(sink, type, { schema, codec, sync }, { blockSize: 1000 })
    const values = items(0, 2500)
    for (const v of values) w.write(v)
    w.close()
    const bytes = sink.bytes()

    expect(blockCounts(bytes)).toEqual([1000, 1000, 500])
    const decoded = await decodeOcf(bytes)
    expect(decoded.meta["avro.codec"].toString()).toBe(codec)
    expect(decoded.sync.equals(sync)).toBe(true)
    expect(decoded.schema).toEqual(schema)
    expect(decoded.values.map((v) => ({ ...(v as object) }))).toEqual(values)
  })

  it("lays the header out like the collector: magic, codec, schema, sync", () => {
    const sync = syncMarker("layout")
    const header = encodeHeader({ schema, codec: "deflate", sync, metadata: { "x.note": "hi" } })
    expect(header.subarray(0, 4).toString("latin1")).toBe("Obj\x01")
    const text = header.toString("latin1")
    expect(text.indexOf("avro.codec")).toBeLessThan(text.indexOf("avro.schema"))
    expect(text.indexOf("avro.schema")).toBeLessThan(text.indexOf("x.note"))
    expect(text).toContain(JSON.stringify(schema))
    expect(header.subarray(header.length - 16).equals(sync)).toBe(true)
  })

  it("derives sync markers from a seed, random without one", () => {
    expect(syncMarker("a").equals(syncMarker("a"))).toBe(true)
    expect(syncMarker("a").equals(syncMarker("b"))).toBe(false)
    expect(syncMarker().equals(syncMarker())).toBe(false)
    expect(syncMarker()).toHaveLength(16)
  })

  it("grows its block buffer for datums larger than it", async () => {
    const sink = new MemorySink()
    const w = OcfWriter.create(sink, type, { schema, codec: "deflate", sync: syncMarker("big") })
    const big = { id: -(1n << 62n), name: "x".repeat(300_000) }
    w.write(big)
    w.write({ id: 1n, name: "small" })
    w.close()
    const decoded = await decodeOcf(sink.bytes())
    expect(decoded.values.map((v) => ({ ...(v as object) }))).toEqual([big, { id: 1n, name: "small" }])
  })

  it("appends snappy blocks to an existing file, reusing its codec and sync marker", async () => {
    const file = path.join(tmp, "append.ocf")
    const sync = syncMarker("original")
    const first = OcfWriter.toFile(file, type, { schema, codec: "snappy", sync })
    for (const v of items(0, 10)) first.write(v)
    first.close()

    expect(Buffer.from(readOcfHeader(file).sync).equals(sync)).toBe(true)
    // The header of an existing file wins over what the caller would have used for a new one.
    const more = OcfWriter.toFile(file, type, { schema, codec: "null", sync: syncMarker("other") }, { append: true })
    for (const v of items(10, 5)) more.write(v)
    more.close()

    const bytes = fs.readFileSync(file)
    expect(blockCounts(bytes)).toEqual([10, 5])
    const decoded = await decodeOcf(bytes)
    expect(decoded.meta["avro.codec"].toString()).toBe("snappy")
    expect(decoded.sync.equals(sync)).toBe(true)
    expect(decoded.values.map((v) => ({ ...(v as object) }))).toEqual(items(0, 15))
  })

  it("creates the file when appending to one that does not exist", async () => {
    const file = path.join(tmp, "fresh.ocf")
    const w = OcfWriter.toFile(file, type, { schema, codec: "snappy", sync: syncMarker("fresh") }, { append: true })
    w.write(items(0, 1)[0])
    w.close()
    expect((await decodeOcf(fs.readFileSync(file))).values).toHaveLength(1)
  })

  it("rejects appending to a file that is not a container file", () => {
    const file = path.join(tmp, "not-avro.txt")
    fs.writeFileSync(file, "hello, world")
    expect(() => OcfWriter.toFile(file, type, { schema, codec: "null", sync: syncMarker() }, { append: true })).toThrow(
      /bad magic/
    )
  })
})
