/**
 * Falco's fields on SysFlow data, for rules of Falco-dialect files (docs/falco.md has the same table).
 * They take precedence over the reference's Falco aliases (policy-language §7.3), whose meanings are the
 * reference's (`evt.type` = opflag names, `proc.tty` = true/false, `fd.sip` = source IP) and stay for our
 * dialect. Everything else a Falco rule names resolves through the attribute table as before.
 *
 * * `evt.type`: the syscall names the record stands for (its record type and operation flags), so
 *   `evt.type in (execve, execveat)` matches a process exec; a syscall SysFlow does not record
 *   (ptrace is recorded as PTRACE; init_module, memfd_create, dup, bpf, … are not) never matches.
 * * `fd.sip`/`fd.sport` are the server side (SysFlow's destination), `fd.cip`/`fd.cport` the client
 *   (its source); `fd.lip`/`fd.lport`/`fd.rip`/`fd.rport` are local/remote: the source is local on a
 *   connect, the destination on an accept.
 * * `evt.num` has no SysFlow counterpart; it is the record's timestamp, never 0, so Falco's
 *   `never_true` macro (`evt.num=0`) keeps its meaning.
 */
import { type AttributeDef, attributeTable } from "../../domain/attributes.js"
import type { FlatRecord, RecordType } from "../../domain/flatRecord.js"
import { OpFlag } from "../../domain/opFlags.js"

const sf = (name: string): AttributeDef => attributeTable.get(name)!

const strDef = (name: string, get: (r: FlatRecord) => string): AttributeDef<"string"> => ({ name, kind: "string", get, str: get, int: undefined })
const intDef = (name: string, get: (r: FlatRecord) => bigint): AttributeDef<"int"> => ({ name, kind: "int", get, str: (r) => `${get(r)}`, int: get })
const alias = (name: string, target: string): AttributeDef => ({ ...sf(target), name })

const str = (name: string) => sf(name).str
const int = (name: string) => sf(name).int!

/** The syscalls each operation flag stands for, per record type (Falco's names). */
const SYSCALLS: ReadonlyArray<readonly [number, ReadonlyArray<RecordType>, ReadonlyArray<string>]> = [
  [OpFlag.EXEC, ["PE"], ["execve", "execveat"]],
  [OpFlag.CLONE, ["PE"], ["clone", "clone3", "fork", "vfork"]],
  [OpFlag.EXIT, ["PE"], ["exit", "exit_group", "procexit"]],
  [OpFlag.SETUID, ["PE"], ["setuid", "setreuid", "setresuid"]],
  [OpFlag.SETNS, ["PE"], ["setns"]],
  [OpFlag.PTRACE, ["PE"], ["ptrace"]],
  [OpFlag.OPEN, ["FF"], ["open", "openat", "openat2", "creat"]],
  [OpFlag.READ_RECV, ["FF"], ["read", "readv", "pread", "preadv"]],
  [OpFlag.WRITE_SEND, ["FF"], ["write", "writev", "pwrite", "pwritev"]],
  [OpFlag.MMAP, ["FF"], ["mmap"]],
  [OpFlag.TRUNCATE, ["FF"], ["ftruncate"]],
  [OpFlag.CLOSE, ["FF", "NF"], ["close"]],
  [OpFlag.CONNECT, ["NF"], ["connect"]],
  [OpFlag.ACCEPT, ["NF"], ["accept", "accept4"]],
  [OpFlag.READ_RECV, ["NF"], ["read", "recvfrom", "recvmsg"]],
  [OpFlag.WRITE_SEND, ["NF"], ["write", "sendto", "sendmsg"]],
  [OpFlag.SHUTDOWN, ["NF"], ["shutdown"]],
  [OpFlag.MKDIR, ["FE"], ["mkdir", "mkdirat"]],
  [OpFlag.RMDIR, ["FE"], ["rmdir"]],
  [OpFlag.LINK, ["FE"], ["link", "linkat"]],
  [OpFlag.UNLINK, ["FE"], ["unlink", "unlinkat"]],
  [OpFlag.SYMLINK, ["FE"], ["symlink", "symlinkat"]],
  [OpFlag.RENAME, ["FE"], ["rename", "renameat", "renameat2"]]
]

