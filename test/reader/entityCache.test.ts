import { describe, expect, it } from "vitest"
import type { Process, SFHeader } from "../../src/domain/sysflow.js"
import { EntityCache } from "../../src/services/reader/EntityCache.js"

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
})
