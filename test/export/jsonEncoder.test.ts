import { describe, expect, it } from "vitest"
import { bareEvent, type PolicyEvent, type RuleMatch } from "../../src/domain/policyEvent.js"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { encodeJsonBatch, encodeJsonEvent } from "../../src/services/export/encoders/JsonEncoder.js"
import {
  container,
  exampleA,
  exampleAJson,
  exampleB,
  exampleBJson,
  exampleC,
  exampleCFileFlow,
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
} from "../domain/fixtures.js"

const enc = (r: FlatRecord) => encodeJsonEvent(bareEvent(r), "5")

/** The text of section `"name":{…}` in a line (string-aware brace matching, no re-serialisation). */
const section = (line: string, name: string): string => {
  const start = line.indexOf(`"${name}":{`)
  if (start < 0) return ""
  let depth = 0
  let inStr = false
  for (let i = start + name.length + 3; i < line.length; i++) {
    const c = line[i]
    if (inStr) {
      if (c === "\\") i++
      else if (c === '"') inStr = false
    } else if (c === '"') inStr = true
    else if (c === "{") depth++
    else if (c === "}" && --depth === 0) return line.slice(start, i + 1)
  }
  return ""
}

describe("JSON encoder: worked examples (data-model §5.3)", () => {
  it("(a) PE EXEC with stale ancestry, byte for byte", () => {
    expect(enc(exampleA())).toBe(exampleAJson)
  })

  it("(b) NF with true flow counts (D1), byte for byte", () => {
    expect(enc(exampleB())).toBe(exampleBJson)
  })

  it("(c) FF file section and flow", () => {
    const line = enc(exampleC())
    expect(line).toContain("," + exampleCFileFlow + ',"meta":')
    // The reference's line for this record (golden httpd.sf.all, first line) with D1 applied by hand.
    expect(line).toBe(
      '{"version":5,"endts":1604071235204520606,"opflags":["OPEN","CLOSE","READ"],"ret":0,"ts":1604071235204480411,"type":"FF","container":{"id":"477216583b2f","image":"httpd_preforked:latest","imageid":"c3dc861cfb5bf757b336bf1502d023401a3247804f8a193e3f75888041da39f7","name":"httpd_preforked","privileged":0,"type":"DOCKER"},' +
        exampleCFileFlow +
        exampleBJson.slice(exampleBJson.indexOf(',"meta":'), exampleBJson.indexOf(',"net":')) +
        exampleBJson.slice(exampleBJson.indexOf(',"node":'))
    )
  })

  it("(d) KE: only k8s, meta and node", () => {
    const msg = '{"apiVersion":"v1","items":[{"name":"a<b>&c","namespace":"robot-shop"}]}'
    const r = ke(header({ version: 4n, exporter: "minikube", ip: "192.168.59.100", filename: "/tmp/1647544455" }), {
      ts: 1647544504410939817n,
      message: msg + "\n\u0000"
    })
    expect(enc(r)).toBe(
      '{"version":5,"endts":1647544504410939817,"opflags":[],"ret":0,"ts":1647544504410939817,"type":"KE",' +
        '"k8s":{"action":"K8S_COMPONENT_MODIFIED","kind":"K8S_PODS","message":"{\\"apiVersion\\":\\"v1\\",\\"items\\":[{\\"name\\":\\"a\\u003cb\\u003e\\u0026c\\",\\"namespace\\":\\"robot-shop\\"}]}"},' +
        '"meta":{"schema":4,"tracename":"1647544455"},"node":{"id":"minikube","ip":"192.168.59.100"}}'
    )
    expect(JSON.parse(enc(r)).k8s.message).toBe(msg)
  })
})