/**
 * The operation flags, per record type, that stand for one of the syscalls `names`: `evt.type in (…)` as a
 * flag test instead of a string comparison (the same truth: the record's syscalls meet `names`).
 */
export const syscallFlags = (names: ReadonlyArray<string>): Partial<Record<RecordType, number>> => {
  const out: Partial<Record<RecordType, number>> = {}
  for (const [flag, types, calls] of SYSCALLS) {
    if (calls.some((c) => names.includes(c))) for (const t of types) out[t] = (out[t] ?? 0) | flag
  }
  return out
}

/** Every syscall name `evt.type` can have on SysFlow data. */
export const RECORDED_SYSCALLS: ReadonlySet<string> = new Set(SYSCALLS.flatMap(([, , names]) => names))

const syscallCache = new Map<number, string>()
const TYPE_KEY: Readonly<Record<RecordType, number>> = { PE: 0, FF: 1, FE: 2, NF: 3, KE: 4 }
const syscallsOf = (flags: number, t: RecordType): string => {
  // A number key: this runs for every record a Falco rule tests evt.type on.
  const key = flags * 8 + TYPE_KEY[t]
  let s = syscallCache.get(key)
  if (s === undefined) {
    const names: Array<string> = []
    for (const [flag, types, calls] of SYSCALLS) if ((flags & flag) !== 0 && types.includes(t)) names.push(...calls)
    s = names.join(",")
    syscallCache.set(key, s)
  }
  return s
}

const evtType = (r: FlatRecord): string => (r.type === "KE" ? "" : syscallsOf(r.event.opFlags, r.type))

const L4: Readonly<Record<string, string>> = { "6": "tcp", "17": "udp", "1": "icmp", "58": "icmp" }
const FD_TYPES: Readonly<Record<string, string>> = {
  f: "file",
  d: "directory",
  "4": "ipv4",
  "6": "ipv6",
  u: "unix",
  p: "pipe",
  e: "event",
  s: "signalfd",
  l: "eventpoll",
  i: "inotify",
  o: "timerfd"
}

/** `repo[:tag][@digest]` → repository / tag (a `:` before the last `/` is a registry port). */
const splitImage = (image: string): { repository: string; tag: string } => {
  const at = image.indexOf("@")
  const name = at < 0 ? image : image.slice(0, at)
  const colon = name.lastIndexOf(":")
  return colon > name.lastIndexOf("/") ? { repository: name.slice(0, colon), tag: name.slice(colon + 1) } : { repository: name, tag: "" }
}

const ERRNO: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  28: "ENOSPC",
  30: "EROFS",
  39: "ENOTEMPTY",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED"
}

const isAccept = (r: FlatRecord): boolean => r.type === "NF" && (r.event.opFlags & OpFlag.ACCEPT) !== 0

const netProto = str("sf.net.proto")
const fileType = str("sf.file.type")
const image = str("sf.container.image")
const sip = str("sf.net.sip")
const dip = str("sf.net.dip")
const sport = int("sf.net.sport")
const dport = int("sf.net.dport")
const ret = int("sf.ret")
const ts = int("sf.ts")
const createts = int("sf.proc.createts")
const procTty = int("sf.proc.tty")
const privileged = int("sf.container.privileged")
const containerId = str("sf.container.id")
const filePath = str("sf.file.path")
const containerName = str("sf.container.name")
const hasOp = (flag: number) => (r: FlatRecord) => r.type !== "KE" && (r.event.opFlags & flag) !== 0

