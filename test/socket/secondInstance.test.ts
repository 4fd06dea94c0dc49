/**
 * Issue 10 §4: a second processor on the same socket path must not steal the first one's socket. The
 * reference (and sfprocessor before) unlinked the live socket: the first processor kept running,
 * reported healthy and never received another record. Now the driver connects first and refuses when
 * a server answers; only a stale socket file (its process is gone) is replaced.
 * The CLI tests need the built CLI (`npm run build`).
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { Effect, Exit } from "effect"
import { SeqpacketServer } from "node-unix-socket"
import { describe, expect, it } from "vitest"
import { refuseLiveSocket } from "../../src/services/drivers/socket/SocketPath.js"
import { fileExportPipeline, lines, runCli, tempDir, writePipeline } from "../support/cli.js"
import { collect, waitForSocket } from "../support/seqpacketClient.js"
import { interrupt, startCli } from "./cliRun.js"
import { generatedTrace } from "./generated.js"
import { packets, startDriver, tempSocketDir } from "./harness.js"

const linux = process.platform === "linux"

const probe = (sock: string) => Effect.runPromiseExit(refuseLiveSocket(sock))
const failureText = (exit: Exit.Exit<void, unknown>): string =>
  Exit.isFailure(exit) ? String((exit.cause as { error?: { detail?: string } }).error?.detail) : "succeeded"

describe.skipIf(!linux)("refuseLiveSocket: is anyone listening?", () => {
  it("refuses a live SOCK_SEQPACKET listener (the stream probe gets EPROTOTYPE)", async () => {
    const sock = path.join(tempSocketDir(), "s.sock")
    const server = new SeqpacketServer()
    server.listen(sock)
    try {
      expect(failureText(await probe(sock))).toBe(
        `another process is listening on ${sock}: refusing to replace its socket (stop that process first, or choose another path)`
      )
    } finally {
      server.close()
    }
  })

  it("refuses a live SOCK_STREAM server, which sees the probe connect and go", async () => {
    const sock = path.join(tempSocketDir(), "s.sock")
    let accepted = 0
    const server = net.createServer((c) => {
      accepted++
      c.destroy()
    })
    await new Promise<void>((r) => server.listen(sock, r))
    try {
      expect(failureText(await probe(sock))).toMatch(/^another process is listening on /)
    } finally {
      await new Promise((r) => server.close(r))
    }
    expect(accepted).toBeLessThanOrEqual(1)
  })

  it("lets a stale socket file (nobody bound to it) and a missing file through", async () => {
    const sock = path.join(tempSocketDir(), "s.sock")
    const server = new SeqpacketServer()
    server.listen(sock)
    server.close()
    expect(fs.lstatSync(sock).isSocket()).toBe(true)
    expect(Exit.isSuccess(await probe(sock))).toBe(true)
    fs.unlinkSync(sock)
    expect(Exit.isSuccess(await probe(sock))).toBe(true)
  })
})

describe.skipIf(!linux)("the driver's run step checks again before it unlinks", () => {
  it("a second driver on a live path fails without touching the socket; the first keeps receiving", async () => {
    const first = await startDriver()
    const ino = fs.lstatSync(first.sockPath).ino
    const second = await startDriver({ sockPath: first.sockPath, noWait: true })
    const exit = await second.done
    expect(failureText(exit)).toBe(
      `another process is listening on ${first.sockPath}: refusing to replace its socket (stop that process first, or choose another path)`
    )
    expect(fs.lstatSync(first.sockPath).ino).toBe(ino)
    const trace = generatedTrace({ flows: 10 })
    await collect(first.sockPath, packets(trace.datums))
    await first.waitFor(() => first.records.length === trace.datums.length, "the records")
    await first.stop()
    await second.stop()
    expect(fs.existsSync(first.sockPath)).toBe(false) // the first removed its own socket file at stop
  })
})

describe.skipIf(!linux)("two processors on one socket path (built CLI)", () => {
  it("the second exits 1 with a clear error and touches nothing; the first keeps receiving records", async () => {
    const dir = tempDir()
    const sock = path.join(dir, "sysflow.sock")
    const outA = path.join(dir, "a.jsonl")
    const outB = path.join(dir, "b.jsonl")
    const first = startCli(["-config", writePipeline(dir, fileExportPipeline(outA), "a.json"), "-driver", "socket", sock])
    await first.waitForOutput(/Listening for a collector/)
    const ino = fs.lstatSync(sock).ino

    const second = await runCli(["-config", writePipeline(dir, fileExportPipeline(outB), "b.json"), "-driver", "socket", sock])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(`another process is listening on ${sock}: refusing to replace its socket`)
    expect(second.stderr.trim().split("\n")).toHaveLength(1)
    expect(fs.lstatSync(sock).ino).toBe(ino) // the socket file is the first processor's still
    expect(fs.existsSync(outB)).toBe(false) // refused at init, before any output is opened

    // The first processor still receives what a collector sends.
    const trace = generatedTrace({ flows: 30 })
    await collect(sock, packets(trace.datums))
    await first.waitForOutput(/Input stream ended \(end of stream\)/)
    await interrupt(first)
    expect(lines(outA)).toHaveLength(Object.values(trace.events).reduce((a, b) => a + b, 0))
  })

  it("a socket file left by a SIGKILLed processor is stale: the next one replaces it and receives records", async () => {
    const dir = tempDir()
    const sock = path.join(dir, "sysflow.sock")
    const killed = startCli(["-config", writePipeline(dir, fileExportPipeline(path.join(dir, "killed.jsonl")), "killed.json"), "-driver", "socket", sock])
    await killed.waitForOutput(/Listening for a collector/)
    killed.signal("SIGKILL")
    expect((await killed.result).signal).toBe("SIGKILL")
    expect(fs.lstatSync(sock).isSocket()).toBe(true) // left behind
    // A second link keeps the stale inode allocated, so the new socket file cannot reuse its number.
    fs.linkSync(sock, path.join(dir, "stale.sock"))
    const staleIno = fs.lstatSync(sock).ino

    const out = path.join(dir, "out.jsonl")
    const next = startCli(["-config", writePipeline(dir, fileExportPipeline(out)), "-driver", "socket", sock])
    await waitForSocket(sock, 15_000, staleIno)
    const trace = generatedTrace({ flows: 20 })
    await collect(sock, packets(trace.datums))
    await next.waitForOutput(/Input stream ended \(end of stream\)/)
    const res = await interrupt(next)
    expect(res.stderr).toBe("")
    expect(lines(out)).toHaveLength(Object.values(trace.events).reduce((a, b) => a + b, 0))
  })
})
