/**
 * Fuzzing the Avro trace reader (issue "Operable and trustworthy"): valid traces from our TraceWriter
 * (all three codecs, v5 and v4 layouts) are mutated — bit flips, byte overwrites, truncation, insertions,
 * duplicated and removed ranges, corrupt varints, random junk — and read both with `OcfParser` +
 * `makeSysFlowDecoder` directly (in random chunkings) and with `readTraceFile` over a temp file.
 *
 * Properties: reading terminates within a bounded time and either succeeds or fails with a typed error
 * (`TraceError` naming the file and a byte offset inside it; `SchemaError` / `DatumError` from the
 * decoder); the datums emitted before a failure are well-formed (schema-checked) and start with every
 * datum of the blocks the mutation did not touch; how the bytes are chunked changes nothing.
 *
 * Deterministic by default (fixed seed and run counts). Run longer locally with
 *   FUZZ_RUNS=<n> FUZZ_SEED=<n> [FUZZ_TIME_MS=<n>] npx vitest run test/fuzz/traceReader.test.ts
 * (see test/fuzz/support.ts).
 */
import { Cause, Effect, Either, Exit, Stream } from "effect"
import fc from "fast-check"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { SysFlowSchemaV4, SysFlowSchemaV5 } from "../../src/domain/avroSchema.js"
import { TraceError } from "../../src/domain/errors.js"
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import { type CodecName, codecFor } from "../../src/services/avro/Codecs.js"
import { OcfParser } from "../../src/services/avro/OcfReader.js"
import { encodeBlock, encodeHeader, MemorySink } from "../../src/services/avro/OcfWriter.js"
import { DatumError, makeSysFlowDecoder, SchemaError, type SysFlowDecoder } from "../../src/services/avro/SysFlowDecoder.js"
import { readTraceFile } from "../../src/services/drivers/TraceFiles.js"
import { generateSyntheticTrace, writeSampleTrace } from "../../src/services/trace/SampleTraces.js"
import { encodeDatum, TraceWriter } from "../../src/services/trace/TraceWriter.js"
import { canonical, shapeChecker } from "./avroShape.js"
import {
  bounded,
  boundedAsync,
  type ByteMutation,
  byteMutation,
  CASE_LIMIT_MS,
  chunking,
  describeThrown,
  fuzzParams,
  interestingLongs,
  mutateAll,
  splitBytes,
  testTimeout,
  zigzag
} from "./support.js"

const MEM_FILE = "fuzz/in-memory.sf"

// ---------------------------------------------------------------------------------------------------
// Reading

interface ReadResult {
  readonly datums: ReadonlyArray<SysFlowDatum>
  /** The typed error that ended the read, if any. */
  readonly error: TraceError | SchemaError | DatumError | undefined
  /** The schema the file's header declared (when the header was read). */
  readonly schema: unknown
  /** File offset of the block whose decoding failed (DatumError). */
  readonly failedBlock: number | undefined
}

/**
 * OcfParser + makeSysFlowDecoder, the way TraceFiles drives them, fed in `sizes` chunks. Any exception
 * other than the typed ones is rethrown (and fails the property).
 */
const readDirect = (bytes: Uint8Array, sizes: ReadonlyArray<number> = [bytes.length || 1]): ReadResult => {
  const parser = new OcfParser(MEM_FILE)
  const datums: Array<SysFlowDatum> = []
  let decoder: SysFlowDecoder | undefined
  let failedBlock: number | undefined
  const drain = () => {
    const header = parser.readHeader()
    if (header !== undefined) decoder ??= makeSysFlowDecoder(header.schema)
    for (let b = parser.next(); b !== undefined; b = parser.next()) {
      failedBlock = b.offset
      decoder!.decodeBlock(b.data, b.count, (d) => datums.push(d))
      failedBlock = undefined
    }
  }
  try {
    for (const chunk of splitBytes(bytes, sizes)) {
      parser.push(chunk)
      drain()
    }
    drain()
    parser.end()
    return { datums, error: undefined, schema: parser.header?.schema, failedBlock: undefined }
  } catch (e) {
    if (e instanceof TraceError || e instanceof SchemaError || e instanceof DatumError) {
      return { datums, error: e, schema: parser.header?.schema, failedBlock }
    }
    throw new Error(`untyped exception from the reader: ${describeThrown(e)}`)
  }
}

