/**
 * Issue 5, socket driver end to end: `sfprocessor -config <reader -> exporter(file,json)> -driver socket
 * <path>` fed by real SOCK_SEQPACKET collectors, compared with the file driver on the same traces.
 * Needs the built CLI (`npm run build`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Chunk, Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import { readTraceFile } from "../../src/services/drivers/TraceFiles.js"
import { fileExportPipeline, lines, runCli, tempDir, writePipeline } from "../support/cli.js"
import { collect, waitForSocket } from "../support/seqpacketClient.js"
import { hasShared, sharedPath, sharedTraces } from "../support/shared.js"
import { generatedTrace } from "./generated.js"
import { interrupt, startCli } from "./cliRun.js"
import { packets } from "./harness.js"

const linux = process.platform === "linux"
const eventTypes = ["PE", "FF", "FE", "NF", "KE"]

const traceDatums = async (file: string): Promise<SysFlowDatum[]> =>
  Chunk.toReadonlyArray(await Effect.runPromise(Stream.runCollect(readTraceFile(file)))).flat()

const typeCounts = (ls: ReadonlyArray<string>): Record<string, number> => {
  const perType: Record<string, number> = {}
  for (const l of ls) {
    const t = (JSON.parse(l) as { type: string }).type
    perType[t] = (perType[t] ?? 0) + 1
  }
  return perType
}

describe.skipIf(!linux)("sfprocessor -driver socket (built CLI, real SOCK_SEQPACKET collectors)", () => {
  it("generated traces: two collectors in sequence, a malformed packet, SIGINT while waiting; output equals the file driver's", async () => {
    const dir = tempDir()
    const traces = path.join(dir, "traces")
    fs.mkdirSync(traces)
    const first = generatedTrace({ flows: 40, exporter: "first", file: path.join(traces, "a_first.sf") })
    const second = generatedTrace({ flows: 25, exporter: "second", file: path.join(traces, "b_second.sf") })
    const sock = path.join(dir, "run", "sysflow.sock") // parent created by the driver (P20)
    const out = path.join(dir, "socket.jsonl")
    const run = startCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "socket", sock])
    await waitForSocket(sock)
    expect(fs.lstatSync(sock).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.dirname(sock)).mode & 0o777).toBe(0o700)

    // Collector 1, with a malformed packet in the middle (P10): nothing else is lost.
    const p1 = packets(first.datums)
    const garbage = Buffer.from([0x7f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06])
    await collect(sock, [...p1.slice(0, 20), garbage, ...p1.slice(20)])
    await run.waitForOutput(/Input stream ended \(end of stream\)/, 1)
    // Collector 2 after the disconnect.
    await collect(sock, packets(second.datums))
    await run.waitForOutput(/Waiting for the next collector/, 2)

    const res = await interrupt(run)
    expect(res.stderr).toMatch(/^\[Error\] .* socket: Deserialization error: .*packet of 7 bytes dropped\n$/)
    expect(res.stdout).toMatch(new RegExp(`Input stream ended \\(end of stream\\): ${first.datums.length} records, 1 malformed`))
    expect(res.stdout).toMatch(/\[Health\] .* socket: Successfully accepted new input stream/)
    expect(fs.existsSync(sock)).toBe(false)

    const fileOut = path.join(dir, "file.jsonl")
    const viaFile = await runCli(["-config", writePipeline(dir, fileExportPipeline(fileOut), "file.json"), "-driver", "file", traces])
    expect(viaFile.code).toBe(0)
    const expected = lines(fileOut)
    expect(expected.length).toBe(Object.values(first.events).reduce((a, b) => a + b, 0) + Object.values(second.events).reduce((a, b) => a + b, 0))
    expect(lines(out)).toEqual(expected)
  })

  it("SIGINT with no collector ever connected: exit 0 at once, socket file removed", async () => {
    const dir = tempDir()
    const sock = path.join(dir, "sysflow.sock")
    const out = path.join(dir, "out.jsonl")
    const run = startCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "socket", sock])
    await waitForSocket(sock)
    const res = await interrupt(run)
    expect(res.stderr).toBe("")
    expect(lines(out)).toEqual([])
    expect(fs.existsSync(sock)).toBe(false)
  })

  it("P25: a directory at the socket path is an init error (exit 1), and the directory is kept", async () => {
    const dir = tempDir()
    const sock = path.join(dir, "sysflow.sock")
    fs.mkdirSync(sock)
    const res = await runCli(["-config", writePipeline(dir, fileExportPipeline(path.join(dir, "out.jsonl"))), "-driver", "socket", sock])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/\[Error\] .*Error caught while starting the pipeline: +socket path .*sysflow\.sock is a directory, not a socket/)
    expect(fs.statSync(sock).isDirectory()).toBe(true)
  })

  describe.skipIf(!hasShared)("the shared traces", () => {
    it("each trace streamed by its own collector (stale socket replaced first): records per type equal the file driver's", async () => {
      const dir = tempDir()
      const traceDir = path.join(dir, "traces")
      fs.mkdirSync(traceDir)
      const names = sharedTraces.map((t, i) => {
        const name = `${i}_${t.name}`
        fs.copyFileSync(sharedPath("traces", t.name), path.join(traceDir, name))
        return name
      })
      // A stale socket file from an earlier run.
      const sock = path.join(dir, "sysflow.sock")
      const { SeqpacketServer } = await import("node-unix-socket")
      const stale = new SeqpacketServer()
      stale.listen(sock)
      stale.close()
      // A second link keeps the stale inode allocated, so the new socket file cannot reuse its number.
      fs.linkSync(sock, path.join(dir, "stale.sock"))
      const staleIno = fs.lstatSync(sock).ino

      const out = path.join(dir, "socket.jsonl")
      const run = startCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "socket", sock])
      await waitForSocket(sock, 15_000, staleIno)
      for (const [i, name] of names.entries()) {
        // Every datum re-encoded in the v4 socket layout, whatever the file's own layout.
        await collect(sock, packets(await traceDatums(path.join(traceDir, name))))
        await run.waitForOutput(/Input stream ended \(end of stream\)/, i + 1, 30_000)
      }
      await interrupt(run)

      const fileOut = path.join(dir, "file.jsonl")
      const viaFile = await runCli(["-config", writePipeline(dir, fileExportPipeline(fileOut), "file.json"), "-driver", "file", traceDir])
      expect(viaFile.code).toBe(0)
      const socketLines = lines(out)
      const fileLines = lines(fileOut)
      // Per trace (the streams follow one another in the same order as the directory's files).
      let at = 0
      for (const t of sharedTraces) {
        const expected = Object.fromEntries(Object.entries(t.counts).filter(([k]) => eventTypes.includes(k)))
        const n = Object.values(expected).reduce((a, b) => a + b, 0)
        expect({ trace: t.name, counts: typeCounts(socketLines.slice(at, at + n)) }).toEqual({ trace: t.name, counts: typeCounts(fileLines.slice(at, at + n)) })
        expect(typeCounts(socketLines.slice(at, at + n))).toEqual(expected)
        at += n
      }
      expect(socketLines.length).toBe(at)
      expect(socketLines).toEqual(fileLines)
    })
  })
})
