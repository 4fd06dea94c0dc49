import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { MemorySink } from "../../src/services/avro/OcfWriter.js"
import { SAMPLE_FILE, generateSyntheticTrace, writeSamples } from "../../src/services/trace/SampleTraces.js"
import { OpFlag } from "../../src/services/trace/TraceWriter.js"
import { blockCounts, decodeOcf, sysflowDatums } from "./avsc.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const committed = path.join(root, "resources/traces", SAMPLE_FILE)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "samples-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

type Rec = Record<string, unknown>
const oidKey = (o: unknown): string => {
  const { hpid, createTS } = o as { hpid: bigint; createTS: bigint }
  return `${hpid}/${createTS}`
}

describe("sample.sf", () => {
  it("is reproduced byte for byte by `npx vite-node scripts/generate-samples.ts`", () => {
    const [file] = writeSamples(tmp)
    expect(fs.existsSync(committed)).toBe(true)
    expect(fs.readFileSync(file).equals(fs.readFileSync(committed))).toBe(true)
  })

  it("holds every record type and the awkward cases the processor must handle", async () => {
    const bytes = fs.readFileSync(committed)
    const datums = sysflowDatums(await decodeOcf(bytes))
    const of = (code: number): Rec[] => datums.filter((d) => d.code === code).map((d) => d.rec)

    expect(datums.length).toBeLessThan(300)
    expect(blockCounts(bytes).length).toBeGreaterThan(1)
    expect(datums[0].code).toBe(0)
    expect(datums[0].rec.exporter).toBe("sfsample")
    expect(new Set(datums.map((d) => d.code))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 10, 11]))

    const fileEvents = of(7)
    expect(fileEvents.some((fe) => fe.opFlags === OpFlag.RENAME && fe.newFileOID !== null)).toBe(true)
    expect(fileEvents.some((fe) => fe.newFileOID === null)).toBe(true)
    expect(of(5).some((nf) => nf.proto === -1)).toBe(true)

    const procs = of(2)
    const known = new Set(procs.map((p) => oidKey(p.oid)))
    expect(procs.some((p) => p.poid !== null && !known.has(oidKey(p.poid)))).toBe(true)
    const containers = new Set(of(1).map((c) => c.id))
    expect(procs.some((p) => p.containerId !== null && !containers.has(p.containerId))).toBe(true)
    expect(of(1).some((c) => c.podId === of(10)[0].id)).toBe(true)

    const exes = procs.map((p) => p.exe)
    for (const exe of ["/usr/bin/apt-get", "/usr/bin/curl", "/usr/bin/wget", "/usr/bin/nc.openbsd"]) {
      expect(exes).toContain(exe)
    }
    const containerShell = (p: Rec) =>
      p.exe === "/bin/bash" && String(p.exeArgs).startsWith("-c ") && p.containerId !== null
    expect(procs.some(containerShell)).toBe(true)
    const paths = new Map(of(3).map((f) => [String(f.oid), String(f.path)]))
    const flowPaths = (flag: number) =>
      of(6)
        .filter((ff) => (ff.opFlags as number) & flag)
        .map((ff) => paths.get(String(ff.fileOID)))
    expect(flowPaths(OpFlag.READ_RECV)).toContain("/etc/shadow")
    expect(flowPaths(OpFlag.WRITE_SEND).some((p) => p?.startsWith("/usr/bin/"))).toBe(true)
  })
})

describe("generateSyntheticTrace", () => {
  const generate = (opts: Parameters<typeof generateSyntheticTrace>[1]) => {
    const sink = new MemorySink()
    const datums = generateSyntheticTrace(sink, opts)
    return { bytes: sink.bytes(), datums }
  }

  it("is deterministic for a seed", () => {
    const a = generate({ records: 5000, seed: 42 })
    expect(a.bytes.equals(generate({ records: 5000, seed: 42 }).bytes)).toBe(true)
    expect(a.bytes.equals(generate({ records: 5000, seed: 43 }).bytes)).toBe(false)
  })

  it("writes each entity before its first use, headers first", async () => {
    const { bytes, datums } = generate({ records: 20_000, seed: 3, processes: 300, files: 2000, blockSize: 2500 })
    const decoded = sysflowDatums(await decodeOcf(bytes))
    expect(decoded).toHaveLength(datums)
    expect(decoded[0].code).toBe(0)

    const containers = new Set<unknown>()
    const procs = new Set<string>()
    const files = new Set<string>()
    const counts = new Map<number, number>()
    for (const { code, rec } of decoded) {
      counts.set(code, (counts.get(code) ?? 0) + 1)
      if (code === 1) containers.add(rec.id)
      else if (code === 2) {
        if (rec.poid !== null) expect(procs.has(oidKey(rec.poid))).toBe(true)
        if (rec.containerId !== null) expect(containers.has(rec.containerId)).toBe(true)
        procs.add(oidKey(rec.oid))
      } else if (code === 3) files.add(String(rec.oid))
      else if (code !== 0) {
        expect(procs.has(oidKey(rec.procOID))).toBe(true)
        if (code === 6 || code === 7) expect(files.has(String(rec.fileOID))).toBe(true)
        if (code === 7 && rec.newFileOID !== null) expect(files.has(String(rec.newFileOID))).toBe(true)
      }
    }
    const events = [4, 5, 6, 7].reduce((n, c) => n + (counts.get(c) ?? 0), 0)
    expect(events).toBe(20_000)
    expect(counts.get(6)! + counts.get(5)!).toBeGreaterThan(0.8 * events)
    expect(procs.size).toBeLessThanOrEqual(300)
  })

  it("streams: 200k records reach the sink block by block with flat memory", () => {
    const chunkSizes: number[] = []
    let peakHeap = 0
    const baseline = process.memoryUsage().heapUsed
    const datums = generateSyntheticTrace(
      {
        write: (chunk) => {
          chunkSizes.push(chunk.length)
          if (chunkSizes.length % 10 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
        },
        close: () => {}
      },
      { records: 200_000, seed: 9, blockSize: 1000 }
    )
    expect(datums).toBeGreaterThan(200_000)
    // The header, then one chunk per block of 1000 datums, each written as soon as it is full.
    expect(chunkSizes).toHaveLength(1 + Math.ceil(datums / 1000))
    expect(Math.max(...chunkSizes)).toBeLessThan(256 * 1024)
    // Holding 200k records would take well over 100 MB.
    expect(peakHeap - baseline).toBeLessThan(64 * 1024 * 1024)
  })
})
