// `npm run bench:live`: the live path, as the collector feeds it. A SOCK_SEQPACKET sender (one Avro datum per
// packet, as sf-collector sends them) streams generated records into `sfprocessor -driver socket`:
//
//   1. paced at 1,000 and 10,000 events/s through the runtimeintegrity policies to JSON on stdout: alert
//      latency, from the send of a probe record to its alert line on the processor's stdout (p50/p99/max),
//      in a processor just started and in one that has seen 20,000 events (LIVE_WARMUP);
//   2. flat out through the runtimeintegrity policies to a JSON file: sustained intake (datums/s from the
//      first send to the last one the socket took), datums lost or dropped, and the longest the sender
//      waited for the socket to take a packet (what a collector blocked in send() would wait). The sender
//      is a small python3 collector with blocking sends when python3 is there, else node-unix-socket.
//      Flat out the sender is faster than the processor, so it waits by design (backpressure);
//   3. paced at an intake rate below that (python3 only), the same pipeline: how long the collector is
//      blocked in send() when the processor keeps up (the longest send, and the sends over 10 ms);
//   4. the machine's floor for 1. (python3 only): the same sender, probes and timing against a minimal
//      reader in python3 that does nothing but print each probe's line as it arrives. What 1. measures
//      above that floor is the processor's; the floor is what this machine and this benchmark allow.
//
// It prints figures and judges nothing. Records are generated (no ../shared needed): a container, a few
// processes, file and network flows, and probes: an exec of /tmp/sf-latency-probe whose pid is its
// sequence number, which a probe rule (beside the runtimeintegrity rules) turns into an alert, and which
// exits with the next event (the processor forgets exited processes, EntityCache.ts). Each paced
// run has about LIVE_PROBES probes, spread evenly (every 5th event at 1 k ev/s for 5 s, every 50th at
// 10 k): a p99 of 100 samples would be their maximum.
//
//   LIVE_SECONDS   seconds of each paced run (default 5)
//   LIVE_RATES     paced rates, comma-separated (default 1000,10000)
//   LIVE_PROBES    probes per paced run (default 1000)
//   LIVE_FLATOUT   datums of the flat-out run (default 1000000; 0 skips it)
//   LIVE_INTAKE    datums/s of the paced intake run, for LIVE_SECONDS (default 100000; 0 skips it)
//   LIVE_FLOOR     0 skips the floor runs (default: one per paced rate, when python3 is there)
//   LIVE_WARMUP    warm-ups, comma-separated (default 0,20000): each paced rate runs once per value, in a
//                  new processor, after that many events sent at 10,000 datums/s (their probes alert but
//                  are not timed) and 2 s of quiet. 0 is a processor just started; 20000 one that has seen
//                  traffic and alerts, whose per-record code V8 has compiled (docs/performance.md, "The
//                  live path")
//   LIVE_NODE_OPTIONS  node options for the processor (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
//   SF_SOCKET_READER   passed on to the processor: js measures the node-unix-socket reader (the fallback
//                      when the native one is not built); each line names the reader that ran
//
// Each line also gives the processor's peak RSS; the flat-out line its CPU seconds (user + system, all
// threads), which vary less than the rates on a shared machine; a paced line the CPU per event over the
// run's second half, on the main thread and on the others (reader thread, V8's GC and compiler threads).
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { SeqpacketSocket } from "node-unix-socket"
import { MemorySink } from "../dist/services/avro/OcfWriter.js"
import { OpenFlag, OpFlag, TraceWriter, encodeDatum } from "../dist/services/trace/TraceWriter.js"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const seconds = Number(process.env.LIVE_SECONDS ?? 5)
const rates = (process.env.LIVE_RATES ?? "1000,10000").split(",").filter(Boolean).map(Number)
const flatOut = Number(process.env.LIVE_FLATOUT ?? 1_000_000)
const intakeRate = Number(process.env.LIVE_INTAKE ?? 100_000)
const probesPerRun = Number(process.env.LIVE_PROBES ?? 1000)
const warmups = (process.env.LIVE_WARMUP ?? "0,20000").split(",").filter(Boolean).map(Number)
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100
const PROBE_EXE = "/tmp/sf-latency-probe"

