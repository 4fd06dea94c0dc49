/**
 * A real rsyslogd for the syslog exporter tests: a temp rsyslog.conf with imtcp / imudp / imtcp+TLS
 * (gtls) inputs on free loopback ports, bound to a ruleset whose only action writes each message's raw
 * text (`%rawmsg%`, the bytes the client sent minus the LF framing) as one line of a temp file.
 *
 * Suites call `rsyslogAvailable()` to skip when rsyslogd is not installed, unless `SF_REQUIRE_RSYSLOG=1`
 * (CI), which turns a missing rsyslogd into a failure.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as dgram from "node:dgram"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { tempDir } from "./cli.js"

const CANDIDATES = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"]

/** The rsyslogd binary, or undefined when it is not installed. */
export const rsyslogdPath = (): string | undefined => {
  // SF_RSYSLOGD names the binary (a path that does not exist means "not installed").
  if (process.env.SF_RSYSLOGD) return fs.existsSync(process.env.SF_RSYSLOGD) ? process.env.SF_RSYSLOGD : undefined
  const found = CANDIDATES.find((p) => fs.existsSync(p))
  if (found) return found
  try {
    return execFileSync("sh", ["-c", "command -v rsyslogd"], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

export const rsyslogRequired = (): boolean => process.env.SF_REQUIRE_RSYSLOG === "1"

/**
 * Whether the rsyslog suites can run. Without rsyslogd they are skipped with a message on stderr,
 * unless SF_REQUIRE_RSYSLOG=1, in which case this throws (the suite fails).
 */
export const rsyslogAvailable = (): boolean => {
  if (rsyslogdPath() !== undefined) return true
  const install = "apt-get install rsyslog rsyslog-gnutls openssl"
  if (rsyslogRequired()) {
    throw new Error(`rsyslogd is not installed and SF_REQUIRE_RSYSLOG=1: the syslog exporter tests against a real rsyslog cannot run (${install})`)
  }
  process.stderr.write(
    `[syslog tests] rsyslogd is not installed: the syslog exporter tests against a real rsyslog are skipped (${install}; SF_REQUIRE_RSYSLOG=1 makes this a failure)\n`
  )
  return false
}

/** A free port on 127.0.0.1 for `kind` (bound then released; the kernel does not hand it out again at once). */
export const freePort = (kind: "tcp" | "udp" = "tcp"): Promise<number> =>
  new Promise((resolve, reject) => {
    if (kind === "udp") {
      const s = dgram.createSocket("udp4")
      s.once("error", reject)
      s.bind(0, "127.0.0.1", () => {
        const { port } = s.address()
        s.close(() => resolve(port))
      })
    } else {
      const srv = net.createServer()
      srv.once("error", reject)
      srv.listen(0, "127.0.0.1", () => {
        const { port } = srv.address() as net.AddressInfo
        srv.close(() => resolve(port))
      })
    }
  })

/** Whether something listens on 127.0.0.1:`port` (/proc/net/{tcp,udp}: TCP in LISTEN state, UDP bound). */
const bound = (kind: "tcp" | "udp", port: number): boolean => {
  const hex = port.toString(16).toUpperCase().padStart(4, "0")
  const table = fs.readFileSync(`/proc/net/${kind}`, "utf8").split("\n").slice(1)
  return table.some((line) => {
    const cols = line.trim().split(/\s+/)
    if (cols.length < 4) return false
    const [, local, , state] = cols
    return local.endsWith(`:${hex}`) && (kind === "udp" || state === "0A")
  })
}

/**
 * Datagrams the kernel dropped for the UDP socket(s) bound to `port` because the receive buffer was
 * full (the `drops` column of /proc/net/udp and udp6).
 */
export const udpDrops = (port: number): number => {
  const hex = port.toString(16).toUpperCase().padStart(4, "0")
  let drops = 0
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    if (!fs.existsSync(table)) continue
    for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length >= 13 && cols[1].endsWith(`:${hex}`)) drops += Number(cols[cols.length - 1]) || 0
    }
  }
  return drops
}

/**
 * Whether rsyslogd gets the receive buffer `rcvbufSize` asks for: it forces it (SO_RCVBUFFORCE) when it
 * has CAP_NET_ADMIN (it inherits our capabilities), else the kernel caps it at net.core.rmem_max.
 */