const errorText = (e: ReadResult["error"]): string =>
  e === undefined ? "ok" : `${e.constructor.name}: ${e.message}${e instanceof TraceError ? ` @${e.offset}` : ""}`

// ---------------------------------------------------------------------------------------------------
// Base traces

interface Block {
  readonly offset: number
  readonly end: number
  readonly datums: ReadonlyArray<SysFlowDatum>
}

interface Base {
  readonly name: string
  readonly bytes: Uint8Array
  readonly headerSize: number
  readonly blocks: ReadonlyArray<Block>
  readonly schema: unknown
}

/** Reads an intact trace and records its block layout. */
const analyse = (name: string, bytes: Uint8Array): Base => {
  const parser = new OcfParser(name)
  parser.push(bytes)
  const raw: Array<{ offset: number; count: number; data: Uint8Array }> = []
  for (let b = parser.next(); b !== undefined; b = parser.next()) raw.push(b)
  parser.end()
  const decoder = makeSysFlowDecoder(parser.header!.schema)
  const blocks = raw.map((b, i): Block => {
    const datums: Array<SysFlowDatum> = []
    decoder.decodeBlock(b.data, b.count, (d) => datums.push(d))
    return { offset: b.offset, end: i + 1 < raw.length ? raw[i + 1].offset : bytes.length, datums }
  })
  return { name, bytes, headerSize: parser.header!.size, blocks, schema: parser.header!.schema }
}

const sampleDatums: ReadonlyArray<SysFlowDatum> = (() => {
  const sink = new MemorySink()
  writeSampleTrace(sink)
  return readDirect(sink.bytes()).datums
})()

const rewrite = (datums: ReadonlyArray<SysFlowDatum>, codec: CodecName, blockSize: number, version: 4 | 5 = 5): Buffer => {
  const sink = new MemorySink()
  const w = new TraceWriter(sink, { codec, blockSize, version })
  for (const d of datums) w.write(d)
  w.close()
  return sink.bytes()
}

const synthetic = (records: number, codec: CodecName, blockSize: number, seed = 7): Buffer => {
  const sink = new MemorySink()
  generateSyntheticTrace(sink, { records, seed, codec, blockSize, processes: 40, files: 200, containers: 3 })
  return sink.bytes()
}

const bases: ReadonlyArray<Base> = [
  analyse("sample-null", rewrite(sampleDatums, "null", 9)),
  analyse("sample-deflate", rewrite(sampleDatums, "deflate", 9)),
  analyse("sample-snappy", rewrite(sampleDatums, "snappy", 9)),
  analyse("sample-v4-null", rewrite(sampleDatums, "null", 5, 4)),
  analyse("synthetic-null", synthetic(300, "null", 40)),
  analyse("synthetic-deflate", synthetic(300, "deflate", 64)),
  analyse("synthetic-snappy", synthetic(300, "snappy", 64))
]

/** A base by index (so counterexamples print an index, not the whole trace). */
const baseIndex = fc.nat({ max: bases.length - 1 })

// ---------------------------------------------------------------------------------------------------
// Checks

/** Every datum fits the schema the file declared (or, if the header was damaged, is at least a record). */
const checkShapes = (r: ReadResult): void => {
  if (r.datums.length === 0) return
  const checker = shapeChecker(r.schema)
  for (const [i, d] of r.datums.entries()) {
    const problem = checker.check(d)
    expect(problem, `datum ${i} (code ${d.code}) is malformed`).toBeUndefined()
  }
}

/**
 * The blocks that end before the first changed byte are intact: their datums must all come out, first
 * and unchanged; a TraceError must not blame an offset before the block holding the first change.
 */