/**
 * `events` events after the entities, as socket packets; every `probeEvery`th is a probe, which carries its
 * event index as pid. `firstOf[k]` is the index of the first packet of event `k` (an event may bring a
 * new file's or process's datum before its own).
 */
const packetsFor = (events, probeEvery = 50) => {
  const packets = []
  const w = new TraceWriter(new MemorySink(), { version: 4 })
  w.write = (d) => void packets.push(encodeDatum(d))
  w.header({ exporter: "sflive", ip: "10.0.0.1", filename: "/mnt/data/live" })
  w.container({ id: "c0ffee123456", name: "web", image: "nginx:1.25" })
  const init = w.process({ pid: 1n, exe: "/sbin/init" })
  const nginx = w.process({ pid: 200n, exe: "/usr/sbin/nginx", exeArgs: "-g daemon off;", parent: init, containerId: "c0ffee123456" })
  const probes = new Map()
  const firstOf = []
  let probe
  for (let i = 0; i < events; i++) {
    firstOf.push(packets.length)
    if (i % probeEvery === probeEvery - 1) {
      probe = w.process({ pid: BigInt(100_000 + i), exe: PROBE_EXE, parent: nginx, containerId: "c0ffee123456" })
      probes.set(100_000 + i, packets.length)
      w.processEvent({ proc: probe, opFlags: OpFlag.EXEC })
    } else if (probe !== undefined) {
      // The probe exits with the next event, as a short-lived process does.
      w.processEvent({ proc: probe, opFlags: OpFlag.EXIT })
      probe = undefined
    } else if (i % 2 === 0) {
      w.fileFlow({ proc: nginx, opFlags: OpFlag.OPEN | OpFlag.READ_RECV | OpFlag.CLOSE, file: `/var/www/html/page${i % 100}.html`, openFlags: OpenFlag.RDONLY, numRRecvOps: 1n, numRRecvBytes: 512n })
    } else {
      w.networkFlow({ proc: nginx, opFlags: OpFlag.ACCEPT | OpFlag.READ_RECV | OpFlag.WRITE_SEND, sip: "10.0.0.9", sport: 40000 + (i % 20000), dip: "10.0.0.1", dport: 443 })
    }
  }
  return { packets, probes, firstOf }
}

/** A pipeline file and a policy directory (runtimeintegrity + the probe rule) in `dir`. */
const pipelineFile = (dir, exporter) => {
  const policies = path.join(dir, "policies")
  fs.mkdirSync(policies, { recursive: true })
  const shipped = path.join(root, "policies", "runtimeintegrity")
  for (const f of fs.readdirSync(shipped)) fs.copyFileSync(path.join(shipped, f), path.join(policies, f))
  fs.writeFileSync(
    path.join(policies, "90-probe.yaml"),
    `- rule: Latency probe\n  desc: the live benchmark's probe\n  condition: sf.opflags = EXEC and sf.proc.exe = ${PROBE_EXE}\n  priority: low\n`
  )
  const config = path.join(dir, "pipeline.json")
  fs.writeFileSync(
    config,
    JSON.stringify({
      pipeline: [
        { processor: "sysflowreader", handler: "flattener", in: "sysflow sysflowchan", out: "flat flattenerchan" },
        { processor: "policyengine", in: "flat flattenerchan", out: "evt eventchan", mode: "alert", policies },
        { processor: "exporter", in: "evt eventchan", format: "json", ...exporter }
      ]
    })
  )
  return config
}

