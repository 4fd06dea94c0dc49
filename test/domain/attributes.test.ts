import { describe, expect, it } from "vitest"
import * as A from "../../src/domain/attributes.js"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import {
  container,
  exampleA,
  exampleB,
  exampleC,
  fe,
  ff,
  file,
  header,
  httpdEntities,
  ipInt,
  ke,
  nf,
  pe,
  pod,
  proc
} from "./fixtures.js"

const attr = (name: string) => {
  const d = A.attributeTable.get(name)
  if (d === undefined) throw new Error(`no attribute ${name}`)
  return d
}
const str = (name: string, r: FlatRecord) => attr(name).str(r)
const int = (name: string, r: FlatRecord) => attr(name).int?.(r)

describe("trimBoundingQuotes (Q3)", () => {
  it.each([
    ['"hello"', "hello"],
    ['say "hi"', 'say "hi'],
    ["'x", "x"],
    ['"', ""],
    ["''", ""],
    ['"""', '"'],
    ["", ""],
    ["plain", "plain"]
  ])("%j → %j", (s, want) => expect(A.trimBoundingQuotes(s)).toBe(want))
})

describe("trimSpace (Go strings.TrimSpace)", () => {
  it("trims Go's Unicode spaces but not U+FEFF", () => {
    expect(A.trimSpace(" \t\n x y \u0085\u00a0\u3000")).toBe("x y")
    expect(A.trimSpace("\ufeffx")).toBe("\ufeffx")
  })
})

describe("jsonString (easyjson escaping)", () => {
  it.each([
    ["plain", '"plain"'],
    ["<NA>", '"\\u003cNA\\u003e"'],
    ["a&b", '"a\\u0026b"'],
    ['q"b\\s', '"q\\"b\\\\s"'],
    ["\n\r\t", '"\\n\\r\\t"'],
    ["\b\f\u0000\u001f", '"\\u0008\\u000c\\u0000\\u001f"'],
    ["\u007f", '"\u007f"'],
    ["\u2028\u2029", '"\\u2028\\u2029"'],
    ["é😀", '"é😀"'],
    ["a\ud800b", '"a\\ufffdb"'],
    ["\udc00", '"\\ufffd"'],
    ["x\ud83d", '"x\\ufffd"']
  ])("%j → %s", (s, want) => expect(A.jsonString(s)).toBe(want))
})

describe("record-level attributes", () => {
  it("PE EXEC (§5.3 a)", () => {
    const r = exampleA()
    expect(A.sfType(r)).toBe("PE")
    expect(A.opflags(r)).toEqual(["EXEC"])
    expect(A.ts(r)).toBe(1621959914570130505n)
    expect(A.endts(r)).toBe(0n)
    expect(str("sf.opflags", r)).toBe("EXEC")
    expect(str("evt.type", r)).toBe("EXEC")
    expect(str("evt.rawres", r)).toBe("PE")
    expect(str("evt.dir", r)).toBe(">,<")
    expect(int("sf.ts", r)).toBe(1621959914570130505n)
  })

  it("endts: flows end time, KE its ts, PE/FE 0", () => {
    expect(A.endts(exampleB())).toBe(1604071235205426076n)
    expect(A.endts(ke(header(), { ts: 77n }))).toBe(77n)
    expect(A.endts(fe({}, { ts: 5n }))).toBe(0n)
  })

  it("ret only for PE and FE", () => {
    expect(A.ret(pe({}, { ret: -2 }))).toBe(-2)
    expect(A.ret(fe({}, { ret: 3 }))).toBe(3)
    expect(int("sf.ret", fe({}, { ret: -1 }))).toBe(-1n)
  })
})