const checkPrefix = (base: Base, r: ReadResult, firstChange: number): void => {
  if (firstChange < base.headerSize) return
  const intact = base.blocks.filter((b) => b.end <= firstChange)
  const expected = intact.flatMap((b) => b.datums)
  expect(r.datums.length, "datums of intact blocks are missing").toBeGreaterThanOrEqual(expected.length)
  expect(canonical(r.datums.slice(0, expected.length))).toBe(canonical(expected))
  const firstDamaged = base.blocks.find((b) => b.end > firstChange)?.offset ?? base.bytes.length
  if (r.error instanceof TraceError) expect(r.error.offset).toBeGreaterThanOrEqual(Math.min(firstDamaged, firstChange))
  if (r.failedBlock !== undefined) expect(r.failedBlock).toBeGreaterThanOrEqual(firstDamaged)
}

const checkTraceErrorLocation = (e: TraceError, file: string, size: number): void => {
  expect(e.file).toBe(file)
  expect(Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= size, `offset ${e.offset} outside the file (${size} bytes)`).toBe(true)
  expect(e.message).toContain(file)
  expect(e.message).toContain(`at byte offset ${e.offset}`)
}

/** The whole direct-read property for one input. */
const checkDirect = (bytes: Uint8Array, sizes: ReadonlyArray<number>, base?: Base, firstChange?: number): ReadResult => {
  const whole = bounded("reading (one chunk)", CASE_LIMIT_MS, () => readDirect(bytes))
  const chunked = bounded("reading (chunked)", CASE_LIMIT_MS, () => readDirect(bytes, sizes))
  // Chunking is invisible.
  expect(errorText(chunked.error)).toBe(errorText(whole.error))
  expect(canonical(chunked.datums)).toBe(canonical(whole.datums))
  if (whole.error instanceof TraceError) checkTraceErrorLocation(whole.error, MEM_FILE, bytes.length)
  checkShapes(whole)
  if (base !== undefined && firstChange !== undefined) checkPrefix(base, whole, firstChange)
  return whole
}

/** ArrayBuffer memory must not balloon while reading a small input (a corrupt length must not allocate). */
const checkNoBigAllocation = <A>(f: () => A): A => {
  const before = process.memoryUsage().arrayBuffers
  const out = f()
  const grown = process.memoryUsage().arrayBuffers - before
  expect(grown, `reading allocated ${grown} bytes of buffers`).toBeLessThan(64 * 1024 * 1024)
  return out
}

const FRAMED_SYNC = Buffer.alloc(16, 0x5a)
const sampleV5Bytes = sampleDatums.map((d) => encodeDatum(d, SysFlowSchemaV5))

/**
 * `count` sample datums from `first`, their concatenated encodings mutated, framed as one valid block
 * (right count and length) of a file with a valid v5 header: the OCF layer passes, the decoder sees the
 * damage. `intact` datums lie wholly before the first change.
 */
const framedCase = (codecName: CodecName, first: number, count: number, ms: ReadonlyArray<ByteMutation>) => {
  const pickedBytes = sampleV5Bytes.slice(first, first + count)
  const { bytes: data, firstChange } = mutateAll(Buffer.concat(pickedBytes), ms)
  const header = encodeHeader({ schema: SysFlowSchemaV5, codec: codecName, sync: FRAMED_SYNC })
  const file = Buffer.concat([header, encodeBlock(data, pickedBytes.length, codecFor(codecName)!, FRAMED_SYNC)])
  let end = 0
  const intact = pickedBytes.filter((p) => (end += p.length) <= firstChange).length
  return { file, intact, picked: sampleDatums.slice(first, first + count) }
}

// ---------------------------------------------------------------------------------------------------
// Properties: OcfParser + makeSysFlowDecoder