describe("JSON encoder: presence rules and fixes", () => {
  it("D8: parent not cached: pproc present with empty strings", () => {
    const p = proc({ pid: 55500n, createTS: 5n, ppid: 1922n, pcreateTS: 1602100326664000000n, exe: "/bin/sh" })
    const line = enc(pe({ header: header(), process: p, ptree: [p] }, { opFlags: 1, tid: 55500n }))
    expect(section(line, "pproc")).toBe(
      '"pproc":{"args":"","cmdline":"","createts":1602100326664000000,"entry":false,"exe":"","gid":0,"group":"","name":"","oid":"e45be0d56c59a390","pid":1922,"tty":false,"uid":0,"user":""}'
    )
    expect(line).toContain(
      '"pproc":{"args":"","cmdline":"","createts":1602100326664000000,"entry":false,"exe":"","gid":0,"group":"","name":"","oid":"e45be0d56c59a390","pid":1922,"tty":false,"uid":0,"user":""},"proc":{"acmdline":["/bin/sh"],"aexe":["/bin/sh"],"aname":["sh"],"apid":[55500],"args":"","cmdline":"/bin/sh",'
    )
  })

  it("no poid: no pproc section", () => {
    const p = proc({ pid: 1n, exe: "/sbin/init" })
    const line = enc(pe({ header: header(), process: p, ptree: [p] }))
    expect(line).not.toContain('"pproc"')
    expect(line).toContain('"node":{"id":"node","ip":"10.0.0.1"},"proc":{')
  })

  it("D9: missing process: proc.a* are [], zero fields, no pproc", () => {
    const line = enc(pe({ header: header() }, { tid: 42n, opFlags: 4 }))
    expect(line).toBe(
      '{"version":5,"endts":0,"opflags":["EXIT"],"ret":0,"ts":0,"type":"PE","meta":{"schema":4,"tracename":"."},"node":{"id":"node","ip":"10.0.0.1"},' +
        '"proc":{"acmdline":[],"aexe":[],"aname":[],"apid":[],"args":"","cmdline":"","createts":0,"entry":false,"exe":"","gid":0,"group":"","name":".","oid":' +
        JSON.stringify(JSON.parse(line).proc.oid) +
        ',"pid":0,"tid":42,"tty":false,"uid":0,"user":""}}'
    )
    expect(JSON.parse(line).proc.oid).toMatch(/^[0-9a-f]{16}$/)
  })

  it("D4: no trailing space in proc.cmdline", () => {
    const p = proc({ pid: 9n, exe: "/storage-provisioner" })
    expect(JSON.parse(enc(pe({ process: p, ptree: [p] }))).proc.cmdline).toBe("/storage-provisioner")
  })

  it("FE with a second file", () => {
    const e = {
      ...httpdEntities,
      file: file("/data/db/WiredTiger.turtle.set", { oid: "0c2b2b2bb33c53b836a9dfa8bd98c5f40eafd0ed" }),
      newFile: file("/data/db/WiredTiger.turtle", { oid: "cc6aed9676bc7133181416b97916ec6185620191", state: "MODIFIED" })
    }
    const line = enc(fe(e, { opFlags: 1 << 20, ts: 7n, ret: 0 }))
    // Golden k8s_small FE line, with D2 (fd 0 instead of the new file's state) applied by hand.
    expect(line).toContain(
      '"file":{"directory":"/data/db","fd":0,"is_open_read":false,"is_open_write":false,"name":"WiredTiger.turtle.set","newdirectory":"/data/db","newname":"WiredTiger.turtle","newoid":"cc6aed9676bc7133181416b97916ec6185620191","newpath":"/data/db/WiredTiger.turtle","newsymlink":"","oid":"0c2b2b2bb33c53b836a9dfa8bd98c5f40eafd0ed","openflags":["NONE"],"path":"/data/db/WiredTiger.turtle.set","symlink":"","type":"f"},"meta":'
    )
    expect(line).toContain('"opflags":["RENAME"],"ret":0,"ts":7,"type":"FE","container":')
    expect(line).not.toContain('"flow"')
    expect(line).not.toContain('"net"')
  })

  it("FE without a second file (D3)", () => {
    const line = enc(fe({ ...httpdEntities, file: file("/mnt/data/1647544395") }, { opFlags: 1 << 18 }))
    expect(section(line, "file")).toBe(
      '"file":{"directory":"/mnt/data","fd":0,"is_open_read":false,"is_open_write":false,"name":"1647544395","newdirectory":".","newname":".","newoid":"","newpath":"","newsymlink":"","oid":"05fd66f64173181d19e7719fc759ff05b1623c57","openflags":["NONE"],"path":"/mnt/data/1647544395","symlink":"","type":"f"}'
    )
  })

  it("socket path: symlink escaped, name from the raw path", () => {
    const line = enc(ff({ ...httpdEntities, file: file("ffffa046554ef800->ffffa046554eec00 /run/lvm/lvmetad.socket", { restype: 117 }) }, { fd: 3 }))
    expect(line).toContain(
      '"file":{"directory":"/run/lvm","fd":3,"is_open_read":false,"is_open_write":false,"name":"lvmetad.socket","newdirectory":".","newname":".","newoid":"","newpath":"","newsymlink":"","oid":"05fd66f64173181d19e7719fc759ff05b1623c57","openflags":["NONE"],"path":"/run/lvm/lvmetad.socket","symlink":"ffffa046554ef800-\\u003effffa046554eec00","type":"u"}'
    )
  })

  it("missing file in an FF: type is an escaped NUL", () => {
    expect(enc(ff({ ...httpdEntities }))).toContain('"path":"","symlink":"","type":"\\u0000"},"flow":')
  })

  it("container + pod: valid JSON arrays with commas (D7)", () => {
    const p = pod({
      hostIP: [BigInt(ipInt(192, 168, 59, 100)), BigInt(ipInt(192, 168, 59, 101))],
      services: [
        {
          name: "redis",
          id: "81bc1a3e-f067-4b37-a077-54061050c1cb",
          namespace: "robot-shop",
          portList: [
            { port: 6379, targetPort: 6379, nodePort: 0, proto: "TCP" },
            { port: 16379, targetPort: 16379, nodePort: 30000, proto: "TCP" }
          ],
          clusterIP: [BigInt(ipInt(10, 111, 214, 104)), BigInt(ipInt(10, 111, 214, 105))]
        },
        { name: "dispatch", id: "1c81", namespace: "robot-shop", portList: [], clusterIP: [] }
      ]
    })
    const c = container({ id: "942c80fd11ea", name: "redis", image: "redis:6.2", imageid: "sha", podId: p.id })
    const pr = proc({ pid: 300n, exe: "/usr/local/bin/redis-server" })
    const line = enc(pe({ header: header(), container: c, pod: p, process: pr, ptree: [pr] }, { opFlags: 1 }))
    expect(line).toContain(
      '"type":"PE","container":{"id":"942c80fd11ea","image":"redis:6.2","imageid":"sha","name":"redis","privileged":0,"type":"DOCKER"},"meta":'
    )
    expect(line).toContain(
      '"node":{"id":"node","ip":"10.0.0.1"},"pod":{"hostip":["192.168.59.100","192.168.59.101"],"id":"29c707fd-318a-4af4-be47-79a146578fc2","internalip":["172.17.0.15"],"name":"redis-0","namespace":"robot-shop","nodename":"minikube","restartcnt":0,' +
        '"services":[{"id":"81bc1a3e-f067-4b37-a077-54061050c1cb","name":"redis","namespace":"robot-shop","clusterIP":["10.111.214.104","10.111.214.105"],"ports":[{"port":6379,"targetport":6379,"nodeport":0,"proto":"TCP"},{"port":16379,"targetport":16379,"nodeport":30000,"proto":"TCP"}]},' +
        '{"id":"1c81","name":"dispatch","namespace":"robot-shop","clusterIP":[],"ports":[]}],"ts":1647543015033685000},"proc":{'
    )
    expect(() => JSON.parse(line)).not.toThrow()
  })

  it("pod without services (golden k8s_small shape)", () => {
    const p = pod({ services: [] })
    const c = container({ podId: p.id })
    const line = enc(pe({ container: c, pod: p }))
    expect(line).toContain(
      '"pod":{"hostip":["192.168.59.100"],"id":"29c707fd-318a-4af4-be47-79a146578fc2","internalip":["172.17.0.15"],"name":"redis-0","namespace":"robot-shop","nodename":"minikube","restartcnt":0,"services":[],"ts":1647543015033685000}'
    )
  })

  it("Q11: FF after NF with the same opflags value still prints READ", () => {
    expect(enc(nf(httpdEntities, { opFlags: 1280 }))).toContain('"opflags":["CLOSE","RECV"]')
    expect(enc(ff({ ...httpdEntities, file: file("/x") }, { opFlags: 1280 }))).toContain('"opflags":["CLOSE","READ"]')
  })
})