describe("sf.proc.* / sf.pproc.*", () => {
  it("process and stale ancestry (§5.3 a, D10)", () => {
    const r = exampleA()
    expect(A.procOid(r)).toBe("54272ca288f77a48")
    expect(A.procExe(r)).toBe("/usr/bin/dpkg")
    expect(A.procName(r)).toBe("dpkg")
    expect(A.procCmdline(r)).toBe("/usr/bin/dpkg --print-foreign-architectures")
    expect(A.procAexe(r)).toEqual(["/opt/BESClient/bin/BESClient", "/opt/BESClient/bin/BESClient", "/lib/systemd/systemd"])
    expect(A.procApid(r)).toEqual([105448n, 1922n, 1n])
    expect(str("sf.proc.aname", r)).toBe("BESClient,BESClient,systemd")
    expect(str("proc.aname", r)).toBe("BESClient,BESClient,systemd")
    expect(str("sf.proc.apid", r)).toBe("105448,1922,1")
    expect(str("sf.proc.acmdline", r)).toBe(
      "/opt/BESClient/bin/BESClient,/opt/BESClient/bin/BESClient,/lib/systemd/systemd --system --deserialize 34"
    )
    expect(A.pprocOid(r)).toBe("e45be0d56c59a390")
    expect(A.pprocPid(r)).toBe(1922n)
    expect(A.pprocCmdline(r)).toBe("/opt/BESClient/bin/BESClient")
    expect(str("proc.pname", r)).toBe("BESClient")
    expect(int("proc.ppid", r)).toBe(1922n)
  })

  it("Q10: no trailing space in cmdline when args are empty", () => {
    const p = proc({ pid: 5n, exe: "./server" })
    expect(A.procCmdline(pe({ process: p, ptree: [p] }))).toBe("./server")
  })

  it("Q9: proc.tty and proc.createtime are the process's own", () => {
    const parent = proc({ pid: 1n, createTS: 11n, tty: false })
    const p = proc({ pid: 2n, createTS: 22n, ppid: 1n, pcreateTS: 11n, tty: true })
    const r = pe({ process: p, ptree: [p, parent] })
    expect(str("proc.tty", r)).toBe("true")
    expect(int("proc.tty", r)).toBe(1n)
    expect(int("proc.createtime", r)).toBe(22n)
    expect(int("proc.pcreatetime", r)).toBe(11n)
    expect(str("proc.ptty", r)).toBe("false")
  })

  it("sf.proc.tty/entry: 64-bit 0/1 rendered true/false", () => {
    const p = proc({ pid: 2n, entry: true })
    const r = pe({ process: p, ptree: [p] })
    expect(str("sf.proc.entry", r)).toBe("true")
    expect(int("sf.proc.entry", r)).toBe(1n)
    expect(str("sf.proc.tty", r)).toBe("false")
    expect(int("sf.proc.tty", r)).toBe(0n)
  })

  it("D8: parent not cached: pproc strings empty, pid/createts/oid from poid", () => {
    const p = proc({ pid: 10n, ppid: 1922n, pcreateTS: 1602100326664000000n, exe: "/bin/sh" })
    const r = pe({ process: p, ptree: [p] })
    expect(A.pprocPid(r)).toBe(1922n)
    expect(A.pprocOid(r)).toBe("e45be0d56c59a390")
    for (const n of ["name", "exe", "args", "user", "group", "cmdline"]) expect(str(`sf.pproc.${n}`, r)).toBe("")
    expect(A.pprocUid(r)).toBe(0)
    expect(A.pprocTty(r)).toBe(false)
    // Without a parent the reference returns a 64-bit 0: rendered "0", not "false".
    expect(str("sf.pproc.tty", r)).toBe("0")
    expect(str("sf.pproc.entry", r)).toBe("0")
    expect(str("sf.pproc.uid", r)).toBe("0")
  })

  it("Q8: sf.pproc.uid/gid render as decimal but MapInt coerces (no int64 value)", () => {
    const parent = proc({ pid: 1n, uid: 1000, gid: 100 })
    const p = proc({ pid: 2n, ppid: 1n })
    const r = pe({ process: p, ptree: [p, parent] })
    expect(str("sf.pproc.uid", r)).toBe("1000")
    expect(int("sf.pproc.uid", r)).toBeUndefined()
    expect(str("proc.pgid", r)).toBe("100")
    expect(attr("sf.pproc.uid").get(r)).toBe(1000n)
    expect(int("sf.proc.uid", r)).toBe(0n)
  })

  it("D9: missing process: zero fields, empty ancestry, name '.'", () => {
    const r = pe({ header: header() }, { tid: 7n })
    expect(A.procAname(r)).toEqual([])
    expect(A.procApid(r)).toEqual([])
    expect(str("sf.proc.aname", r)).toBe("")
    expect(A.procPid(r)).toBe(0n)
    expect(A.procExe(r)).toBe("")
    expect(A.procName(r)).toBe(".")
    expect(A.procCmdline(r)).toBe("")
    expect(A.procTid(r)).toBe(7n)
    expect(A.pprocPid(r)).toBe(0n)
    // The OID of the zero pair: xxh64("00").
    expect(A.procOid(r)).toBe(A.pprocOid(r))
  })

  it("quote trimming: whole cmdline for policies, exe/args separately in JSON items", () => {
    const parent = proc({ pid: 1n, exe: "/bin/sh", exeArgs: "'a b' c" })
    const p = proc({ pid: 2n, ppid: 1n, exe: "/bin/x", exeArgs: '-c "echo hi"' })
    const r = pe({ process: p, ptree: [p, parent] })
    expect(A.procCmdline(r)).toBe('/bin/x -c "echo hi')
    expect(A.procArgs(r)).toBe('-c "echo hi')
    expect(A.pprocCmdline(r)).toBe("/bin/sh a b' c")
    expect(str("sf.pproc.cmdline", r)).toBe("/bin/sh 'a b' c")
    expect(A.procAcmdline(r)).toEqual(['/bin/x -c "echo hi', "/bin/sh a b' c"])
    expect(str("sf.proc.acmdline", r)).toBe("/bin/x -c \"echo hi\",/bin/sh 'a b' c")
  })

  it("memoises ancestry per ptree", () => {
    const p = proc({ pid: 3n, exe: "/bin/a" })
    const ptree = [p]
    const r1 = pe({ process: p, ptree })
    const r2 = ff({ process: p, ptree })
    expect(A.procAname(r1)).toBe(A.procAname(r2))
    expect(A.procAname(pe({ process: p, ptree: [p] }))).not.toBe(A.procAname(r1))
  })
})