describe("fuzz: Avro trace reader (OcfParser + SysFlowDecoder)", () => {
  it("bases read back intact", () => {
    for (const b of bases) {
      const r = readDirect(b.bytes)
      expect(r.error, b.name).toBeUndefined()
      expect(r.datums.length).toBe(b.blocks.reduce((n, x) => n + x.datums.length, 0))
      checkShapes(r)
    }
    expect(bases.every((b) => b.blocks.length >= 4)).toBe(true)
  })

  it("mutated traces: typed outcome, intact prefix, well-formed datums, chunking-invariant", () => {
    const seen = { ok: 0, failed: 0, datumsAfterChange: 0 }
    fc.assert(
      fc.property(baseIndex, fc.array(byteMutation, { minLength: 1, maxLength: 3 }), chunking, (bi, ms, sizes) => {
        const base = bases[bi]
        const { bytes, firstChange } = mutateAll(base.bytes, ms)
        const r = checkDirect(bytes, sizes, base, firstChange)
        seen[r.error === undefined ? "ok" : "failed"]++
        if (r.datums.length > base.blocks.filter((b) => b.end <= firstChange).reduce((n, b) => n + b.datums.length, 0)) seen.datumsAfterChange++
      }),
      fuzzParams(600, 1_500)
    )
    // Some mutations are harmless, most are faults, and some damaged blocks still yield datums.
    expect(seen.ok).toBeGreaterThan(0)
    expect(seen.failed).toBeGreaterThan(0)
    expect(seen.datumsAfterChange).toBeGreaterThan(0)
  }, testTimeout(1_500))

  it("corrupt block counts and lengths (huge, negative, 2^40, overlong varints) do not allocate or hang", () => {
    const field = fc.record({
      base: baseIndex,
      block: fc.nat(),
      which: fc.constantFrom("count" as const, "length" as const),
      value: fc.oneof(fc.constantFrom(...interestingLongs), fc.bigInt({ min: -(1n << 64n), max: 1n << 72n })),
      sizes: chunking
    })
    fc.assert(
      fc.property(field, ({ base: bi, block, which, value, sizes }) => {
        const base = bases[bi]
        const b = base.blocks[block % base.blocks.length]
        // Skip the count varint to reach the length varint.
        let at = b.offset
        if (which === "length") while (base.bytes[at++] & 0x80);
        let end = at
        while (base.bytes[end++] & 0x80);
        const bytes = Buffer.concat([base.bytes.subarray(0, at), zigzag(value), base.bytes.subarray(end)])
        checkNoBigAllocation(() => checkDirect(bytes, sizes, base, at))
      }),
      fuzzParams(300, 1_000)
    )
  }, testTimeout(1_000))

  it("random junk, with and without the magic, and random bytes after a valid header", () => {
    const header = bases[0].bytes.subarray(0, bases[0].headerSize)
    const junk = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.concat([Buffer.from("Obj\x01", "latin1"), b])),
      fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.concat([header, b]))
    )
    fc.assert(
      fc.property(junk, chunking, (bytes, sizes) => {
        checkNoBigAllocation(() => checkDirect(bytes, sizes))
      }),
      fuzzParams(300, 800)
    )
  }, testTimeout(800))

  it("mutated datums inside well-framed blocks (the decoder sees the garbage)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<CodecName>("null", "deflate", "snappy"),
        fc.nat({ max: sampleDatums.length - 1 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(byteMutation, { minLength: 1, maxLength: 3 }),
        chunking,
        (codecName, first, count, ms, sizes) => {
          const { file, intact, picked } = framedCase(codecName, first, count, ms)
          checkNoBigAllocation(() => checkDirect(file, sizes))
          // The datums entirely before the first change decode unchanged.
          const r = readDirect(file)
          expect(canonical(r.datums.slice(0, intact))).toBe(canonical(picked.slice(0, intact)))
        }
      ),
      fuzzParams(500, 1_000)
    )
  }, testTimeout(1_000))

  it("odd headers: codec names, schemas that are not SysFlow schemas, structurally altered schemas", () => {
    const sync = Buffer.alloc(16, 0x33)
    const codecName = fc.oneof(
      fc.constantFrom("null", "deflate", "snappy", "zstandard", "", "NULL", "constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"),
      fc.string({ maxLength: 12 })
    )
    // A field of a branch record gets a different type: zero-size items, nested arrays, maps, fixed(0)...
    const altTypes = [
      "null", "int", "long", "string", "boolean", "bytes", "float", "double",
      { type: "array", items: "null" }, { type: "array", items: { type: "array", items: "long" } },
      { type: "map", values: "null" }, { type: "fixed", name: "Zero", size: 0 }, ["null", "long"],
      { type: "record", name: "Empty", fields: [] }, { type: "array", items: { type: "record", name: "E2", fields: [] } }
    ]
    const alteredSchema = fc
      .record({ branch: fc.nat(), field: fc.nat(), alt: fc.constantFrom(...altTypes) })
      .map(({ branch, field, alt }) => {
        const schema = structuredClone(SysFlowSchemaV5) as unknown as { fields: Array<{ type: Array<{ fields: Array<{ type: unknown }> }> }> }
        const branches = schema.fields[0].type
        const rec = branches[branch % branches.length]
        // Keep named types defined: only retype fields whose type is a primitive or a reference.
        const f = rec.fields[field % rec.fields.length]
        if (typeof f.type === "string" && !f.type.includes(".")) f.type = alt
        return schema
      })
    const schema = fc.oneof(fc.constant(SysFlowSchemaV4), alteredSchema, alteredSchema, fc.jsonValue({ maxDepth: 3 }))
    const body = fc.oneof(
      fc.constant("sample" as const),
      fc.uint8Array({ maxLength: 512 })
    )
    fc.assert(
      fc.property(codecName, schema, body, fc.integer({ min: 0, max: 1 << 20 }), chunking, (codec, s, b, count, sizes) => {
        const header = encodeHeader({ schema: s, codec: codec as CodecName, sync })
        const data = b === "sample" ? Buffer.concat(sampleDatums.slice(0, 20).map((d) => encodeDatum(d, SysFlowSchemaV5))) : b
        const nullCodec = codecFor("null")!
        const block = encodeBlock(data, b === "sample" ? 20 : count, nullCodec, sync)
        const file = Buffer.concat([header, block])
        checkNoBigAllocation(() => checkDirect(file, sizes))
        const r = readDirect(file)
        if (!["null", "deflate", "snappy"].includes(codec)) {
          // An unsupported codec is a header (codec) error, named as such.
          expect(r.error).toBeInstanceOf(TraceError)
          expect((r.error as TraceError).reason).toBe("Codec")
        }
      }),
      fuzzParams(400, 800)
    )
  }, testTimeout(800))
})

