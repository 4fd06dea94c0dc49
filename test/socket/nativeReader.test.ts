/**
 * The socket driver's readers (issue 15): the native one (native/seqpacket.c, NativeIntakeWorker.ts),
 * which reads every packet the socket holds per call, and node-unix-socket, the fallback when the addon
 * is not built or SF_SOCKET_READER=js. (The other socket tests run with whichever `SF_SOCKET_READER`
 * selects: run them once with `SF_SOCKET_READER=js` to cover the fallback.)
 */
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { DriverError } from "../../src/domain/errors.js"
import { initSocketDriver } from "../../src/services/drivers/SocketDriver.js"
import { loadNativeReader } from "../../src/services/drivers/socket/NativeReader.js"
import { connectCollector } from "../support/seqpacketClient.js"
import { generatedTrace } from "./generated.js"
import { encoded, packets, startDriver, tempSocketDir } from "./harness.js"

const linux = process.platform === "linux"
const fallbackLine = /^\[Info\] .*socket: .*reading the socket with node-unix-socket/i

describe.skipIf(!linux)("the native socket reader", () => {
  it("is built (`npm ci` builds it; `node native/build.js` builds it again)", () => {
    const native = loadNativeReader()
    expect("unavailable" in native ? native.unavailable : "built").toBe("built")
  })

  it("a burst over several connections: every packet arrives, each stream whole and in order, in connection order", async () => {
    const traces = [0, 1, 2, 3].map((i) => generatedTrace({ flows: 3_000, exporter: `collector-${i}` }))
    // The waiting collectors' share of the bound (half of queue.size) holds their whole streams.
    const h = await startDriver({ driver: { reader: "native", queueSize: 200_000 } })
    const collectors = []
    for (let i = 0; i < traces.length; i++) {
      collectors.push(await connectCollector(h.sockPath)) // accepted in this order
      await h.waitFor(() => h.stats.connections === i + 1, `connection ${i + 1}`)
    }
    // All send at once: the first is served while the others' packets wait in the driver.
    await Promise.all(collectors.map(async (c, i) => {
      await c.send(packets(traces[i].datums))
      await c.end()
    }))
    const all = traces.flatMap((t) => t.datums)
    await h.waitFor(() => h.records.length === all.length, "every record", 30_000)
    expect(encoded(h.records)).toEqual(encoded(all))
    await h.waitFor(() => h.linesMatching(/Input stream ended \(end of stream\)/).length === traces.length, "every end line")
    for (const t of traces) {
      expect(h.linesMatching(new RegExp(`Input stream ended \\(end of stream\\): ${t.datums.length} records, 0 malformed, 0 truncated, 0 dropped`)).length).toBeGreaterThan(0)
    }
    expect(h.stats).toMatchObject({ connections: traces.length, packets: all.length, records: all.length, dropped: 0, truncated: 0 })
    expect(h.linesMatching(fallbackLine)).toEqual([])
    const exit = await h.stop()
    expect(Exit.isFailure(exit) && !Exit.isInterrupted(exit)).toBe(false)
  })
})

describe.skipIf(!linux)("choosing the reader", () => {
  it("reader js: node-unix-socket, said in one info line; the stream arrives as with the native reader", async () => {
    const trace = generatedTrace({ flows: 500 })
    const h = await startDriver({ driver: { reader: "js" } })
    expect(h.linesMatching(fallbackLine)).toHaveLength(1)
    expect(h.linesMatching(fallbackLine)[0]).toMatch(/SF_SOCKET_READER=js/)
    const c = await connectCollector(h.sockPath)
    await c.send(packets(trace.datums))
    await c.end()
    await h.waitFor(() => h.records.length === trace.datums.length, "every record")
    expect(encoded(h.records)).toEqual(encoded(trace.datums))
    await h.stop()
  })

  it("SF_SOCKET_READER other than native, js or auto is an init error naming it", async () => {
    const before = process.env.SF_SOCKET_READER
    process.env.SF_SOCKET_READER = "fast"
    try {
      const exit = await Effect.runPromiseExit(initSocketDriver(`${tempSocketDir()}/sysflow.sock`))
      expect(Exit.isFailure(exit)).toBe(true)
      const e = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      expect(e).toBeInstanceOf(DriverError)
      expect((e as DriverError).detail).toBe("SF_SOCKET_READER=fast: expected native, js or auto")
    } finally {
      if (before === undefined) delete process.env.SF_SOCKET_READER
      else process.env.SF_SOCKET_READER = before
    }
  })
})