const waitForSocket = async (p, logs) => {
  const deadline = Date.now() + 60_000
  while (!fs.existsSync(p)) {
    if (Date.now() > deadline) throw new Error(`no socket at ${p} after 60 s; the processor logged:\n${logs()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Hands each JSON line of `stream` to `onLine` with the time it arrived; keeps the other lines (logs). */
const readLines = (stream, onLine) => {
  let logs = ""
  let rest = ""
  stream.on("data", (d) => {
    const now = performance.now()
    const lines = (rest + d).split("\n")
    rest = lines.pop()
    for (const line of lines) {
      if (line.startsWith("{")) onLine(line, now)
      else logs += `${line}\n`
    }
  })
  return { logs: () => logs }
}

/** Starts the processor on a socket in a temporary directory; `onLine` sees each stdout line. */
const startProcessor = async (exporter, onLine) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sflive-"))
  const sock = path.join(dir, "sysflow.sock")
  const child = spawn(process.execPath, [...(process.env.LIVE_NODE_OPTIONS ?? "").split(" ").filter(Boolean), path.join(root, "bin", "sfprocessor.js"), "-config", pipelineFile(dir, exporter), "-driver", "socket", sock], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  // Log lines (the Summary among them) go to stdout and stderr, alerts to stdout.
  let stderr = ""
  child.stderr.on("data", (d) => (stderr += d))
  const stdout = readLines(child.stdout, onLine)
  const logs = () => stderr + stdout.logs()
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)))
  await waitForSocket(sock, logs)
  // CPU seconds of the processor so far (user + system): all its threads, and its main thread alone. On a
  // shared machine the CPU per datum varies less than the rates do.
  const cpu = () => ({ all: cpuSecondsOf(`/proc/${child.pid}/stat`), main: cpuSecondsOf(`/proc/${child.pid}/task/${child.pid}/stat`) })
  const stop = async () => {
    // Peak RSS (the kernel's high-water mark) before the drain.
    const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1])
    const cpuSeconds = cpu().all
    child.kill("SIGTERM")
    const code = await exited
    const summary = /Summary: ([\d,]+) records read.*?([\d,]+) dropped, ([\d,]+) errors/.exec(logs())
    const num = (s) => Number(s.replace(/,/g, ""))
    fs.rmSync(dir, { recursive: true, force: true })
    const reader = /native socket reader is not available|SF_SOCKET_READER=js/.test(logs()) ? "node-unix-socket" : "native"
    return { code, read: summary ? num(summary[1]) : NaN, dropped: summary ? num(summary[2]) : NaN, peakMiB: Math.round(peakKiB / 1024), cpuSeconds, reader }
  }
  return { sock, dir, stop, cpu }
}

/** User + system CPU seconds in a /proc stat file (fields 14 and 15, counted after the command's parentheses). */
const cpuSecondsOf = (file) => {
  const stat = fs.readFileSync(file, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

const connect = (sock) =>
  new Promise((resolve, reject) => {
    const s = new SeqpacketSocket()
    s.on("error", reject)
    s.connect(sock, () => resolve(s))
  })

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
const ms = (v) => (v === undefined ? "-" : v.toFixed(2))

/** p50, p99 and max of latencies (sorted in place). */
const summary = (latencies) => {
  latencies.sort((a, b) => a - b)
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) }
}

/** A summary as printed. */
const summaryText = (s) => `p50 ${ms(s.p50)} ms, p99 ${ms(s.p99)} ms, max ${ms(s.max)} ms`

/** Paced at `rate` events/s for `seconds`, after `warmup` events: alert latency of the probes. */
const paced = async (rate, warmup, floor = false) => {
  const { packets, probes, firstOf } = packetsFor(warmup + rate * seconds, Math.max(2, Math.round((rate * seconds) / probesPerRun)))
  // The paced part starts with event `warmup`: the warm-up's probes alert too (so the alert path is warm)
  // but are not timed.
  const pacedFrom = firstOf[warmup]
  const timed = [...probes.values()].filter((index) => index >= pacedFrom).length
  const sentAt = new Map()
  const latencies = []
  // The probes sent in the run's second half: past most of start-up's compiling (V8 optimises the
  // per-record code over the first seconds at these rates), what a long-running processor shows.
  const lateLatencies = []
  let lateFrom = Infinity
  const proc = await (floor ? startFloor(probes) : startProcessor)({ export: "terminal" }, (line, now) => {
    if (!line.includes("Latency probe")) return
    const pid = JSON.parse(line).proc.pid
    const t = sentAt.get(pid)
    if (t === undefined) return
    latencies.push(now - t)
    if (t >= lateFrom) lateLatencies.push(now - t)
  })
  const socket = await connect(proc.sock)
  const pidAt = new Map([...probes].map(([pid, index]) => [index, pid]))
  const interval = 1000 / rate
  // The entities (header, container, processes) go first, unpaced: a collector sends them at start.
  let i = 0
  while (i < firstOf[0]) socket.write(packets[i], 0, packets[i].length), i++
  // The warm-up: 20 datums every 2 ms, then quiet while V8 finishes compiling what they made hot.
  if (warmup > 0) {
    while (i < pacedFrom) {
      socket.write(packets[i], 0, packets[i].length)
      if (++i % 20 === 0) await new Promise((r) => setTimeout(r, 2))
    }
    await new Promise((r) => setTimeout(r, 2000))
  }
  const t0 = performance.now()
  lateFrom = t0 + (seconds * 1000) / 2
  const half = Math.floor((rate * seconds) / 2)
  let event = 0
  let cpuBefore
  while (i < packets.length) {
    const due = t0 + event * interval
    const now = performance.now()
    if (now < due) {
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(1, due - now))))
      continue
    }
    // A probe is two datums (its process record, then the exec): both count as one event's send.
    const pid = pidAt.get(i + 1)
    if (pid !== undefined) {
      socket.write(packets[i], 0, packets[i].length)
      i++
      sentAt.set(pid, performance.now())
    }
    socket.write(packets[i], 0, packets[i].length)
    i++
    event++
    if (event === half) cpuBefore = proc.cpu?.()
  }
  await new Promise((r) => setTimeout(r, 500))
  // CPU per event over the run's second half (past the start's compiling): what a quiet stream costs, one
  // record per chunk (the main thread, and the others: the reader thread, V8's GC and compiler threads).
  const cpuAfter = proc.cpu?.()
  const perEvent = (k) => (cpuBefore === undefined ? NaN : ((cpuAfter[k] - cpuBefore[k]) * 1e6) / (event - half))
  const cpuPerEvent = { main: perEvent("main"), others: perEvent("all") - perEvent("main") }
  socket.end()
  const result = await proc.stop()
  return { rate, probes: timed, alerts: latencies.length, result, cpuPerEvent, all: summary(latencies), late: summary(lateLatencies) }
}

/**
 * The floor's reader: binds the socket, accepts one collector, and prints a probe's line (as the
 * processor's alert would be, with its pid) as soon as the packet of its exec arrives, known by its
 * position in the stream (a file of "position pid" lines, made from `probes`).
 */
const ECHO_PY = `
import json, os, socket, sys
want = {int(a): int(b) for a, b in (line.split() for line in open(sys.argv[2]))}
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
n = 0
while True:
    if not c.recv(65536):
        break
    pid = want.get(n)
    if pid is not None:
        os.write(1, (json.dumps({"rule": "Latency probe", "proc": {"pid": pid}}) + "\\n").encode())
    n += 1
`

/** `startProcessor` for the floor: the python3 reader above, told where the probes' execs are. */
const startFloor = (probes) => async (_exporter, onLine) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sflive-"))
  const sock = path.join(dir, "floor.sock")
  const index = path.join(dir, "probes")
  fs.writeFileSync(index, [...probes].map(([pid, at]) => `${at} ${pid}\n`).join(""))
  const child = spawn("python3", ["-c", ECHO_PY, sock, index], { stdio: ["ignore", "pipe", "inherit"] })
  const lines = readLines(child.stdout, onLine)
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)))
  await waitForSocket(sock, lines.logs)
  const stop = async () => {
    const code = await exited // the sender's end of stream ends it
    fs.rmSync(dir, { recursive: true, force: true })
    return { code }
  }
  return { sock, dir, stop }
}

/**
 * A collector in Python (a blocking `send()` per packet, as sf-collector does), when python3 is on the
 * PATH: it measures the longest time a collector is blocked in `send()` exactly, and it costs little
 * (233,000 packets/s to a Python sink). Packets are handed over in a file (length-prefixed) and read into
 * memory before the clock starts. With a rate (datums/s) it sends what is due each half millisecond and
 * sleeps between; without, as fast as the socket takes them. Each packet is first offered without
 * waiting; only when the socket is full does a blocking `send()` wait, and that wait is what is timed (a
 * sender preempted by the scheduler on a busy machine is not a sender the processor blocked). Returns the
 * seconds of sending, the sends that found the socket full, the longest wait and how many waited over 10 ms,
 * and (paced) how late its own sleeps woke at most: a thread that sleeps, as the processor's reader does
 * between rounds, wakes that late on this machine under this load, whatever it does.
 */
const COLLECTOR_PY = `
import json, socket, struct, sys, time
data = open(sys.argv[2], "rb").read()
packets, i = [], 0
while i < len(data):
    (n,) = struct.unpack_from("<I", data, i)
    packets.append(data[i + 4 : i + 4 + n])
    i += 4 + n
rate = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
longest, over, full, sent, late, t0 = 0.0, 0, 0, 0, 0.0, time.perf_counter()
for p in packets:
    if rate > 0 and sent >= (time.perf_counter() - t0) * rate:
        nap = max(0.0, (sent / rate) - (time.perf_counter() - t0), 0.0005)
        a = time.perf_counter()
        time.sleep(nap)
        late = max(late, time.perf_counter() - a - nap)
    try:
        s.send(p, socket.MSG_DONTWAIT)
    except BlockingIOError:
        full += 1
        a = time.perf_counter()
        s.send(p)
        took = time.perf_counter() - a
        longest = max(longest, took)
        over += took > 0.010
    sent += 1
print(json.dumps({"seconds": time.perf_counter() - t0, "longestMs": longest * 1000, "over10ms": over, "full": full, "lateMs": late * 1000}))
s.close()
`
const hasPython = spawnSync("python3", ["-c", "import socket; socket.SOCK_SEQPACKET"]).status === 0
const floorRuns = hasPython && process.env.LIVE_FLOOR !== "0"

const sendWithPython = (sock, packets, rate = 0) => {
  const file = path.join(os.tmpdir(), `sflive-${process.pid}.packets`)
  const framed = Buffer.alloc(packets.reduce((n, p) => n + 4 + p.length, 0))
  let at = 0
  for (const p of packets) {
    framed.writeUInt32LE(p.length, at)
    p.copy(framed, at + 4)
    at += 4 + p.length
  }
  fs.writeFileSync(file, framed)
  return new Promise((resolve, reject) => {
    const py = spawn("python3", ["-c", COLLECTOR_PY, sock, file, String(rate)], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    py.stdout.on("data", (d) => (out += d))
    py.on("exit", (code) => {
      fs.rmSync(file, { force: true })
      if (code !== 0) return reject(new Error(`the python collector exited ${code}`))
      const r = JSON.parse(out)
      resolve({ sendSeconds: r.seconds, longest: r.longestMs, over10ms: r.over10ms, full: r.full, lateMs: r.lateMs })
    })
  })
}

/** The same from this process through node-unix-socket (each write's wait until the socket took it is timed). */
const sendWithNode = async (sock, packets) => {
  const socket = await connect(sock)
  let longest = 0
  let last = 0
  const t0 = performance.now()
  await new Promise((done) => {
    let i = 0
    const next = () => {
      for (const end = Math.min(packets.length, i + 256); i < end; i++) {
        const at = performance.now()
        const final = i === packets.length - 1
        socket.write(packets[i], 0, packets[i].length, () => {
          last = performance.now()
          longest = Math.max(longest, last - at)
          if (final) done()
        })
      }
      if (i < packets.length) setImmediate(next)
    }
    next()
  })
  socket.end()
  return { sendSeconds: (last - t0) / 1000, longest }
}

/** As fast as the socket takes packets (or paced at `rate` datums/s): intake rate, loss, the longest wait for the socket. */
const flat = async (datums, rate = 0) => {
  const { packets } = packetsFor(datums)
  const out = path.join(os.tmpdir(), `sflive-${process.pid}.json`)
  const proc = await startProcessor({ export: "file", "file.path": out }, () => {})
  const sent = hasPython ? await sendWithPython(proc.sock, packets, rate) : await sendWithNode(proc.sock, packets)
  await new Promise((r) => setTimeout(r, 1000))
  const result = await proc.stop()
  fs.rmSync(out, { force: true })
  return { datums: packets.length, sender: hasPython ? "python3" : "node-unix-socket", ...sent, result }
}

console.log(`live path: SOCK_SEQPACKET -> sfprocessor -driver socket (runtimeintegrity + a probe rule), ${os.cpus().length} cores, node ${process.version}`)
for (const rate of rates) {
  for (const warmup of warmups) {
    const r = await paced(rate, warmup)
    console.log(
      `paced ${rate.toLocaleString("en-US")} ev/s for ${seconds} s${warmup > 0 ? ` after a warm-up of ${warmup.toLocaleString("en-US")} events` : ", just started"}: alert latency ${summaryText(r.all)}; second half ${summaryText(r.late)} ` +
        `(${r.alerts} of ${r.probes} probes alerted; ${r.result.read.toLocaleString("en-US")} records read, ${r.result.dropped} dropped, peak RSS ${r.result.peakMiB} MiB, ` +
        `CPU per event (second half) ${Math.round(r.cpuPerEvent.main)} µs on the main thread and ${Math.round(r.cpuPerEvent.others)} µs on the others, reader ${r.result.reader}, exit ${r.result.code})`
    )
  }
  if (floorRuns) {
    const f = await paced(rate, 0, true)
    console.log(
      `  floor, the same at ${rate.toLocaleString("en-US")} ev/s to a python3 reader that only prints each probe: latency ${summaryText(f.all)}; ` +
        `second half ${summaryText(f.late)} (${f.alerts} of ${f.probes} probes seen, exit ${f.result.code})`
    )
  }
}
if (flatOut > 0) {
  const r = await flat(flatOut)
  console.log(
    `flat out, ${r.datums.toLocaleString("en-US")} datums (sender: ${r.sender}): intake ${Math.round(r.datums / r.sendSeconds).toLocaleString("en-US")} datums/s, ` +
      `${(r.datums - r.result.read).toLocaleString("en-US")} lost, ${r.result.dropped} dropped, longest send ${ms(r.longest)} ms, peak RSS ${r.result.peakMiB} MiB, ` +
      `processor CPU ${r.result.cpuSeconds.toFixed(1)} s (${((r.result.cpuSeconds * 1e6) / r.datums).toFixed(1)} µs/datum), reader ${r.result.reader} (exit ${r.result.code})`
  )
}
if (intakeRate > 0 && hasPython) {
  const r = await flat(intakeRate * seconds, intakeRate)
  console.log(
    `paced intake ${intakeRate.toLocaleString("en-US")} datums/s for ${seconds} s (sender: python3): sent at ${Math.round(r.datums / r.sendSeconds).toLocaleString("en-US")} datums/s, ` +
      `${(r.datums - r.result.read).toLocaleString("en-US")} lost, ${r.result.dropped} dropped, ${r.full} sends found the socket full, longest wait ${ms(r.longest)} ms, ${r.over10ms} over 10 ms, ` +
      `peak RSS ${r.result.peakMiB} MiB, reader ${r.result.reader} (exit ${r.result.code}); the sender's sleeps woke up to ${ms(r.lateMs)} ms late`
  )
}