describe("sf.file.*", () => {
  it("FF (§5.3 c)", () => {
    const r = exampleC()
    expect(A.filePath(r)).toBe("/etc/localtime")
    expect(A.fileName(r)).toBe("localtime")
    expect(A.fileDirectory(r)).toBe("/etc")
    expect(A.fileOid(r)).toBe("05fd66f64173181d19e7719fc759ff05b1623c57")
    expect(A.fileType(r)).toBe("f")
    expect(A.fileFd(r)).toBe(10)
    expect(A.fileIsOpenRead(r)).toBe(true)
    expect(A.fileIsOpenWrite(r)).toBe(false)
    expect(str("sf.file.openflags", r)).toBe("RDONLY,CLOEXEC")
    expect(A.flowRbytes(r)).toBe(198n)
    expect(A.flowRops(r)).toBe(2n)
    expect(str("fd.num", r)).toBe("10")
  })

  it("Q9: fd.name is the full path; fd.filename the basename", () => {
    const r = exampleC()
    expect(str("fd.name", r)).toBe("/etc/localtime")
    expect(str("fd.filename", r)).toBe("localtime")
    expect(str("fd.directory", r)).toBe("/etc")
    expect(str("fd.typechar", r)).toBe("f")
  })

  it("socket paths: name from the raw path, directory from the parsed path", () => {
    const r = ff({ file: file("ffffa046554ef800->ffffa046554eec00 /run/lvm/lvmetad.socket", { restype: 117 }) })
    expect(A.filePath(r)).toBe("/run/lvm/lvmetad.socket")
    expect(A.fileSymlink(r)).toBe("ffffa046554ef800->ffffa046554eec00")
    expect(A.fileName(r)).toBe("lvmetad.socket")
    expect(A.fileDirectory(r)).toBe("/run/lvm")
    expect(A.fileType(r)).toBe("u")
  })

  it("relative paths and pipes give directory '.' (D3)", () => {
    expect(A.fileDirectory(ff({ file: file("./testing_dir") }))).toBe(".")
    expect(A.fileName(ff({ file: file("pipe:[66729332]") }))).toBe("pipe:[66729332]")
  })

  it("no file: name/directory '.', type NUL, oid ''", () => {
    const r = pe({})
    expect(A.fileName(r)).toBe(".")
    expect(A.fileDirectory(r)).toBe(".")
    expect(A.filePath(r)).toBe("")
    expect(A.fileType(r)).toBe("\u0000")
    expect(A.fileOid(r)).toBe("")
    expect(str("sf.file.openflags", r)).toBe("NONE")
  })

  it("FE with a second file; newpath is raw for JSON, parsed for policies", () => {
    const target = file("1->2 /tmp/sock", { oid: "ab".repeat(20) })
    const r = fe({ file: file("/tmp/a"), newFile: target }, { opFlags: 1 << 19 })
    expect(A.fileNewpathRaw(r)).toBe("1->2 /tmp/sock")
    expect(A.fileNewpath(r)).toBe("/tmp/sock")
    expect(str("sf.file.newpath", r)).toBe("/tmp/sock")
    expect(A.fileNewname(r)).toBe("sock")
    expect(A.fileNewdirectory(r)).toBe("/tmp")
    expect(A.fileNewsymlink(r)).toBe("1->2")
    expect(A.fileNewoid(r)).toBe("ab".repeat(20))
  })

  it("FE without a second file (D3) and Q12 zero fields (D2)", () => {
    const r = fe({ file: file("/tmp/a") }, { opFlags: 1 << 18 })
    expect(A.fileNewname(r)).toBe(".")
    expect(A.fileNewdirectory(r)).toBe(".")
    expect(A.fileNewpath(r)).toBe("")
    expect(A.fileNewoid(r)).toBe("")
    expect(A.fileFd(r)).toBe(0)
    expect(A.fileOpenflags(r)).toEqual(["NONE"])
    expect(A.fileIsOpenRead(r)).toBe(false)
    expect(A.flowRops(r)).toBe(0n)
    expect(A.flowWops(r)).toBe(0n)
  })

  it("Q12: NF has empty file-open attributes; FF has no IPs", () => {
    const n = exampleB()
    expect(str("sf.file.openflags", n)).toBe("")
    expect(A.fileIsOpenRead(n)).toBe(false)
    expect(A.fileIsOpenWrite(n)).toBe(false)
    expect(A.fileFd(n)).toBe(8)
    const f = ff({ file: file("/x") }, { openFlags: 16781740 })
    expect(str("sf.net.sip", f)).toBe("0.0.0.0")
    expect(str("sf.net.ip", f)).toBe("0.0.0.0,0.0.0.0")
    expect(str("sf.net.port", f)).toBe("0,0")
  })
})

