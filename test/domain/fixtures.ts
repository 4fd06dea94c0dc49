/** Hand-built entities and flat records for attribute and encoder tests. */
import { makeFlatRecord, type FlatRecord } from "../../src/domain/flatRecord.js"
import type {
  Container,
  File,
  FileEvent,
  FileFlow,
  K8sEvent,
  NetworkFlow,
  Pod,
  Process,
  ProcessEvent,
  SFHeader
} from "../../src/domain/sysflow.js"

export const header = (o: Partial<SFHeader> = {}): SFHeader => ({
  version: 4n,
  exporter: "node",
  ip: "10.0.0.1",
  filename: "",
  ...o
})

export interface ProcInput extends Partial<Omit<Process, "oid" | "poid">> {
  readonly pid: bigint
  readonly createTS?: bigint
  /** Parent pid; omitted = no poid. */
  readonly ppid?: bigint
  readonly pcreateTS?: bigint
}

export const proc = (o: ProcInput): Process => {
  const { pid, createTS, ppid, pcreateTS, ...rest } = o
  return {
    state: "CREATED",
    oid: { hpid: pid, createTS: createTS ?? 0n },
    poid: ppid === undefined ? null : { hpid: ppid, createTS: pcreateTS ?? 0n },
    ts: 0n,
    exe: "",
    exeArgs: "",
    uid: 0,
    userName: "root",
    gid: 0,
    groupName: "root",
    tty: false,
    containerId: null,
    entry: false,
    ...rest
  }
}

export const container = (o: Partial<Container> = {}): Container => ({
  id: "cc5d46fa59b1",
  name: "apache",
  image: "img:latest",
  imageid: "abc",
  type: "CT_DOCKER",
  privileged: false,
  podId: null,
  ...o
})

export const file = (path: string, o: Partial<File> = {}): File => ({
  state: "CREATED",
  oid: "05fd66f64173181d19e7719fc759ff05b1623c57",
  ts: 0n,
  restype: "f".charCodeAt(0),
  path,
  containerId: null,
  ...o
})

/** Little-endian IPv4 int as SysFlow stores it (first octet in the low byte). */
export const ipInt = (a: number, b: number, c: number, d: number): number => (a | (b << 8) | (c << 16) | (d << 24)) | 0

export const pod = (o: Partial<Pod> = {}): Pod => ({
  ts: 1647543015033685000n,
  id: "29c707fd-318a-4af4-be47-79a146578fc2",
  name: "redis-0",
  nodeName: "minikube",
  hostIP: [BigInt(ipInt(192, 168, 59, 100))],
  internalIP: [BigInt(ipInt(172, 17, 0, 15))],
  namespace: "robot-shop",
  restartCount: 0n,
  labels: {},
  selectors: {},
  services: [],
  ...o
})

interface Entities {
  readonly header?: SFHeader
  readonly process?: Process
  readonly ptree?: ReadonlyArray<Process>
  readonly container?: Container
  readonly pod?: Pod
  readonly file?: File
  readonly newFile?: File
}

const oidOf = (e: Entities) => e.process?.oid ?? { hpid: 0n, createTS: 0n }

export const pe = (e: Entities, o: Partial<ProcessEvent> = {}): FlatRecord =>
  makeFlatRecord(
    "PE",
    { procOID: oidOf(e), ts: 0n, tid: e.process?.oid.hpid ?? 0n, opFlags: 0, args: [], ret: 0, ...o },
    e.header,
    e.process,
    e.ptree,
    e.container,
    e.pod,
    undefined,
    undefined
  )

export const ff = (e: Entities, o: Partial<FileFlow> = {}): FlatRecord =>
  makeFlatRecord(
    "FF",
    {
      procOID: oidOf(e),
      ts: 0n,
      tid: e.process?.oid.hpid ?? 0n,
      opFlags: 0,
      openFlags: 0,
      endTs: 0n,
      fileOID: e.file?.oid ?? "00".repeat(20),
      fd: 0,
      numRRecvOps: 0n,
      numWSendOps: 0n,
      numRRecvBytes: 0n,
      numWSendBytes: 0n,
      ...o
    },
    e.header,
    e.process,
    e.ptree,
    e.container,
    e.pod,
    e.file,
    undefined
  )

export const fe = (e: Entities, o: Partial<FileEvent> = {}): FlatRecord =>
  makeFlatRecord(
    "FE",
    {
      procOID: oidOf(e),
      ts: 0n,
      tid: e.process?.oid.hpid ?? 0n,
      opFlags: 0,
      fileOID: e.file?.oid ?? "00".repeat(20),
      ret: 0,
      newFileOID: e.newFile?.oid ?? null,
      ...o
    },
    e.header,
    e.process,
    e.ptree,
    e.container,
    e.pod,
    e.file,
    e.newFile
  )