const defs: ReadonlyArray<AttributeDef> = [
  strDef("evt.type", evtType),
  intDef("evt.num", ts),
  intDef("evt.rawres", ret),
  strDef("evt.res", (r) => {
    const v = Number(ret(r))
    return v === 0 ? "SUCCESS" : v < 0 ? (ERRNO[-v] ?? `E${-v}`) : `${v}`
  }),
  alias("evt.time", "sf.ts"),
  // SysFlow's file events carry the syscall's first path as the file and its second as the new file.
  strDef("evt.arg.target", (r) => (r.type === "FE" && hasOp(OpFlag.SYMLINK)(r) ? str("sf.file.path")(r) : "")),
  strDef("evt.arg.linkpath", (r) => (r.type === "FE" && hasOp(OpFlag.SYMLINK)(r) ? str("sf.file.newpath")(r) : "")),
  strDef("evt.arg.oldpath", (r) => (r.type === "FE" && hasOp(OpFlag.RENAME | OpFlag.LINK)(r) ? str("sf.file.path")(r) : "")),
  strDef("evt.arg.newpath", (r) => (r.type === "FE" && hasOp(OpFlag.RENAME | OpFlag.LINK)(r) ? str("sf.file.newpath")(r) : "")),
  strDef("evt.arg.path", (r) => (r.type === "FE" ? str("sf.file.path")(r) : "")),
  strDef("evt.arg.name", (r) => (r.type === "FE" || r.type === "FF" ? str("sf.file.path")(r) : "")),
  alias("evt.arg.pathname", "sf.file.path"),
  intDef("proc.tty", procTty),
  alias("proc.exepath", "sf.proc.exe"),
  alias("proc.pexepath", "sf.pproc.exe"),
  alias("proc.cwd", "sf.proc.cwd"),
  intDef("proc.duration", (r) => ts(r) - createts(r)),
  alias("proc.vpid", "sf.proc.pid"),
  alias("thread.tid", "sf.proc.tid"),
  alias("user.uid", "sf.proc.uid"),
  alias("group.gid", "sf.proc.gid"),
  alias("group.name", "sf.proc.group"),
  // Falco names the host `host` (its macro `container` is `container.id != host`).
  strDef("container.id", (r) => containerId(r) || "host"),
  strDef("container.name", (r) => containerName(r) || "host"),
  strDef("container.privileged", (r) => (privileged(r) !== 0n ? "true" : "false")),
  strDef("container.image.repository", (r) => splitImage(image(r)).repository),
  strDef("container.image.tag", (r) => splitImage(image(r)).tag),
  alias("k8s.ns.name", "sf.pod.namespace"),
  alias("k8s.pod.name", "sf.pod.name"),
  alias("k8s.pod.id", "sf.pod.id"),
  alias("k8s.pod.uid", "sf.pod.id"),
  // SysFlow network flows are IPv4 connections: Falco's socket fd of type 4, named cip:cport->sip:sport.
  strDef("fd.typechar", (r) => (r.type === "NF" ? "4" : fileType(r))),
  strDef("fd.type", (r) => (r.type === "NF" ? "ipv4" : (FD_TYPES[fileType(r)] ?? ""))),
  strDef("fd.name", (r) => (r.type === "NF" ? `${sip(r)}:${sport(r)}->${dip(r)}:${dport(r)}` : filePath(r))),
  strDef("fd.l4proto", (r) => (r.type === "NF" ? (L4[netProto(r)] ?? "raw") : "")),
  strDef("fd.sip", (r) => (r.type === "NF" ? dip(r) : "")),
  strDef("fd.cip", (r) => (r.type === "NF" ? sip(r) : "")),
  intDef("fd.sport", (r) => (r.type === "NF" ? dport(r) : 0n)),
  intDef("fd.cport", (r) => (r.type === "NF" ? sport(r) : 0n)),
  strDef("fd.lip", (r) => (r.type !== "NF" ? "" : isAccept(r) ? dip(r) : sip(r))),
  strDef("fd.rip", (r) => (r.type !== "NF" ? "" : isAccept(r) ? sip(r) : dip(r))),
  intDef("fd.lport", (r) => (r.type !== "NF" ? 0n : isAccept(r) ? dport(r) : sport(r))),
  intDef("fd.rport", (r) => (r.type !== "NF" ? 0n : isAccept(r) ? sport(r) : dport(r))),
  strDef("fd.is_server", (r) => (r.type !== "NF" ? "false" : isAccept(r) ? "true" : "false"))
]

