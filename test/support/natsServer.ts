/**
 * A real nats-server with JetStream for tests: started on a free loopback port with a temporary store,
 * restartable on the same port and store (an outage), killable. Tests skip when nats-server is not
 * installed, with a message saying so; with SF_REQUIRE_NATS=1 (CI) they fail instead.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { describe, it } from "vitest"
import { tempDir } from "./cli.js"

const findNatsServer = (): string | undefined => {
  try {
    return execFileSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

export const natsServerBin = findNatsServer()

/** `describe` when nats-server is installed; otherwise a skip (or, with SF_REQUIRE_NATS=1, a failure). */
export const describeNats = (name: string, body: () => void): void => {
  if (natsServerBin !== undefined) {
    describe(name, body)
  } else if (process.env["SF_REQUIRE_NATS"] === "1") {
    describe(name, () => it("needs nats-server", () => { throw new Error("SF_REQUIRE_NATS=1 but nats-server is not on PATH (apt-get install nats-server)") }))
  } else {
    console.warn(`skipping "${name}": nats-server is not installed (apt-get install nats-server; SF_REQUIRE_NATS=1 makes this a failure)`)
    describe.skip(name, body)
  }
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const waitForPort = async (port: number, ms = 10_000): Promise<void> => {
  const until = Date.now() + ms
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, "127.0.0.1", () => {
        c.destroy()
        resolve(true)
      })
      c.once("error", () => resolve(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`nats-server did not listen on ${port} within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export interface NatsServerOptions {
  /** A server configuration (accounts, users, permissions); `jetstream` and `listen` are added. */
  readonly config?: string
  /** Extra command-line arguments (e.g. `--user u --pass p`). */
  readonly args?: ReadonlyArray<string>
}

export interface NatsServer {
  readonly url: string
  readonly port: number
  readonly storeDir: string
  /** Stops the server (SIGTERM) and waits for it to exit. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and store. */
  readonly start: () => Promise<void>
}

export const startNatsServer = async (options: NatsServerOptions = {}): Promise<NatsServer> => {
  if (natsServerBin === undefined) throw new Error("nats-server is not installed")
  const port = await freePort()
  const dir = tempDir("sfp-nats-")
  const storeDir = path.join(dir, "store")
  const args = ["-a", "127.0.0.1", "-p", String(port)]
  if (options.config !== undefined) {
    const file = path.join(dir, "server.conf")
    fs.writeFileSync(file, `${options.config}\njetstream { store_dir: "${storeDir}" }\n`)
    args.push("-c", file)
  } else {
    args.push("-js", "-sd", storeDir)
  }
  args.push(...(options.args ?? []))
  let child: ChildProcess | undefined
  const start = async () => {
    const c = spawn(natsServerBin, args, { stdio: ["ignore", "ignore", "pipe"] })
    let log = ""
    c.stderr!.on("data", (d: Buffer) => void (log = (log + d.toString()).slice(-4000)))
    c.once("exit", (code) => {
      if (child === c && code !== 0 && code !== null) console.error(`nats-server exited with ${code}: ${log}`)
    })
    child = c
    await waitForPort(port)
  }
  const stop = async () => {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null) return
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve())
      c.kill("SIGTERM")
    })
  }
  await start()
  return { url: `nats://127.0.0.1:${port}`, port, storeDir, stop, start }
}