export const nf = (e: Entities, o: Partial<NetworkFlow> = {}): FlatRecord =>
  makeFlatRecord(
    "NF",
    {
      procOID: oidOf(e),
      ts: 0n,
      tid: e.process?.oid.hpid ?? 0n,
      opFlags: 0,
      endTs: 0n,
      sip: 0,
      sport: 0,
      dip: 0,
      dport: 0,
      proto: 0,
      fd: 0,
      numRRecvOps: 0n,
      numWSendOps: 0n,
      numRRecvBytes: 0n,
      numWSendBytes: 0n,
      ...o
    },
    e.header,
    e.process,
    e.ptree,
    e.container,
    e.pod,
    undefined,
    undefined
  )

export const ke = (h: SFHeader, o: Partial<K8sEvent> = {}): FlatRecord =>
  makeFlatRecord(
    "KE",
    { kind: "K8S_PODS", action: "K8S_COMPONENT_MODIFIED", ts: 0n, message: "", ...o },
    h,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined
  )

// ---------------------------------------------------------------------------------------------------
// The records of data-model §5.3

/** §5.3 (a): `1621959914`, pid 105448 after exec; the ptree still holds the CLONE-time process (D10). */
export const exampleA = (): FlatRecord => {
  const h = header({ version: 3n, exporter: "myhost", ip: "127.0.0.1", filename: "/mnt/traces/1621959914" })
  const besArgs = { exe: "/opt/BESClient/bin/BESClient", exeArgs: "" }
  const stale = proc({ pid: 105448n, createTS: 1621959914567050151n, ppid: 1922n, pcreateTS: 1602100326664000000n, ...besArgs })
  const now = proc({
    pid: 105448n,
    createTS: 1621959914567050151n,
    ppid: 1922n,
    pcreateTS: 1602100326664000000n,
    state: "MODIFIED",
    exe: "/usr/bin/dpkg",
    exeArgs: "--print-foreign-architectures"
  })
  const parent = proc({ pid: 1922n, createTS: 1602100326664000000n, ppid: 1n, ...besArgs })
  const systemd = proc({ pid: 1n, exe: "/lib/systemd/systemd", exeArgs: "--system --deserialize 34" })
  return pe(
    { header: h, process: now, ptree: [stale, parent, systemd] },
    { ts: 1621959914570130505n, tid: 105448n, opFlags: 2, ret: 0 }
  )
}

export const exampleAJson =
  '{"version":5,"endts":0,"opflags":["EXEC"],"ret":0,"ts":1621959914570130505,"type":"PE","meta":{"schema":3,"tracename":"1621959914"},"node":{"id":"myhost","ip":"127.0.0.1"},"pproc":{"args":"","cmdline":"/opt/BESClient/bin/BESClient","createts":1602100326664000000,"entry":false,"exe":"/opt/BESClient/bin/BESClient","gid":0,"group":"root","name":"BESClient","oid":"e45be0d56c59a390","pid":1922,"tty":false,"uid":0,"user":"root"},"proc":{"acmdline":["/opt/BESClient/bin/BESClient","/opt/BESClient/bin/BESClient","/lib/systemd/systemd --system --deserialize 34"],"aexe":["/opt/BESClient/bin/BESClient","/opt/BESClient/bin/BESClient","/lib/systemd/systemd"],"aname":["BESClient","BESClient","systemd"],"apid":[105448,1922,1],"args":"--print-foreign-architectures","cmdline":"/usr/bin/dpkg --print-foreign-architectures","createts":1621959914567050151,"entry":false,"exe":"/usr/bin/dpkg","gid":0,"group":"root","name":"dpkg","oid":"54272ca288f77a48","pid":105448,"tid":105448,"tty":false,"uid":0,"user":"root"}}'

const httpdHeader = header({ version: 2n, exporter: "gladiator-1", ip: "169.48.198.72", filename: "" })
const httpdContainer = container({
  id: "477216583b2f",
  name: "httpd_preforked",
  image: "httpd_preforked:latest",
  imageid: "c3dc861cfb5bf757b336bf1502d023401a3247804f8a193e3f75888041da39f7"
})
const httpdExe = { exe: "/usr/local/apache2/bin/httpd", exeArgs: "-DFOREGROUND" }
const httpdProc = proc({
  pid: 49035n,
  createTS: 1604069900217306625n,
  ppid: 48982n,
  pcreateTS: 1604069898201336885n,
  uid: 1,
  userName: "bin",
  gid: 1,
  groupName: "bin",
  ...httpdExe
})
const httpdPtree = [
  httpdProc,
  proc({ pid: 48982n, createTS: 1604069898201336885n, ppid: 48942n, entry: true, ...httpdExe }),
  proc({
    pid: 48942n,
    ppid: 1761n,
    exe: "/usr/bin/containerd-shim",
    exeArgs:
      "-namespace moby -workdir /var/lib/containerd/io.containerd.runtime.v1.linux/moby/477216583b2fcd0fb8bfe5627113407dae45cfc63c81af0ee16d448856fd2281 -address /run/containerd/containerd.sock -containerd-binary /usr/bin/containerd -runtime-root /var/run/docker/runtime-runc"
  }),
  proc({ pid: 1761n, ppid: 1n, exe: "/usr/bin/containerd" }),
  proc({ pid: 1n, exe: "/lib/systemd/systemd", exeArgs: "nofb" })
]
export const httpdEntities = {
  header: httpdHeader,
  container: httpdContainer,
  process: httpdProc,
  ptree: httpdPtree
}

