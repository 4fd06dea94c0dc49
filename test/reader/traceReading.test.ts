/**
 * Reading traces made by our own TraceWriter: every codec and layout, and every kind of damage.
 * Damaged files yield every datum before the fault, then a TraceError naming the file and the byte
 * offset of the faulty block.
 */
import { Effect, Either, Stream } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { TraceError } from "../../src/domain/errors.js"
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import type { CodecName } from "../../src/services/avro/Codecs.js"
import { MemorySink } from "../../src/services/avro/OcfWriter.js"
import { readTraceFile } from "../../src/services/drivers/TraceFiles.js"
import { OpFlag, TraceWriter } from "../../src/services/trace/TraceWriter.js"
import { zigzag } from "../fuzz/support.js"
import { tempDir } from "../support/cli.js"
import { legacySchema } from "../trace/legacySchema.js"

/** A trace of `events` file flows by one process, in blocks of `blockSize`. */
const makeTrace = (events: number, opts: { codec?: CodecName; blockSize?: number; schema?: unknown } = {}) => {
  const sink = new MemorySink()
  const w = new TraceWriter(sink, { codec: opts.codec, blockSize: opts.blockSize ?? 100, schema: opts.schema as never })
  w.header({ exporter: "test-node", ip: "10.1.2.3", filename: "/t/trace.sf" })
  const p = w.process({ pid: 4242n, exe: "/usr/bin/cat", exeArgs: "/etc/hosts", createTS: 1_700_000_000_123_456_789n })
  for (let i = 0; i < events; i++) {
    w.fileFlow({ proc: p, opFlags: OpFlag.OPEN | OpFlag.READ_RECV | OpFlag.CLOSE, file: `/etc/f${i % 7}`, numRRecvBytes: BigInt(i) })
  }
  w.close()
  return sink.bytes()
}

const writeFile = (bytes: Uint8Array, name = "trace.sf") => {
  const file = path.join(tempDir(), name)
  fs.writeFileSync(file, bytes)
  return file
}

const readAll = (file: string) =>
  Effect.runPromise(
    readTraceFile(file).pipe(
      Stream.runFold({ datums: [] as SysFlowDatum[] }, (acc, chunk) => {
        acc.datums.push(...chunk)
        return acc
      }),
      Effect.either
    )
  )

/** Byte offsets of every block of a well-formed OCF (found by walking the header and block lengths). */
const blockOffsets = (bytes: Uint8Array): number[] => {
  let pos = 4
  const long = () => {
    let n = 0
    let mul = 1
    let b: number
    do {
      b = bytes[pos++]
      n += (b & 0x7f) * mul
      mul *= 128
    } while (b & 0x80)
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2
  }
  const skip = () => {
    const len = long()
    pos += len
  }
  for (let n = long(); n !== 0; n = long()) {
    for (let i = 0; i < n; i++) {
      skip() // key
      skip() // value
    }
  }
  pos += 16
  const offsets: number[] = []
  while (pos < bytes.length) {
    offsets.push(pos)
    long() // datum count
    skip() // data
    pos += 16
  }
  return offsets
}

