import { describe, expect, it } from "vitest"
import type { Process, SFHeader } from "../../src/domain/sysflow.js"
import { OpFlag } from "../../src/domain/opFlags.js"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import { EntityCache } from "../../src/services/reader/EntityCache.js"
import { Flattener } from "../../src/services/reader/Flattener.js"

const header: SFHeader = { version: 4n, exporter: "node", ip: "10.0.0.1", filename: "t.sf" }

const proc = (hpid: bigint, createTS: bigint, parent: [bigint, bigint] | null, exe: string, state: Process["state"] = "CREATED"): Process => ({
  state,
  oid: { hpid, createTS },
  poid: parent === null ? null : { hpid: parent[0], createTS: parent[1] },
  ts: 1n,
  exe,
  exeArgs: "",
  uid: 0,
  userName: "root",
  gid: 0,
  groupName: "root",
  tty: false,
  containerId: null,
  entry: false
})

describe("EntityCache", () => {
  it("GetProc prefers the MODIFIED slot, then CREATED, then REUP", () => {
    const c = new EntityCache()
    c.setHeader(header)
    c.putProcess(proc(5n, 9n, null, "/reup", "REUP"))
    expect(c.process({ hpid: 5n, createTS: 9n })?.exe).toBe("/reup")
    c.putProcess(proc(5n, 9n, null, "/created", "CREATED"))
    expect(c.process({ hpid: 5n, createTS: 9n })?.exe).toBe("/created")
    c.putProcess(proc(5n, 9n, null, "/modified", "MODIFIED"))
    c.putProcess(proc(5n, 9n, null, "/created-again", "CREATED"))
    expect(c.process({ hpid: 5n, createTS: 9n })?.exe).toBe("/modified")
  })

  it("process identity is the (hpid, createTS) pair, compared by value beyond 2^53", () => {
    const c = new EntityCache()
    const big = 1_621_959_914_567_050_151n
    c.putProcess(proc(7n, big, null, "/a"))
    expect(c.process({ hpid: 7n, createTS: big })?.exe).toBe("/a")
    expect(c.process({ hpid: 7n, createTS: big + 1n })).toBeUndefined()
  })

  it("ptree walks parents while found and is memoised as first computed (D10)", () => {
    const c = new EntityCache()
    c.putProcess(proc(1n, 0n, null, "/sbin/init"))
    c.putProcess(proc(10n, 100n, [1n, 0n], "/bin/bash"))
    c.putProcess(proc(11n, 200n, [10n, 100n], "/bin/bash"))
    const first = c.ptree({ hpid: 11n, createTS: 200n })!
    expect(first.map((p) => p.exe)).toEqual(["/bin/bash", "/bin/bash", "/sbin/init"])
    // exec: the MODIFIED record changes GetProc, not the memoised ancestry
    c.putProcess(proc(11n, 200n, [10n, 100n], "/usr/bin/curl", "MODIFIED"))
    expect(c.process({ hpid: 11n, createTS: 200n })?.exe).toBe("/usr/bin/curl")
    expect(c.ptree({ hpid: 11n, createTS: 200n })!.map((p) => p.exe)).toEqual(["/bin/bash", "/bin/bash", "/sbin/init"])
  })

  it("ptree stops at a parent that was never seen, and is undefined for an unknown process", () => {
    const c = new EntityCache()
    c.putProcess(proc(20n, 1n, [19n, 1n], "/x"))
    expect(c.ptree({ hpid: 20n, createTS: 1n })!.map((p) => p.exe)).toEqual(["/x"])
    expect(c.ptree({ hpid: 99n, createTS: 1n })).toBeUndefined()
  })

  it("D12: a poid cycle ends the ancestry at the first repeated process", () => {
    const c = new EntityCache()
    c.putProcess(proc(1n, 1n, [2n, 2n], "/a"))
    c.putProcess(proc(2n, 2n, [1n, 1n], "/b"))
    expect(c.ptree({ hpid: 1n, createTS: 1n })!.map((p) => p.exe)).toEqual(["/a", "/b"])
  })

  it("a new header resets every table", () => {
    const c = new EntityCache()
    c.setHeader(header)
    c.putProcess(proc(1n, 1n, null, "/a"))
    c.putContainer({ id: "c1", name: "n", image: "i", imageid: "ii", type: "CT_DOCKER", privileged: false, podId: null })
    c.putFile({ state: "CREATED", oid: "03".repeat(20), ts: 1n, restype: 102, path: "/etc/x", containerId: null })
    c.setHeader({ ...header, exporter: "other" })
    expect(c.header?.exporter).toBe("other")
    expect(c.process({ hpid: 1n, createTS: 1n })).toBeUndefined()
    expect(c.container("c1")).toBeUndefined()
    expect(c.file("03".repeat(20))).toBeUndefined()
  })

  describe("exited processes (X77)", () => {
    const S = 1_000_000_000n
    const oid = (hpid: bigint) => ({ hpid, createTS: hpid * 10n })
    const put = (c: EntityCache, hpid: bigint, parent: bigint | null) =>
      c.putProcess(proc(hpid, hpid * 10n, parent === null ? null : [parent, parent * 10n], `/p${hpid}`))
    const exit = (c: EntityCache, hpid: bigint, at: bigint) => {
      c.processExited(oid(hpid), at * S)
      c.forgetExited()
    }

    it("are forgotten once a later exit is the time to live after theirs", () => {
      const c = new EntityCache(60n * S)
      put(c, 1n, null)
      put(c, 2n, null)
      put(c, 3n, null)
      exit(c, 1n, 100n)
      exit(c, 2n, 159n)
      expect(c.process(oid(1n))?.exe).toBe("/p1") // 59 s after its exit
      exit(c, 3n, 160n)
      expect(c.process(oid(1n))).toBeUndefined()
      expect(c.ptree(oid(1n))).toBeUndefined()
      expect(c.process(oid(2n))?.exe).toBe("/p2")
      expect(c.forgotten).toBe(1)
    })

    it("a parent stays while a child is cached, and goes with its last child", () => {
      const c = new EntityCache(60n * S)
      put(c, 1n, null)
      put(c, 2n, 1n)
      put(c, 3n, 1n)
      exit(c, 1n, 100n) // the parent exits first: its children are orphans, still running
      exit(c, 2n, 110n)
      c.processExited(oid(9n), 500n * S) // (unknown process: only time passes)
      c.forgetExited()
      expect(c.process(oid(2n))).toBeUndefined()
      expect(c.process(oid(1n))?.exe).toBe("/p1")
      expect(c.ptree(oid(3n))!.map((p) => p.exe)).toEqual(["/p3", "/p1"])
      exit(c, 3n, 600n)
      expect(c.process(oid(3n))).toBeDefined() // not yet 60 s after
      expect(c.process(oid(1n))).toBeDefined()
      put(c, 4n, null)
      exit(c, 4n, 700n)
      expect(c.process(oid(3n))).toBeUndefined()
      expect(c.process(oid(1n))).toBeUndefined()
      expect(c.forgotten).toBe(3)
    })

    it("a time to live of 0 keeps every process, as the reference", () => {
      const c = new EntityCache(0n)
      put(c, 1n, null)
      exit(c, 1n, 100n)
      exit(c, 1n, 1_000_000n)
      expect(c.process(oid(1n))?.exe).toBe("/p1")
      expect(c.forgotten).toBe(0)
    })

    it("the flattener counts a process's own exit, not a thread's, and keeps the exit event's join", () => {
      const f = new Flattener(undefined, 60n * S)
      const pe = (hpid: bigint, tid: bigint, opFlags: number, ts: bigint): SysFlowDatum => ({
        code: 4,
        rec: { procOID: oid(hpid), ts: ts * S, tid, opFlags, args: [], ret: 0 }
      })
      const out: FlatRecord[] = []
      f.flatten(
        [
          { code: 0, rec: header },
          { code: 2, rec: proc(1n, 10n, null, "/p1") },
          { code: 2, rec: proc(2n, 20n, null, "/p2") },
          { code: 2, rec: proc(3n, 30n, null, "/p3") },
          pe(1n, 7n, OpFlag.EXIT, 100n), // a thread of 1
          pe(2n, 2n, OpFlag.EXIT, 100n),
          pe(3n, 3n, OpFlag.EXIT, 200n)
        ],
        out
      )
      expect(out.map((r) => r.process?.exe)).toEqual(["/p1", "/p2", "/p3"])
      expect(f.cache.process(oid(1n))?.exe).toBe("/p1")
      expect(f.cache.process(oid(2n))).toBeUndefined()
      f.flatten([pe(2n, 2n, OpFlag.EXEC, 201n)], out)
      expect(out[3].process).toBeUndefined()
      expect(f.diagnostics.missingProcess).toBe(1)
    })
  })
})