describe("sf.net.* / sf.flow.*", () => {
  it("NF (§5.3 b), true counts (Q13)", () => {
    const r = exampleB()
    expect(A.netSip(r)).toBe("172.17.0.1")
    expect(A.netDip(r)).toBe("172.17.0.2")
    expect(A.netIp(r)).toEqual(["172.17.0.1", "172.17.0.2"])
    expect(A.netPort(r)).toEqual([47200, 80])
    expect(str("sf.net.ip", r)).toBe("172.17.0.1,172.17.0.2")
    expect(str("fd.port", r)).toBe("47200,80")
    expect(attr("sf.net.port").get(r)).toEqual([47200n, 80n])
    expect(int("fd.l4proto", r)).toBe(6n)
    expect(A.flowRbytes(r)).toBe(92n)
    expect(A.flowWbytes(r)).toBe(306n)
    expect(int("sf.flow.rops", r)).toBe(2n)
    expect(int("sf.flow.wops", r)).toBe(1n)
    expect(str("sf.opflags", r)).toBe("ACCEPT,CLOSE,SEND,RECV,SHUTDOWN")
  })

  it("negative proto is kept", () => {
    expect(int("sf.net.proto", nf({}, { proto: -1 }))).toBe(-1n)
  })
})

describe("sf.container.*, sf.pod.*", () => {
  it("container values; privileged is an int", () => {
    const r = exampleB()
    expect(A.containerId(r)).toBe("477216583b2f")
    expect(A.containerType(r)).toBe("DOCKER")
    expect(str("container.image.id", r)).toBe("c3dc861cfb5bf757b336bf1502d023401a3247804f8a193e3f75888041da39f7")
    const priv = pe({ container: container({ privileged: true, type: "CT_CRIO" }) })
    expect(str("sf.container.privileged", priv)).toBe("1")
    expect(int("container.privileged", priv)).toBe(1n)
    expect(A.containerType(priv)).toBe("CRIO")
  })

  it("no container: empty strings, type DOCKER (kept)", () => {
    const r = exampleA()
    expect(A.containerId(r)).toBe("")
    expect(A.containerType(r)).toBe("DOCKER")
    expect(A.containerPrivileged(r)).toBe(0)
  })

  it("D7: pod IP and services strings are valid JSON", () => {
    const p = pod({
      hostIP: [BigInt(ipInt(192, 168, 59, 100)), BigInt(ipInt(10, 0, 0, 200))],
      services: [
        {
          name: "redis",
          id: "81bc",
          namespace: "robot-shop",
          portList: [
            { port: 6379, targetPort: 6380, nodePort: 0, proto: "TCP" },
            { port: 53, targetPort: 53, nodePort: 1, proto: "UDP" }
          ],
          clusterIP: [BigInt(ipInt(10, 111, 214, 104))]
        },
        { name: "b", id: "2", namespace: "n", portList: [], clusterIP: [] }
      ]
    })
    const r = pe({ container: container({ podId: p.id }), pod: p })
    expect(A.podHostip(r)).toBe('["192.168.59.100","10.0.0.200"]')
    expect(JSON.parse(A.podHostip(r))).toEqual(["192.168.59.100", "10.0.0.200"])
    expect(A.podInternalip(r)).toBe('["172.17.0.15"]')
    expect(A.podServices(r)).toBe(
      '[{"name":"redis","id":"81bc","namespace":"robot-shop","portList":[{"port":6379,"targetPort":6380,"nodePort":0,"proto":"TCP"},{"port":53,"targetPort":53,"nodePort":1,"proto":"UDP"}],"clusterIP":[1758883594]},' +
        '{"name":"b","id":"2","namespace":"n","portList":[],"clusterIP":[]}]'
    )
    expect(str("sf.pod.name", r)).toBe("redis-0")
    expect(int("sf.pod.ts", r)).toBe(1647543015033685000n)
    expect(int("sf.pod.restartcnt", r)).toBe(0n)
  })

  it("no pod: empty strings", () => {
    expect(A.podHostip(exampleA())).toBe("")
    expect(A.podId(exampleA())).toBe("")
  })
})