export const udpBufferHonoured = (bytes = 64 * 1024 * 1024): boolean => {
  try {
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1]
    const CAP_NET_ADMIN = 12n
    if (capEff !== undefined && ((BigInt(`0x${capEff}`) >> CAP_NET_ADMIN) & 1n) === 1n) return true
    return Number(fs.readFileSync("/proc/sys/net/core/rmem_max", "utf8").trim()) >= bytes
  } catch {
    return false
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface TlsFiles {
  readonly ca: string
  readonly cert: string
  readonly key: string
}

export interface RsyslogOptions {
  readonly tcp?: boolean
  readonly udp?: boolean
  /** Serve TLS (gtls, anonymous clients) with this server certificate and key. */
  readonly tls?: TlsFiles
  /** imudp receive buffer (rsyslog uses SO_RCVBUFFORCE when it runs as root). */
  readonly udpRcvBuf?: string
}

export interface Rsyslog {
  readonly dir: string
  /** Every message received, as sent (without the LF framing), one per line. */
  readonly outFile: string
  readonly tcpPort: number
  readonly udpPort: number
  readonly tlsPort: number
  /** The messages written to the output file so far. */
  readonly messages: () => string[]
  /** Waits until `pick(messages)` holds at least `n` messages (or the timeout passes); returns them. */
  readonly waitFor: (n: number, timeoutMs?: number, pick?: (all: string[]) => string[]) => Promise<string[]>
  /** SIGTERM (rsyslog's own orderly shutdown; a paused server is continued first), wait for exit. */
  readonly stop: () => Promise<void>
  /** SIGSTOP: the server reads nothing more (its sockets' receive queues fill up, senders block) until `stop`. */
  readonly pause: () => void
  /** Starts the same configuration again (same ports, same output file, appended). */
  readonly start: () => Promise<void>
  readonly running: () => boolean
  /** What rsyslogd printed (for failure messages). */
  readonly log: () => string
}

/** The rsyslog.conf for `opts` (exported for docs/tests that show it). */
export const rsyslogConf = (
  dir: string,
  outFile: string,
  ports: { tcp?: number; udp?: number; tls?: number },
  opts: RsyslogOptions
): string => {
  const lines: string[] = []
  const g = [`workDirectory="${dir}"`, `maxMessageSize="64k"`]
  if (opts.tls) {
    g.push(
      `defaultNetstreamDriverCAFile="${opts.tls.ca}"`,
      `defaultNetstreamDriverCertFile="${opts.tls.cert}"`,
      `defaultNetstreamDriverKeyFile="${opts.tls.key}"`
    )
  }
  lines.push(`global(${g.join(" ")})`)
  if (ports.tls !== undefined) {
    lines.push(`module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")`)
    lines.push(`input(type="imtcp" address="127.0.0.1" port="${ports.tls}" ruleset="sf")`)
  } else if (ports.tcp !== undefined) {
    lines.push(`module(load="imtcp")`)
    lines.push(`input(type="imtcp" address="127.0.0.1" port="${ports.tcp}" ruleset="sf")`)
  }
  if (ports.udp !== undefined) {
    lines.push(`module(load="imudp")`)
    lines.push(`input(type="imudp" address="127.0.0.1" port="${ports.udp}" ruleset="sf" rcvbufSize="${opts.udpRcvBuf ?? "64m"}")`)
  }
  lines.push(`template(name="raw" type="string" string="%rawmsg%\\n")`)
  lines.push(`ruleset(name="sf") {`, `  action(type="omfile" file="${outFile}" template="raw")`, `}`)
  return lines.join("\n") + "\n"
}

const started = new Set<Rsyslog>()

/** Stops every rsyslogd this process started (call it in afterAll: it also covers a beforeAll that failed half-way). */
export const stopAllRsyslog = async (): Promise<void> => {
  await Promise.all([...started].map((s) => s.stop()))
}

/** Starts rsyslogd in the foreground with a fresh config; `stopAllRsyslog()` (or `stop()`) in afterAll. */
export const startRsyslog = async (opts: RsyslogOptions): Promise<Rsyslog> => {
  const bin = rsyslogdPath()
  if (bin === undefined) throw new Error("rsyslogd is not installed")
  const dir = tempDir("sf-rsyslog-")
  const outFile = path.join(dir, "received.log")
  const ports = {
    tcp: opts.tcp ? await freePort("tcp") : undefined,
    udp: opts.udp ? await freePort("udp") : undefined,
    tls: opts.tls ? await freePort("tcp") : undefined
  }
  const conf = path.join(dir, "rsyslog.conf")
  fs.writeFileSync(conf, rsyslogConf(dir, outFile, ports, opts))
  const pidFile = path.join(dir, "rsyslogd.pid")

  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let output = ""

  const start = async () => {
    fs.rmSync(pidFile, { force: true })
    const c = spawn(bin, ["-n", "-f", conf, "-i", pidFile], { stdio: ["ignore", "pipe", "pipe"] })
    child = c
    c.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d))
    c.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d))
    let gone = false
    // Never leave an rsyslogd behind when the test process exits.
    const reap = () => c.kill("SIGKILL")
    process.once("exit", reap)
    exited = new Promise((resolve) =>
      c.once("exit", () => {
        gone = true
        process.off("exit", reap)
        resolve()
      })
    )
    const deadline = Date.now() + 10_000
    const ready = () =>
      (ports.tcp === undefined || bound("tcp", ports.tcp)) &&
      (ports.tls === undefined || bound("tcp", ports.tls)) &&
      (ports.udp === undefined || bound("udp", ports.udp))
    while (!ready()) {
      const hint = opts.tls ? " (TLS needs rsyslog's gtls stream driver: package rsyslog-gnutls)" : ""
      if (gone) throw new Error(`rsyslogd exited at start${hint} (config ${conf}):\n${output}`)
      if (/could not load module|activation of module \S+ failed/.test(output) || Date.now() > deadline) {
        c.kill("SIGKILL")
        throw new Error(`rsyslogd did not start its inputs${hint} (config ${conf}):\n${output}`)
      }
      await sleep(20)
    }
  }

  const stop = async () => {
    const c = child
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    c.kill("SIGCONT")
    c.kill("SIGTERM")
    const timer = setTimeout(() => c.kill("SIGKILL"), 5000)
    await exited
    clearTimeout(timer)
    child = undefined
  }

  const messages = (): string[] => {
    if (!fs.existsSync(outFile)) return []
    const text = fs.readFileSync(outFile, "utf8")
    return text.split("\n").filter((l) => l !== "")
  }

  const waitFor = async (n: number, timeoutMs = 10_000, pick: (all: string[]) => string[] = (all) => all): Promise<string[]> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const got = pick(messages())
      if (got.length >= n || Date.now() > deadline) return got
      await sleep(25)
    }
  }

  const server: Rsyslog = {
    dir,
    outFile,
    tcpPort: ports.tcp ?? 0,
    udpPort: ports.udp ?? 0,
    tlsPort: ports.tls ?? 0,
    messages,
    waitFor,
    stop,
    start,
    pause: () => void child?.kill("SIGSTOP"),
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    log: () => output
  }
  started.add(server)
  await start()
  return server
}

