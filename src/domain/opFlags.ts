/**
 * Operation flags (data-model §4.1, policy-language §7.4). Bit 8 and bit 9 mean READ/WRITE on files and
 * RECV/SEND on network flows, so every rendering depends on the value AND the record type (Q11/D11: the
 * reference memoised by value only, which made the output order-dependent).
 */

export const OpFlag = {
  CLONE: 1 << 0,
  EXEC: 1 << 1,
  EXIT: 1 << 2,
  SETUID: 1 << 3,
  SETNS: 1 << 4,
  ACCEPT: 1 << 5,
  CONNECT: 1 << 6,
  OPEN: 1 << 7,
  READ_RECV: 1 << 8,
  WRITE_SEND: 1 << 9,
  CLOSE: 1 << 10,
  TRUNCATE: 1 << 11,
  SHUTDOWN: 1 << 12,
  MMAP: 1 << 13,
  DIGEST: 1 << 14,
  MKDIR: 1 << 15,
  RMDIR: 1 << 16,
  LINK: 1 << 17,
  UNLINK: 1 << 18,
  SYMLINK: 1 << 19,
  RENAME: 1 << 20,
  /** Extended sources only; never rendered. */
  PTRACE: 1 << 21
} as const

/** One row of the rendering table: bit, list name and Falco event type, for files / for network flows. */
interface FlagName {
  readonly bit: number
  readonly name: string
  readonly netName: string
  /** `undefined`: the flag has no Falco event type (TRUNCATE, DIGEST). */
  readonly evt: string | undefined
  readonly netEvt: string | undefined
}

const row = (bit: number, name: string, evt: string | undefined, netName = name, netEvt = evt): FlagName => ({
  bit,
  name,
  netName,
  evt,
  netEvt
})

/** The spec's list order (not bit order). */
const table: ReadonlyArray<FlagName> = [
  row(OpFlag.MKDIR, "MKDIR", "mkdir"),
  row(OpFlag.RMDIR, "RMDIR", "rmdir"),
  row(OpFlag.LINK, "LINK", "link"),
  row(OpFlag.SYMLINK, "SYMLINK", "symlink"),
  row(OpFlag.UNLINK, "UNLINK", "unlink"),
  row(OpFlag.RENAME, "RENAME", "rename"),
  row(OpFlag.CLONE, "CLONE", "clone"),
  row(OpFlag.EXEC, "EXEC", "execve"),
  row(OpFlag.EXIT, "EXIT", "exit"),
  row(OpFlag.SETUID, "SETUID", "setuid"),
  row(OpFlag.OPEN, "OPEN", "open"),
  row(OpFlag.ACCEPT, "ACCEPT", "accept"),
  row(OpFlag.CONNECT, "CONNECT", "connect"),
  row(OpFlag.CLOSE, "CLOSE", "close"),
  row(OpFlag.WRITE_SEND, "WRITE", "write", "SEND", "send"),
  row(OpFlag.READ_RECV, "READ", "read", "RECV", "recv"),
  row(OpFlag.SETNS, "SETNS", "setns"),
  row(OpFlag.MMAP, "MMAP", "mmap"),
  row(OpFlag.SHUTDOWN, "SHUTDOWN", "shutdown"),
  row(OpFlag.TRUNCATE, "TRUNCATE", undefined),
  row(OpFlag.DIGEST, "DIGEST", undefined)
]

const render = (value: number, net: boolean, pick: (f: FlagName, net: boolean) => string | undefined) => {
  const out: Array<string> = []
  for (const f of table) {
    if ((value & f.bit) === f.bit) {
      const s = pick(f, net)
      if (s !== undefined) out.push(s)
    }
  }
  return out
}

const listName = (f: FlagName, net: boolean) => (net ? f.netName : f.name)
const evtName = (f: FlagName, net: boolean) => (net ? f.netEvt : f.evt)

/** Memo per (value, is-NF); results are shared, callers must not mutate them. */
const memo = (pick: (f: FlagName, net: boolean) => string | undefined) => {
  const caches = [new Map<number, ReadonlyArray<string>>(), new Map<number, ReadonlyArray<string>>()]
  return (value: number, recordType: string): ReadonlyArray<string> => {
    const net = recordType === "NF"
    const cache = caches[net ? 1 : 0]
    let v = cache.get(value)
    if (v === undefined) {
      v = Object.freeze(render(value, net, pick))
      cache.set(value, v)
    }
    return v
  }
}

/** List names (JSON `opflags`), e.g. FF 1408 → `["OPEN","CLOSE","READ"]`, NF 1408 → `[…,"RECV"]`. */
export const opFlagNames: (value: number, recordType: string) => ReadonlyArray<string> = memo(listName)

/** Falco event type names (`clone`, `execve`, `read`/`recv`, …); TRUNCATE and DIGEST have none. */
export const evtTypes: (value: number, recordType: string) => ReadonlyArray<string> = memo(evtName)

const joined = [new Map<number, string>(), new Map<number, string>()]

/** The policy form of `sf.opflags`: the list names joined with `,` (`""` for no flags). */
export const opFlagsStr = (value: number, recordType: string): string => {
  const cache = joined[recordType === "NF" ? 1 : 0]
  let v = cache.get(value)
  if (v === undefined) {
    v = opFlagNames(value, recordType).join(",")
    cache.set(value, v)
  }
  return v
}