describe("sf.ke.*, sf.node.*, sf.meta.*", () => {
  it("KE values; trailing newline and NUL stripped (D15)", () => {
    const r = ke(header({ version: 4n, filename: "/x/1647544455" }), {
      message: '{"kind":"PodList"}\n\u0000',
      kind: "K8S_PODS",
      action: "K8S_COMPONENT_MODIFIED",
      ts: 9n
    })
    expect(A.keMessage(r)).toBe('{"kind":"PodList"}')
    expect(A.keKind(r)).toBe("K8S_PODS")
    expect(A.keAction(r)).toBe("K8S_COMPONENT_MODIFIED")
    expect(A.metaTracename(r)).toBe("1647544455")
    expect(int("sf.meta.schema", r)).toBe(4n)
    expect(A.opflags(r)).toEqual([])
    expect(str("sf.opflags", r)).toBe("")
    expect(A.procTid(r)).toBe(0n)
  })

  it("non-KE records read the zero enum values", () => {
    expect(A.keAction(exampleA())).toBe("K8S_COMPONENT_ADDED")
    expect(A.keKind(exampleA())).toBe("K8S_NODES")
    expect(A.keMessage(exampleA())).toBe("")
  })

  it("tracename '.' without a filename (D5); no header gives zeros", () => {
    expect(A.metaTracename(exampleB())).toBe(".")
    const r = pe({})
    expect(A.nodeId(r)).toBe("")
    expect(A.metaSchema(r)).toBe(0n)
    expect(A.metaTracename(r)).toBe(".")
  })
})