describe("JSON encoder: escaping", () => {
  it("HTML characters, quotes, controls, line separators, lone surrogates", () => {
    const p = proc({
      pid: 16681n,
      exe: "/bin/bash",
      exeArgs: "-c echo a<b>&c\t\"x\"\\y\u0001\u2028z\ud800",
      userName: "<NA>",
      groupName: "<NA>"
    })
    const line = enc(pe({ process: p, ptree: [p] }))
    expect(line).toContain('"user":"\\u003cNA\\u003e"')
    expect(line).toContain('"group":"\\u003cNA\\u003e"')
    expect(line).toContain('"args":"-c echo a\\u003cb\\u003e\\u0026c\\t\\"x\\"\\\\y\\u0001\\u2028z\\ufffd"')
    expect(JSON.parse(line).proc.args).toBe('-c echo a<b>&c\t"x"\\y\u0001\u2028z\ufffd')
  })

  it("one bounding quote is trimmed from string values (Q3)", () => {
    const p = proc({ pid: 1n, exe: '"/bin/x"', exeArgs: "'a'" })
    const parsed = JSON.parse(enc(pe({ process: p, ptree: [p] }))).proc
    expect(parsed.exe).toBe("/bin/x")
    expect(parsed.args).toBe("a")
    expect(parsed.cmdline).toBe("/bin/x\" 'a")
    expect(parsed.acmdline).toEqual(["/bin/x a"])
    expect(parsed.name).toBe("x") // trim(Base('"/bin/x"')) = trim('x"')
  })
})