// ---------------------------------------------------------------------------------------------------
// Properties: readTraceFile over a temp file

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-fuzz-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** More than one 1 MiB read, so faults can fall in a later read. */
const bigBase = analyse("big-null", synthetic(18_000, "null", 500, 11))

interface FileRead {
  readonly datums: ReadonlyArray<SysFlowDatum>
  readonly error: TraceError | undefined
}

const readFile = async (file: string): Promise<FileRead> => {
  const datums: Array<SysFlowDatum> = []
  const exit = await Effect.runPromiseExit(
    readTraceFile(file).pipe(
      Stream.runForEach((chunk) => Effect.sync(() => datums.push(...chunk))),
      Effect.either
    )
  )
  if (Exit.isFailure(exit)) throw new Error(`readTraceFile died (a defect, not a TraceError):\n${Cause.pretty(exit.cause)}`)
  const result = exit.value
  if (Either.isLeft(result)) {
    expect(result.left).toBeInstanceOf(TraceError)
    return { datums, error: result.left }
  }
  return { datums, error: undefined }
}

let fileNo = 0
const checkFile = async (bytes: Uint8Array, base?: Base, firstChange?: number): Promise<void> => {
  const file = path.join(tmp, `case-${fileNo++}.sf`)
  fs.writeFileSync(file, bytes)
  try {
    const r = await boundedAsync("readTraceFile", CASE_LIMIT_MS * 2, () => readFile(file))
    if (r.error !== undefined) checkTraceErrorLocation(r.error, file, bytes.length)
    const direct = readDirect(bytes)
    // readTraceFile reports what the parser and decoder see, and emits the same datums.
    expect(r.datums.length).toBe(direct.datums.length)
    expect(canonical(r.datums)).toBe(canonical(direct.datums))
    expect(r.error === undefined).toBe(direct.error === undefined)
    checkShapes({ datums: r.datums, error: r.error, schema: direct.schema, failedBlock: undefined })
    if (base !== undefined && firstChange !== undefined) checkPrefix(base, { ...direct, datums: r.datums, error: r.error }, firstChange)
  } finally {
    fs.rmSync(file, { force: true })
  }
}