/**
 * A test PKI made with the openssl CLI: a CA, a server certificate for `localhost` / 127.0.0.1 signed by
 * it, and an unrelated self-signed certificate (for "not trusted") and a CA-signed one for another name.
 */
export interface TestPki {
  readonly dir: string
  readonly caCert: string
  /** Signed by the CA, SAN DNS:localhost, IP:127.0.0.1. */
  readonly server: TlsFiles
  /** Self-signed, SAN DNS:localhost, IP:127.0.0.1 (not in the CA file). */
  readonly selfSigned: TlsFiles
  /** Signed by the CA for DNS:syslog.example.net only (wrong host name). */
  readonly wrongName: TlsFiles
}

export const makeTestPki = (): TestPki => {
  const dir = tempDir("sf-pki-")
  const f = (name: string) => path.join(dir, name)
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
  const ext = (san: string) => {
    const file = f(`ext-${san.replace(/[^a-z0-9]/gi, "_")}.cnf`)
    fs.writeFileSync(file, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`)
    return file
  }
  const key = (name: string) => ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f(name))
  // CA
  key("ca.key")
  ssl("req", "-x509", "-new", "-key", f("ca.key"), "-sha256", "-days", "2", "-subj", "/CN=sfprocessor test CA", "-out", f("ca.pem"),
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
  const signed = (name: string, cn: string, san: string): TlsFiles => {
    key(`${name}.key`)
    ssl("req", "-new", "-key", f(`${name}.key`), "-subj", `/CN=${cn}`, "-out", f(`${name}.csr`))
    ssl("x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-days", "2", "-sha256",
      "-extfile", ext(san), "-out", f(`${name}.pem`))
    return { ca: f("ca.pem"), cert: f(`${name}.pem`), key: f(`${name}.key`) }
  }
  const server = signed("server", "localhost", "DNS:localhost,IP:127.0.0.1")
  const wrongName = signed("wrong", "syslog.example.net", "DNS:syslog.example.net")
  key("self.key")
  ssl("req", "-x509", "-new", "-key", f("self.key"), "-sha256", "-days", "2", "-subj", "/CN=localhost", "-out", f("self.pem"),
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
  const selfSigned = { ca: f("self.pem"), cert: f("self.pem"), key: f("self.key") }
  return { dir, caCert: f("ca.pem"), server, selfSigned, wrongName }
}