describe("JSON encoder: policies and tags", () => {
  const rule = (name: string, priority: 0 | 1 | 2 | 3 | 4, tags: ReadonlyArray<string>, desc = "d"): RuleMatch => ({
    name,
    desc,
    priority,
    tags
  })

  it("writes policies in rule order and tags as ctx tags then rule tags", () => {
    const ev: PolicyEvent = {
      record: exampleA(),
      rules: [rule("Exec <x>", 3, ["mitre:T1059", "exec"], 'runs "it"'), rule("Second", 0, [])],
      tags: ["now_in_nanos:1"]
    }
    const line = encodeJsonEvent(ev, "5")
    expect(line).toBe(
      exampleAJson.slice(0, -1) +
        ',"policies":[{"id":"Exec \\u003cx\\u003e","desc":"runs \\"it\\"","priority":3},{"id":"Second","desc":"d","priority":0}]' +
        ',"tags":["now_in_nanos:1","mitre:T1059","exec"]}'
    )
  })

  it("tags without policies, duplicates kept, empty tag kept", () => {
    const ev: PolicyEvent = { record: exampleA(), rules: [], tags: ["a", "a", ""] }
    expect(encodeJsonEvent(ev, "5")).toBe(exampleAJson.slice(0, -1) + ',"tags":["a","a",""]}')
  })

  it("policies without tags", () => {
    const ev: PolicyEvent = { record: exampleA(), rules: [rule("R", 1, [])], tags: [] }
    expect(encodeJsonEvent(ev, "5")).toBe(exampleAJson.slice(0, -1) + ',"policies":[{"id":"R","desc":"d","priority":1}]}')
  })

  it("the KE layout takes policies after node", () => {
    const ev: PolicyEvent = { record: ke(header()), rules: [rule("K", 2, ["k8s"])], tags: [] }
    expect(encodeJsonEvent(ev, "5")).toMatch(/"node":\{"id":"node","ip":"10\.0\.0\.1"\},"policies":\[\{"id":"K","desc":"d","priority":2\}\],"tags":\["k8s"\]\}$/)
  })
})

describe("encodeJsonBatch", () => {
  it("joins lines with newlines and ends with one", () => {
    const out = encodeJsonBatch([bareEvent(exampleA()), bareEvent(exampleB())], "5")
    expect(out).toBe(exampleAJson + "\n" + exampleBJson + "\n")
    expect(encodeJsonBatch([], "5")).toBe("")
  })

  it("writes the schema version raw", () => {
    expect(encodeJsonEvent(bareEvent(exampleA()), "7").startsWith('{"version":7,"endts":0,')).toBe(true)
  })
})