describe("fuzz: readTraceFile over temp files", () => {
  it("mutated traces (small and > 1 MiB): a TraceError naming the file and an offset inside it, or success", async () => {
    expect(bigBase.bytes.length).toBeGreaterThan(1 << 20)
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: bases.length }),
        fc.array(byteMutation, { minLength: 1, maxLength: 3 }),
        async (bi, ms) => {
          const base = bi === bases.length ? bigBase : bases[bi]
          const { bytes, firstChange } = mutateAll(base.bytes, ms)
          await checkFile(bytes, base, firstChange)
        }
      ),
      fuzzParams(60, 1_500)
    )
  }, testTimeout(1_500))

  it("random junk and empty files", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1024 }), async (bytes) => {
        await checkFile(bytes)
      }),
      fuzzParams(40, 800)
    )
  }, testTimeout(800))
})

// ---------------------------------------------------------------------------------------------------
// Regressions: the inputs that found bugs, kept as explicit cases.

describe("fuzz regressions: trace reader", () => {
  const sync = Buffer.alloc(16, 0x33)
  const fileWith = (codec: string, data: Uint8Array, count = 1): Buffer =>
    Buffer.concat([encodeHeader({ schema: SysFlowSchemaV5, codec: codec as CodecName, sync }), encodeBlock(data, count, codecFor("null")!, sync)])

  it("avro.codec naming an Object.prototype member is an unsupported codec (was a Block error)", () => {
    // Found with seed 20240611: codec "constructor", then "valueOf" (whose function name is "valueOf").
    for (const codec of ["constructor", "valueOf", "__proto__", "toString", "hasOwnProperty"]) {
      const r = readDirect(fileWith(codec, sampleV5Bytes[0]))
      expect(r.error, codec).toBeInstanceOf(TraceError)
      expect((r.error as TraceError).reason, codec).toBe("Codec")
      expect((r.error as TraceError).offset).toBe(0)
    }
  })

  it("a field the model does not know is kept, after the model's fields (seed 4711: a bit flip renamed Process.env to Env)", () => {
    const renamed = JSON.parse(JSON.stringify(SysFlowSchemaV5).replace('{"name":"env",', '{"name":"Env",'))
    const i = sampleDatums.findIndex((d) => d.code === 2)
    const bytes = Buffer.concat([encodeHeader({ schema: renamed, codec: "null", sync }), encodeBlock(sampleV5Bytes[i], 1, codecFor("null")!, sync)])
    const r = readDirect(bytes)
    expect(r.error).toBeUndefined()
    const rec = r.datums[0].rec as unknown as Record<string, unknown>
    expect(Object.keys(rec).slice(-2)).toEqual(["cwd", "Env"])
    expect(rec.Env).toEqual((sampleDatums[i].rec as unknown as Record<string, unknown>).env ?? [])
    expect("env" in rec).toBe(false)
  })

  // If the snappy guard in OcfReader goes, this case loops forever inside snappyjs (the test hangs).
  it("a snappy block whose literal length is negative as an int32 fails fast (snappyjs looped forever)", () => {
    const stream = Buffer.from([0x0a, 0xfc, 0xfa, 0xff, 0xff, 0xff, 0x00])
    const crc = Buffer.alloc(4)
    const r = bounded("reading", 1_000, () => readDirect(fileWith("snappy", Buffer.concat([stream, crc]))))
    expect(r.error).toBeInstanceOf(TraceError)
    expect((r.error as TraceError).reason).toBe("Block")
    expect((r.error as TraceError).detail).toMatch(/corrupt snappy block/)
  })

  it("a bit flip inside snappy data fails fast (seed 1: synthetic-snappy, bit 6 of byte 21590, took 4.5 s)", () => {
    const base = bases.find((b) => b.name === "synthetic-snappy")!
    const { bytes, firstChange } = mutateAll(base.bytes, [{ kind: "flip", at: 569139275, bit: 6 }])
    expect(firstChange).toBe(21590)
    const r = bounded("reading", 1_000, () => readDirect(bytes))
    expect(r.error).toBeInstanceOf(TraceError)
    expect((r.error as TraceError).offset).toBe(19740)
    checkDirect(bytes, [2099, 3369], base, firstChange)
  })

  it("snappy preambles declaring huge outputs are rejected before snappyjs allocates them", () => {
    for (const preamble of [[0xff, 0xff, 0xff, 0xff, 0x07], [0x80, 0x80, 0x80, 0x80, 0x08], [0xff, 0xff, 0xff, 0xff, 0x0f]]) {
      const stream = Buffer.from([...preamble, 0x00, 0x61])
      const r = checkNoBigAllocation(() => readDirect(fileWith("snappy", Buffer.concat([stream, Buffer.alloc(4)]))))
      expect(r.error).toBeInstanceOf(TraceError)
    }
    // A valid snappy block still reads (the guard accepts what snappyjs writes).
    for (const b of bases.filter((x) => x.name.endsWith("snappy"))) expect(readDirect(b.bytes).error).toBeUndefined()
  })

  it("an int field that decodes a long's varint is a Datum error (seed 20240611: FileFlow.openFlags = 1700000000097000000)", () => {
    const { file } = framedCase("deflate", 101, 11, [
      { kind: "overwrite", at: 670428335, bytes: Uint8Array.from([101, 46, 83, 231, 223, 138]) },
      { kind: "flip", at: 744752305, bit: 3 }
    ])
    const r = readDirect(file)
    checkShapes(r)
    expect(r.error).toBeInstanceOf(DatumError)
    expect((r.error as DatumError).message).toMatch(/outside int32/)
  })

  it("a zero-size array item with a 2^31 count, in a schema that allows it, is a Datum error, not a hang", () => {
    const schema = structuredClone(SysFlowSchemaV5) as unknown as { fields: Array<{ type: Array<{ name: string; fields: Array<{ name: string; type: unknown }> }> }> }
    const pe = schema.fields[0].type.find((b) => b.name === "ProcessEvent")!
    pe.fields.find((f) => f.name === "args")!.type = { type: "array", items: "null" }
    // union 4, procOID (1, 2), ts 3, tid 1, opFlags 1, args: 2^31 nulls (avsc looped 2^31 times), ret 0.
    const datum = Buffer.concat([Buffer.from([0x08, 0x02, 0x04, 0x06, 0x02, 0x02]), zigzag(1n << 31n), Buffer.from([0x00, 0x00])])
    const file = Buffer.concat([encodeHeader({ schema, codec: "null", sync }), encodeBlock(datum, 1, codecFor("null")!, sync)])
    const r = bounded("reading", 1_000, () => readDirect(file))
    expect(r.error).toBeInstanceOf(DatumError)
    // ...while a handful of nulls is fine.
    const ok = Buffer.concat([Buffer.from([0x08, 0x02, 0x04, 0x06, 0x02, 0x02]), zigzag(3n), Buffer.from([0x00, 0x00])])
    const r2 = readDirect(Buffer.concat([encodeHeader({ schema, codec: "null", sync }), encodeBlock(ok, 1, codecFor("null")!, sync)]))
    expect(r2.error).toBeUndefined()
    expect((r2.datums[0].rec as unknown as { args: unknown[] }).args).toEqual([null, null, null])
  })

  it("a corrupt metadata count over empty entries is a Header error at once (re-parsing was quadratic)", () => {
    // Magic, a map block of 2^40 entries, then 4 MiB of zeros (empty key, empty value, ...), read in
    // 1 MiB pushes like readTraceFile: each push re-parsed the whole buffer (4 MiB: 4.3 s; 8 MiB: 13 s).
    const bytes = Buffer.concat([Buffer.from("Obj\x01", "latin1"), zigzag(1n << 40n), Buffer.alloc(4 << 20)])
    const r = bounded("reading", 1_000, () => readDirect(bytes, [1 << 20]))
    expect(r.error).toBeInstanceOf(TraceError)
    expect((r.error as TraceError).reason).toBe("Header")
    expect((r.error as TraceError).detail).toMatch(/more than 1024 metadata entries/)
  })
})