/**
 * Falco's network fields (`fd.net = 10.0.0.0/8`, `fd.snet in (rfc_1918_addresses)`): the IPs they test.
 * `=`, `!=`, `in` and `intersects` on them compare by CIDR containment (see `cidrMatcher`).
 */
export const NETWORK_FIELDS: ReadonlyMap<string, (r: FlatRecord) => ReadonlyArray<string>> = new Map<string, (r: FlatRecord) => ReadonlyArray<string>>([
  ["fd.net", (r) => (r.type === "NF" ? [sip(r), dip(r)] : [])],
  ["fd.snet", (r) => (r.type === "NF" ? [dip(r)] : [])],
  ["fd.cnet", (r) => (r.type === "NF" ? [sip(r)] : [])],
  ["fd.lnet", (r) => (r.type !== "NF" ? [] : [isAccept(r) ? dip(r) : sip(r)])],
  ["fd.rnet", (r) => (r.type !== "NF" ? [] : [isAccept(r) ? sip(r) : dip(r)])]
])

const ipv4 = (s: string): number | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (m === null) return undefined
  const parts = m.slice(1).map(Number)
  return parts.some((p) => p > 255) ? undefined : ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0
}

/** A test "is this IPv4 address in one of `networks`" (`a.b.c.d/n` or a single address); or the first bad one. */
export const cidrMatcher = (networks: ReadonlyArray<string>): ((ip: string) => boolean) | { readonly bad: string } => {
  const nets: Array<readonly [number, number]> = []
  for (const n of networks) {
    const [addr, bits = "32"] = n.split("/")
    const a = ipv4(addr)
    const b = Number(bits)
    if (a === undefined || !/^\d{1,2}$/.test(bits) || b > 32) {
      if (n.includes(":")) continue // IPv6: SysFlow flows are IPv4, nothing to match
      return { bad: n }
    }
    const mask = b === 0 ? 0 : (~0 << (32 - b)) >>> 0
    nets.push([(a & mask) >>> 0, mask])
  }
  return (ip) => {
    const a = ipv4(ip)
    return a !== undefined && nets.some(([net, mask]) => ((a & mask) >>> 0) === net)
  }
}

const table: ReadonlyMap<string, AttributeDef> = new Map([
  ...defs.map((d): [string, AttributeDef] => [d.name, d]),
  ...Array.from(NETWORK_FIELDS, ([name, ips]): [string, AttributeDef] => [name, strDef(name, (r) => ips(r).join(","))])
])

/** Multi-valued ancestry fields that take an index (`proc.aname[2]`: 0 is the process, 1 its parent). */
const INDEXED: Readonly<Record<string, string>> = {
  "proc.aname": "sf.proc.aname",
  "proc.aexe": "sf.proc.aexe",
  "proc.aexepath": "sf.proc.aexe",
  "proc.acmdline": "sf.proc.acmdline",
  "proc.apid": "sf.proc.apid"
}

const indexed = new Map<string, AttributeDef>()

/** The Falco field `name` on SysFlow data (see the header), or undefined when Falco's name is not mapped here. */
export const falcoField = (name: string): AttributeDef | undefined => {
  const def = table.get(name)
  if (def !== undefined) return def
  const m = /^([a-z.]+)\[(\d+)\]$/.exec(name)
  if (m === null || INDEXED[m[1]] === undefined) return undefined
  let d = indexed.get(name)
  if (d === undefined) {
    const get = sf(INDEXED[m[1]]).get as (r: FlatRecord) => ReadonlyArray<unknown>
    const n = Number(m[2])
    d = strDef(name, (r) => {
      const v = get(r)[n]
      return v === undefined ? "" : String(v)
    })
    indexed.set(name, d)
  }
  return d
}

/** A Falco rule's field: the mapping above, else the attribute table. */
export const falcoOrAttribute = (name: string): AttributeDef | undefined => falcoField(name) ?? attributeTable.get(name)