describe("attributeTable", () => {
  const sfNames = [
    "sf.type", "sf.opflags", "sf.ret", "sf.ts", "sf.endts",
    "sf.proc.oid", "sf.proc.pid", "sf.proc.createts", "sf.proc.uid", "sf.proc.gid", "sf.proc.tid", "sf.proc.user",
    "sf.proc.group", "sf.proc.exe", "sf.proc.cwd" /* X66, an extension */, "sf.proc.args", "sf.proc.name", "sf.proc.cmdline", "sf.proc.tty",
    "sf.proc.entry", "sf.proc.aname", "sf.proc.aexe", "sf.proc.acmdline", "sf.proc.apid",
    "sf.pproc.oid", "sf.pproc.pid", "sf.pproc.createts", "sf.pproc.name", "sf.pproc.exe", "sf.pproc.args",
    "sf.pproc.user", "sf.pproc.group", "sf.pproc.cmdline", "sf.pproc.uid", "sf.pproc.gid", "sf.pproc.tty",
    "sf.pproc.entry",
    "sf.file.path", "sf.file.symlink", "sf.file.name", "sf.file.directory", "sf.file.oid", "sf.file.newoid",
    "sf.file.newpath", "sf.file.newname", "sf.file.newdirectory", "sf.file.newsymlink", "sf.file.type",
    "sf.file.is_open_read", "sf.file.is_open_write", "sf.file.openflags", "sf.file.fd",
    "sf.net.proto", "sf.net.sport", "sf.net.dport", "sf.net.sip", "sf.net.dip", "sf.net.ip", "sf.net.port",
    "sf.flow.rbytes", "sf.flow.rops", "sf.flow.wbytes", "sf.flow.wops",
    "sf.container.id", "sf.container.name", "sf.container.image", "sf.container.imageid", "sf.container.type",
    "sf.container.privileged",
    "sf.pod.ts", "sf.pod.restartcnt", "sf.pod.id", "sf.pod.name", "sf.pod.nodename", "sf.pod.namespace",
    "sf.pod.hostip", "sf.pod.internalip", "sf.pod.services",
    "sf.ke.action", "sf.ke.kind", "sf.ke.message", "sf.node.id", "sf.node.ip", "sf.meta.schema", "sf.meta.tracename"
  ]
  const falco = [
    "evt.type", "evt.rawres", "evt.rawtime", "evt.dir", "evt.is_open_read", "evt.is_open_write", "evt.arg.uid",
    "fd.typechar", "fd.directory", "fd.name", "fd.filename", "fd.proto", "fd.lproto", "fd.l4proto", "fd.rproto",
    "fd.sproto", "fd.cproto", "fd.sport", "fd.dport", "fd.sip", "fd.dip", "fd.ip", "fd.port", "fd.num",
    "user.name", "proc.user", "proc.pid", "proc.tid", "proc.gid", "proc.uid", "proc.group", "proc.exe",
    "proc.name", "proc.args", "proc.cmdline", "proc.tty", "proc.createtime", "proc.aname", "proc.apid",
    "proc.ppid", "proc.pcreatetime", "proc.pname", "proc.pexe", "proc.pargs", "proc.pcmdline", "proc.puser",
    "proc.pgroup", "proc.puid", "proc.pgid", "proc.ptty",
    "container.id", "container.image.id", "container.image", "container.name", "container.type",
    "container.privileged"
  ]

  it("has exactly the §7.2 attributes and §7.3 aliases", () => {
    expect([...A.attributeTable.keys()].sort()).toEqual([...sfNames, ...falco].sort())
    for (const [k, d] of A.attributeTable) expect(d.name).toBe(k)
  })

  it("unimplemented names are absent (they are literals)", () => {
    for (const n of ["sf.res", "sf.container.image.id", "sf.state", "proc.vpid", "evt.arg.path", "sf.pod.hostip+"])
      expect(A.attributeTable.has(n)).toBe(false)
  })

  it("every attribute evaluates on every record type", () => {
    const f = file("/tmp/a")
    const records: ReadonlyArray<FlatRecord> = [
      exampleA(),
      exampleB(),
      exampleC(),
      fe({ ...httpdEntities, file: f, newFile: f }),
      ke(header()),
      pe({})
    ]
    for (const r of records)
      for (const d of A.attributeTable.values()) {
        expect(typeof d.str(r)).toBe("string")
        const v = d.get(r)
        if (d.kind === "int") expect(typeof v).toBe("bigint")
        if (d.kind === "bool") expect(typeof v).toBe("boolean")
        if (d.kind === "string") expect(typeof v).toBe("string")
        if (d.kind === "strings" || d.kind === "ints") expect(Array.isArray(v)).toBe(true)
        if (d.int !== undefined) expect(typeof d.int(r)).toBe("bigint")
      }
  })

  it("kinds: MapInt is defined for int64 attributes only", () => {
    expect(attr("sf.proc.pid").kind).toBe("int")
    expect(attr("sf.proc.name").int).toBeUndefined()
    expect(attr("sf.proc.aname").kind).toBe("strings")
    expect(attr("sf.proc.apid").kind).toBe("ints")
    expect(attr("sf.file.is_open_read").kind).toBe("bool")
    expect(attr("sf.file.is_open_read").int).toBeUndefined()
  })
})