describe("reading trace files", () => {
  for (const codec of ["null", "deflate", "snappy"] as const) {
    it(`reads every datum of a ${codec} trace, int64 values exact`, async () => {
      const result = await readAll(writeFile(makeTrace(950, { codec })))
      const { datums } = Either.getOrThrow(result)
      expect(datums.length).toBe(1 + 1 + 7 + 950)
      const proc = datums.find((d) => d.code === 2)!
      expect(proc.code === 2 && proc.rec.oid.createTS).toBe(1_700_000_000_123_456_789n)
      const flows = datums.filter((d) => d.code === 6)
      expect(flows.map((d) => (d.code === 6 ? d.rec.numRRecvBytes : -1n))).toEqual(Array.from({ length: 950 }, (_, i) => BigInt(i)))
    })
  }

  it("a FIFO is read asynchronously as it is written (a regular file synchronously): the same datums", async () => {
    const bytes = makeTrace(3000, { blockSize: 500 })
    const regular = await readAll(writeFile(bytes))
    const fifo = path.join(tempDir(), "trace.fifo")
    execFileSync("mkfifo", [fifo])
    // A writer that takes its time: the reader must wait for it without blocking the process (the
    // writer runs on this same event loop).
    const writer = (async () => {
      const h = await fs.promises.open(fifo, "w")
      for (let at = 0; at < bytes.length; at += 4096) {
        await h.write(bytes.subarray(at, at + 4096))
        await new Promise((r) => setTimeout(r, 1))
      }
      await h.close()
    })()
    const [read] = await Promise.all([readAll(fifo), writer])
    expect(Either.isRight(read) && Either.isRight(regular)).toBe(true)
    if (Either.isRight(read) && Either.isRight(regular)) {
      expect(read.right.datums.length).toBe(regular.right.datums.length)
      expect(read.right.datums).toEqual(regular.right.datums)
    }
  })

  it("reads the legacy v1000 layout with the defaults of missing fields", async () => {
    const { datums } = Either.getOrThrow(await readAll(writeFile(makeTrace(3, { schema: legacySchema() }))))
    const header = datums[0]
    expect(header.code === 0 && header.rec).toEqual({ version: expect.any(BigInt), exporter: "test-node", ip: "NA", filename: "" })
    const proc = datums.find((d) => d.code === 2)!
    expect(proc.code === 2 && proc.rec.entry).toBe(false)
  })

  it("a truncated file yields the datums of its complete blocks, then names the file and the block's offset", async () => {
    const bytes = makeTrace(950)
    const offsets = blockOffsets(bytes)
    expect(offsets.length).toBe(10)
    const cutAt = offsets[6] + 20
    const file = writeFile(bytes.subarray(0, cutAt), "cut.sf")
    const result = await readAll(file)
    expect(Either.isLeft(result)).toBe(true)
    const err = (result as Either.Left<TraceError, unknown>).left
    expect(err).toBeInstanceOf(TraceError)
    expect(err.reason).toBe("Block")
    expect(err.offset).toBe(offsets[6])
    expect(err.message).toBe(`${file}: corrupt or truncated block at byte offset ${offsets[6]}: truncated block (20 trailing bytes)`)
  })

  it("a corrupt block: datums before it flow, the error names its offset", async () => {
    const bytes = Buffer.from(makeTrace(950))
    const offsets = blockOffsets(bytes)
    bytes[offsets[3] + 10] ^= 0xff // inside the deflate stream of the 4th block
    const file = writeFile(bytes, "bad.sf")
    const collected: SysFlowDatum[] = []
    const result = await Effect.runPromise(
      readTraceFile(file).pipe(Stream.runForEach((c) => Effect.sync(() => collected.push(...c))), Effect.either)
    )
    const err = Either.flip(result).pipe(Either.getOrThrow)
    expect(err.offset).toBe(offsets[3])
    expect(err.message).toContain(`${file}: corrupt or truncated block at byte offset ${offsets[3]}`)
    expect(collected.length).toBe(300)
  })

  it("a broken sync marker is reported at the marker's offset", async () => {
    const bytes = Buffer.from(makeTrace(250))
    const offsets = blockOffsets(bytes)
    bytes[offsets[2] - 1] ^= 0x01 // last byte of the 2nd block's sync marker
    const result = await readAll(writeFile(bytes))
    const err = Either.flip(result).pipe(Either.getOrThrow)
    expect(err.reason).toBe("Block")
    expect(err.offset).toBe(offsets[2] - 16)
    expect(err.detail).toBe("sync marker mismatch")
  })

  it.each([
    ["an empty file", new Uint8Array(0), "Header", "empty file"],
    ["not an Avro file", Buffer.from("hello world, not avro"), "Header", "not an Avro object container file (bad magic)"],
    ["a truncated header", makeTrace(1).subarray(0, 40), "Header", "truncated header"]
  ])("%s is a header error at offset 0", async (_name, bytes, reason, detail) => {
    const result = await readAll(writeFile(bytes))
    const err = Either.flip(result).pipe(Either.getOrThrow)
    expect(err.reason).toBe(reason)
    expect(err.detail).toBe(detail)
  })

  it("an unsupported codec names the codec", async () => {
    const bytes = Buffer.from(makeTrace(1, { codec: "null" }))
    const i = bytes.indexOf("null")
    bytes.write("zstd", i)
    const err = Either.flip(await readAll(writeFile(bytes))).pipe(Either.getOrThrow)
    expect(err.reason).toBe("Codec")
    expect(err.message).toContain("unsupported codec at byte offset 0: codec 'zstd' (supported: null, deflate, snappy)")
  })

  it("D13: a prototype layout missing mandatory fields is rejected, naming the field", async () => {
    const schema = JSON.parse(JSON.stringify(legacySchema()))
    const ff = schema.fields[0].type.find((b: { name: string }) => b.name === "FileFlow")
    ff.fields = ff.fields.filter((f: { name: string }) => f.name !== "openFlags")
    const sink = new MemorySink()
    const w = new TraceWriter(sink, { schema })
    w.header({ exporter: "x" })
    w.close()
    const err = Either.flip(await readAll(writeFile(sink.bytes()))).pipe(Either.getOrThrow)
    expect(err.reason).toBe("Schema")
    expect(err.detail).toBe("sysflow.flow.FileFlow lacks mandatory field(s) openFlags (prototype layout, not supported)")
  })

  it("a ContainerType symbol we do not know reads as CT_DOCKER (D14)", async () => {
    const schema = JSON.parse(JSON.stringify(legacySchema()))
    const c = schema.fields[0].type.find((b: { name: string }) => b.name === "Container")
    c.fields.find((f: { name: string }) => f.name === "type").type.symbols.push("CT_FUTURE")
    const sink = new MemorySink()
    const w = new TraceWriter(sink, { schema })
    w.header({ exporter: "x" })
    w.container({ id: "abc", name: "n", image: "i", imageid: "ii", type: "CT_FUTURE" as never })
    w.close()
    const { datums } = Either.getOrThrow(await readAll(writeFile(sink.bytes())))
    const container = datums.find((d) => d.code === 1)!
    expect(container.code === 1 && container.rec.type).toBe("CT_DOCKER")
  })
})