/** §5.3 (b): the `httpd.sf` NF. */
export const exampleB = (): FlatRecord =>
  nf(httpdEntities, {
    ts: 1604071235203888327n,
    endTs: 1604071235205426076n,
    tid: 49035n,
    opFlags: 5920,
    sip: 16781740,
    sport: 47200,
    dip: 33558956,
    dport: 80,
    proto: 6,
    fd: 8,
    numRRecvOps: 2n,
    numWSendOps: 1n,
    numRRecvBytes: 92n,
    numWSendBytes: 306n
  })

export const exampleBJson =
  '{"version":5,"endts":1604071235205426076,"opflags":["ACCEPT","CLOSE","SEND","RECV","SHUTDOWN"],"ret":0,"ts":1604071235203888327,"type":"NF","container":{"id":"477216583b2f","image":"httpd_preforked:latest","imageid":"c3dc861cfb5bf757b336bf1502d023401a3247804f8a193e3f75888041da39f7","name":"httpd_preforked","privileged":0,"type":"DOCKER"},"flow":{"rbytes":92,"rops":2,"wbytes":306,"wops":1},"meta":{"schema":2,"tracename":"."},"net":{"dip":"172.17.0.2","dport":80,"ip":["172.17.0.1","172.17.0.2"],"port":[47200,80],"proto":6,"sip":"172.17.0.1","sport":47200},"node":{"id":"gladiator-1","ip":"169.48.198.72"},"pproc":{"args":"-DFOREGROUND","cmdline":"/usr/local/apache2/bin/httpd -DFOREGROUND","createts":1604069898201336885,"entry":true,"exe":"/usr/local/apache2/bin/httpd","gid":0,"group":"root","name":"httpd","oid":"2ddadce0abb5f3ff","pid":48982,"tty":false,"uid":0,"user":"root"},"proc":{"acmdline":["/usr/local/apache2/bin/httpd -DFOREGROUND","/usr/local/apache2/bin/httpd -DFOREGROUND","/usr/bin/containerd-shim -namespace moby -workdir /var/lib/containerd/io.containerd.runtime.v1.linux/moby/477216583b2fcd0fb8bfe5627113407dae45cfc63c81af0ee16d448856fd2281 -address /run/containerd/containerd.sock -containerd-binary /usr/bin/containerd -runtime-root /var/run/docker/runtime-runc","/usr/bin/containerd","/lib/systemd/systemd nofb"],"aexe":["/usr/local/apache2/bin/httpd","/usr/local/apache2/bin/httpd","/usr/bin/containerd-shim","/usr/bin/containerd","/lib/systemd/systemd"],"aname":["httpd","httpd","containerd-shim","containerd","systemd"],"apid":[49035,48982,48942,1761,1],"args":"-DFOREGROUND","cmdline":"/usr/local/apache2/bin/httpd -DFOREGROUND","createts":1604069900217306625,"entry":false,"exe":"/usr/local/apache2/bin/httpd","gid":1,"group":"bin","name":"httpd","oid":"3da9961a7b70d6ec","pid":49035,"tid":49035,"tty":false,"uid":1,"user":"bin"}}'

/** §5.3 (c): the `httpd.sf` FF on /etc/localtime. */
export const exampleC = (): FlatRecord =>
  ff(
    { ...httpdEntities, file: file("/etc/localtime") },
    {
      ts: 1604071235204480411n,
      endTs: 1604071235204520606n,
      tid: 49035n,
      opFlags: 1408,
      openFlags: 4097,
      fd: 10,
      numRRecvOps: 2n,
      numRRecvBytes: 198n
    }
  )

export const exampleCFileFlow =
  '"file":{"directory":"/etc","fd":10,"is_open_read":true,"is_open_write":false,"name":"localtime","newdirectory":".","newname":".","newoid":"","newpath":"","newsymlink":"","oid":"05fd66f64173181d19e7719fc759ff05b1623c57","openflags":["RDONLY","CLOEXEC"],"path":"/etc/localtime","symlink":"","type":"f"},"flow":{"rbytes":198,"rops":2,"wbytes":0,"wops":0}'