describe("decompression bounds (security review S2)", () => {
  it("a block that inflates beyond the limit is a corrupt-block error, not an out-of-memory crash", async () => {
    const zlib = await import("node:zlib")
    const { encodeBlock, encodeHeader, syncMarker } = await import("../../src/services/avro/OcfWriter.js")
    const { codecFor, MAX_BLOCK_BYTES } = await import("../../src/services/avro/Codecs.js")
    const { SysFlowSchemaV4 } = await import("../../src/domain/avroSchema.js")
    const sync = syncMarker("bomb")
    const deflate = codecFor("deflate")!
    const bomb = zlib.deflateRawSync(Buffer.alloc(MAX_BLOCK_BYTES + 1024))
    const header = encodeHeader({ schema: SysFlowSchemaV4, codec: "deflate", sync })
    // A block claiming one datum whose data inflates past the limit.
    const block = encodeBlock(new Uint8Array(0), 1, { ...deflate, compress: () => bomb }, sync)
    const file = writeFile(Buffer.concat([header, block]), "bomb.sf")
    const err = Either.flip(await readAll(file)).pipe(Either.getOrThrow)
    expect(err.reason).toBe("Block")
    expect(err.offset).toBe(header.length)
    expect(err.detail).toBe(`block decompresses to more than ${MAX_BLOCK_BYTES} bytes`)
  })
})

describe("block bounds: a block header claiming more than any collector writes (issue 10 §3)", () => {
  const v4Header = async () => {
    const { encodeHeader, syncMarker } = await import("../../src/services/avro/OcfWriter.js")
    const { SysFlowSchemaV4 } = await import("../../src/domain/avroSchema.js")
    return encodeHeader({ schema: SysFlowSchemaV4, codec: "deflate", sync: syncMarker("claims") })
  }

  it("a block claiming 4 GiB is refused at its header, naming the file and the block's offset, before its bytes are buffered", async () => {
    const { MAX_STORED_BLOCK_BYTES, OcfParser } = await import("../../src/services/avro/OcfReader.js")
    const header = await v4Header()
    const claim = Buffer.concat([header, zigzag(10n), zigzag(4n << 30n)])
    // Fed like a 512 MiB file: the parser used to buffer all of it, waiting for the block to complete.
    const parser = new OcfParser("claims.sf")
    const zeros = Buffer.alloc(1 << 20)
    const rssBefore = process.memoryUsage().rss
    let error: unknown
    try {
      parser.push(claim)
      for (let i = 0; i < 512 && parser.next() === undefined; i++) parser.push(zeros)
    } catch (e) {
      error = e
    }
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024)
    expect(error).toBeInstanceOf(TraceError)
    expect((error as TraceError).message).toBe(
      `claims.sf: corrupt or truncated block at byte offset ${header.length}: block of ${4 * 2 ** 30} bytes, more than the ${MAX_STORED_BLOCK_BYTES} allowed`
    )
  })

  it("readTraceFile: the same refusal names the file on disk and the offset", async () => {
    const header = await v4Header()
    const file = writeFile(Buffer.concat([header, zigzag(10n), zigzag(5n << 30n), Buffer.alloc(4 << 20)]), "big-claim.sf")
    const err = Either.flip(await readAll(file)).pipe(Either.getOrThrow)
    expect(err.reason).toBe("Block")
    expect(err.file).toBe(file)
    expect(err.offset).toBe(header.length)
    expect(err.detail).toMatch(/^block of 5368709120 bytes, more than the \d+ allowed$/)
  })

  it("a datum count beyond the bound is refused at the block header", async () => {
    const { MAX_BLOCK_DATUMS } = await import("../../src/services/avro/OcfReader.js")
    const header = await v4Header()
    const file = writeFile(Buffer.concat([header, zigzag(BigInt(MAX_BLOCK_DATUMS) + 1n), zigzag(100n), Buffer.alloc(200)]), "many.sf")
    const err = Either.flip(await readAll(file)).pipe(Either.getOrThrow)
    expect(err.offset).toBe(header.length)
    expect(err.detail).toBe(`block of ${MAX_BLOCK_DATUMS + 1} datums, more than the ${MAX_BLOCK_DATUMS} allowed`)
  })
})
