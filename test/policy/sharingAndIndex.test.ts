/**
 * What makes evaluation cheap, and must never change a result: shared sub-terms evaluated once per
 * record, per-type constant folding (data-model.md §3.2), guard dispatch, multi-pattern pmatch, cached
 * comma splits. Every optimisation is checked against the generic (unoptimised) condition.
 */
import { describe, expect, it } from "vitest"
import { attributeTable } from "../../src/domain/attributes.js"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { multiContains } from "../../src/services/policy/PolicyCompiler.js"
import { PredicateGraph } from "../../src/services/policy/PredicateGraph.js"
import { RecordMemo, splitCommas } from "../../src/services/policy/Predicates.js"
import { evaluate, rulesFor } from "../../src/services/policy/PolicySet.js"
import { attributeScope } from "../../src/services/policy/EntityScope.js"
import { falcoOrAttribute } from "../../src/services/policy/FalcoFields.js"
import { bash, compiled, fe, ff, file, holds, ke, matchNames, nf, nodeApp, OP, pe, proc, python } from "./fixtures.js"

const rule = (name: string, condition: string, extra = "") => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n${extra}`

describe("shared sub-terms (PredicateGraph)", () => {
  it("evaluates a node shared by two rules once per record", () => {
    const memo = new RecordMemo()
    const g = new PredicateGraph(memo)
    let calls = 0
    const leaf = g.leaf("counted", () => () => {
      calls++
      return true
    })
    const other = g.leaf("other", () => () => true)
    const a = g.and([leaf, other])
    const b = g.or([g.not(other), leaf])
    g.root(a, "PE")
    g.root(b, "PE")
    g.finish()
    const [pa, pb] = [g.pred(a), g.pred(b)]
    const r = pe()
    expect([pa(r), pb(r), pa(r)]).toEqual([true, true, true])
    expect(calls).toBe(1)
    pa(pe())
    expect(calls).toBe(2)
  })

  it("interns identical terms and folds constants", () => {
    const g = new PredicateGraph(new RecordMemo())
    const x = g.leaf("x", () => () => true)
    expect(g.leaf("x", () => () => false)).toBe(x)
    expect(g.and([true, x, true])).toBe(x)
    expect(g.and([x, false])).toBe(false)
    expect(g.or([false, false])).toBe(false)
    expect(g.or([x, true])).toBe(true)
    expect(g.not(g.not(x))).toBe(x)
    expect(g.and([x, g.leaf("y", () => () => true)])).toBe(g.and([x, g.leaf("y", () => () => true)]))
  })

  it("shares macros expanded into many rules", () => {
    const set = compiled(
      "- macro: open_write\n  condition: sf.opflags in (WRITE, SEND) or (sf.opflags = OPEN and sf.file.openflags in (CREAT))\n" +
        rule("a", "open_write and sf.file.path startswith /etc") +
        rule("b", "open_write and sf.file.path startswith /bin") +
        rule("c", "sf.file.name = out.txt and open_write")
    )
    expect(matchNames(set, ff())).toEqual(["c"])
    expect(matchNames(set, ff({ file: file("/etc/x") }))).toEqual(["a"])
  })
})

describe("per-type constant folding (data-model §3.2)", () => {
  const names = (set: ReturnType<typeof compiled>, t: "PE" | "FF" | "FE" | "NF" | "KE") => set.index[t].rules.map((r) => r.name)

  it("drops rules that cannot match a record type", () => {
    const set = compiled(
      rule("file", "sf.file.path pmatch (/etc/passwd)") +
        rule("second file", "sf.file.newpath = /etc/shadow") +
        rule("process", "sf.proc.name = python") +
        rule("network", "sf.net.dport = 443") +
        rule("k8s", "sf.ke.kind = K8S_PODS")
    )
    // sf.net.dport is 0 on every record but NF; KE carries no process (its name is ".")
    expect(names(set, "PE")).toEqual(["process"])
    expect(names(set, "FF")).toEqual(["file", "process"])
    expect(names(set, "FE")).toEqual(["file", "second file", "process"])
    expect(names(set, "NF")).toEqual(["process", "network"])
    expect(names(set, "KE")).toEqual(["k8s"])
  })

  it("agrees with the generic condition for every attribute on every record type", () => {
    const orphan = proc({ exe: "/bin/orphan" })
    const records: ReadonlyArray<FlatRecord> = [
      pe(),
      pe({ process: undefined, ptree: undefined, container: undefined }, -1),
      pe({ process: orphan, ptree: [orphan] }),
      ff(),
      ff({ file: undefined, opFlags: OP.OPEN }, 3),
      ff({ file: file("/a/b", "4") }, 0x1fff, { rb: 5n }),
      fe({ newFile: file("/etc/shadow") }),
      fe({ file: undefined }),
      nf(),
      nf({ opFlags: OP.ACCEPT | OP.READ_RECV }, 80),
      ke(JSON.stringify({ items: [{ namespace: "ns" }] })),
      ke("", { kind: "K8S_SERVICES", action: "K8S_COMPONENT_DELETED" })
    ]
    for (const [name, def] of attributeTable) {
      for (const r of records) {
        const v = def.str(r)
        if (/['\n\r]/.test(v)) continue
        expect(holds(`${name} = '${v}'`, r), `${name} = '${v}' on ${r.type}`).toBe(true)
        holds(`${name} exists`, r)
        holds(`${name} > 0 or ${name} < 0`, r)
        holds(`${name}[0] = ''`, r)
      }
    }
  })
})

describe("the operation index (rules starting with `sf.opflags` tests)", () => {
  const set = compiled(
    rule("exec python", "sf.opflags = EXEC and sf.proc.name in (python, perl) and sf.container.name = node-app") +
      rule("exec shell", "sf.opflags = EXEC and sf.proc.name in (bash, sh)") +
      rule("any exec", "sf.opflags = EXEC") +
      rule("clone", "sf.opflags = CLONE and sf.proc.name = python") +
      rule("write", "sf.opflags = WRITE and sf.file.path startswith /tmp") +
      rule("ancestor bash", "sf.proc.aname = bash and sf.proc.name != bash") +
      rule("unguarded", "sf.proc.name startswith py")
  )

  it("puts a rule only in the buckets of the operations it tests", () => {
    // `write` is not in the PE index: sf.file.path is "" on PE (no file), so it cannot match
    expect(set.index.PE.rules.map((r) => r.name)).toEqual(["exec python", "exec shell", "any exec", "clone", "ancestor bash", "unguarded"])
    const names = (r: FlatRecord) => rulesFor(set, r).map((x) => x.name)
    expect(names(pe())).toEqual(["exec python", "exec shell", "any exec", "ancestor bash", "unguarded"])
    expect(names(pe({ opFlags: OP.CLONE }))).toEqual(["clone", "ancestor bash", "unguarded"])
    expect(names(pe({ opFlags: OP.CLONE | OP.EXEC }))).toEqual(["exec python", "exec shell", "any exec", "clone", "ancestor bash", "unguarded"])
  })

  it("selects exactly the rules the generic conditions select", () => {
    const sh = proc({ exe: "/bin/sh", parent: bash })
    const records = [
      pe(),
      pe({ opFlags: OP.CLONE }),
      pe({ opFlags: OP.CLONE | OP.EXEC }),
      pe({ process: sh, ptree: [sh, bash] }),
      pe({ container: undefined }),
      ff(),
      ff({ file: file("/var/x") }),
      nf(),
      fe()
    ]
    for (const r of records) {
      const generic = set.rules.filter((x) => x.condition(r)).map((x) => x.name)
      expect(matchNames(set, r), `${r.type} ${r.process?.exe}`).toEqual(generic)
    }
    expect(matchNames(set, pe({ opFlags: OP.CLONE | OP.EXEC }))).toEqual(["exec python", "any exec", "clone", "ancestor bash", "unguarded"])
  })

  it("is repeatable on the same record and across records", () => {
    const r = pe()
    const first = evaluate(set, r).matches
    expect(evaluate(set, r).matches).toEqual(first)
    evaluate(set, ff())
    expect(evaluate(set, r).matches).toEqual(first)
  })
})

describe("multiContains (pmatch with many patterns)", () => {
  const any = multiContains(["apt", "dpkg", "yum", "rpm", "é", "😀x"])

  it.each([
    ["apt-get", true],
    ["/usr/bin/dpkg", true],
    ["xyum", true],
    ["rp", false],
    ["", false],
    ["café", true],
    ["a😀x", true],
    ["a😀", false],
    ["pip3", false]
  ])("%j → %s", (u, want) => expect(any(u)).toBe(want))

  it("agrees with a loop of includes", () => {
    const patterns = ["ab", "b", "abc", "zz", "a"]
    const f = multiContains(patterns)
    for (const u of ["", "a", "b", "ab", "ba", "zz", "z", "cab", "xyz", "zzz"]) {
      expect(f(u), u).toBe(patterns.some((p) => u.includes(p)))
    }
  })
})

describe("splitCommas", () => {
  it("splits like String.split and shares the result", () => {
    expect(splitCommas("OPEN,READ,CLOSE")).toEqual(["OPEN", "READ", "CLOSE"])
    expect(splitCommas("")).toEqual([""])
    expect(splitCommas("a,,b,")).toEqual(["a", "", "b", ""])
    expect(splitCommas("x,y")).toBe(splitCommas("x,y"))
    expect(Object.isFrozen(splitCommas("x,y"))).toBe(true)
  })
})

describe("per-process results (EntityScope, StraightLine)", () => {
  // One process's records share its Process object, ancestry array and container: what reads only those is
  // evaluated once per process; each case below changes one of them, or the event, and expects the answer
  // evaluating from scratch gives.
  const ptree = [python, bash]
  const rules = compiled(
    rule("etc write", "sf.proc.name = python and sf.proc.aname contains bash and sf.file.path startswith /etc") +
      rule("curl", "sf.proc.name = curl and sf.pproc.name = bash") +
      rule("in web", "sf.container.name = web and sf.proc.name = python") +
      rule("thread 7", "sf.proc.name = python and sf.proc.tid = 7") +
      rule("not root", "not (sf.proc.user = root or sf.proc.uid = 0) and sf.opflags = EXEC")
  )
  const onPython = (c: Parameters<typeof ff>[0] = {}) => ({ process: python, ptree, ...c })

  it("a process's records differ by their event: the per-process part is the same, the rest is not", () => {
    expect(matchNames(rules, ff(onPython({ file: file("/etc/passwd") })))).toEqual(["etc write"])
    expect(matchNames(rules, ff(onPython({ file: file("/tmp/x") })))).toEqual([])
    expect(matchNames(rules, ff(onPython({ file: file("/etc/shadow") })))).toEqual(["etc write"])
    expect(matchNames(rules, pe(onPython()))).toEqual(["not root"])
    expect(matchNames(rules, pe(onPython({ opFlags: OP.EXIT })))).toEqual([])
  })

  it("sf.proc.tid is the event's: the same process on two threads", () => {
    const onThread = (tid: bigint) => {
      const r = pe(onPython())
      return { ...r, event: { ...r.event, tid } } as FlatRecord
    }
    expect(matchNames(rules, onThread(7n))).toEqual(["thread 7", "not root"])
    expect(matchNames(rules, onThread(8n))).toEqual(["not root"])
    expect(matchNames(rules, onThread(7n))).toEqual(["thread 7", "not root"])
  })

  it("an exec's new Process record, a new ancestry or a re-sent container is seen at once", () => {
    expect(matchNames(rules, pe(onPython()))).toEqual(["not root"])
    // exec: the reader's MODIFIED record is a new object (the ancestry memo stays, D10)
    const curl = { ...python, state: "MODIFIED" as const, exe: "/usr/bin/curl", userName: "root", uid: 0 }
    expect(matchNames(rules, pe({ process: curl, ptree }))).toEqual(["curl"])
    // the same process object with another ancestry array (another trace file's cache)
    expect(matchNames(rules, pe({ process: curl, ptree: [curl, python] }))).toEqual([])
    // a container record sent again with another name
    const web = { ...nodeApp, name: "web" }
    expect(matchNames(rules, pe(onPython({ container: web })))).toEqual(["in web", "not root"])
    expect(matchNames(rules, pe(onPython()))).toEqual(["not root"])
  })

  it("a file's records: its path is the same, the operation is not; a File record sent again is seen at once", () => {
    const set = compiled(rule("etc write", "(sf.file.path startswith /etc or sf.file.name = passwd) and sf.opflags in (WRITE)"))
    const passwd = file("/etc/passwd")
    const write = (f: ReturnType<typeof file>) => ff(onPython({ file: f, opFlags: OP.WRITE_SEND }))
    expect(matchNames(set, write(passwd))).toEqual(["etc write"])
    expect(matchNames(set, ff(onPython({ file: passwd, opFlags: OP.READ_RECV })))).toEqual([])
    expect(matchNames(set, write(passwd))).toEqual(["etc write"])
    expect(matchNames(set, write(file("/tmp/x")))).toEqual([])
    expect(matchNames(set, write(file("/tmp/passwd")))).toEqual(["etc write"])
    expect(matchNames(set, ff(onPython({ file: undefined, opFlags: OP.WRITE_SEND })))).toEqual([])
  })

  it("records without a process are evaluated as they are (uid 0 reads as root)", () => {
    const orphan = () => pe({ process: undefined, ptree: undefined })
    expect(matchNames(rules, orphan())).toEqual([])
    expect(matchNames(rules, pe(onPython()))).toEqual(["not root"])
    expect(matchNames(rules, orphan())).toEqual([])
  })

  it("which attributes are per process (file attributes are the record's: not kept per File)", () => {
    const scope = (name: string) => attributeScope(attributeTable.get(name)!)
    expect(["sf.proc.name", "sf.proc.aname", "sf.pproc.exe", "sf.container.name", "sf.pod.name", "sf.proc.pid"].map(scope)).toEqual(Array(6).fill("process"))
    const record = ["sf.file.path", "sf.file.name", "sf.file.directory", "sf.file.type", "sf.proc.tid", "sf.file.openflags", "sf.file.fd", "sf.file.newpath", "sf.file.is_open_write", "sf.ts", "sf.opflags", "sf.net.dport", "sf.type"]
    expect(record.map(scope)).toEqual(Array(record.length).fill("record"))
  })

  it("Falco's names for process attributes are per process too, so a Falco file loaded first does not make them per record", () => {
    const scope = (name: string) => attributeScope(falcoOrAttribute(name)!)
    const perProcess = ["proc.aname", "proc.pcmdline", "proc.exepath", "proc.args", "container.image", "container.name", "k8s.pod.name", "user.name", "proc.aname[2]", "proc.tty"]
    expect(perProcess.map(scope)).toEqual(Array(perProcess.length).fill("process"))
    const record = ["proc.tid", "thread.tid", "fd.name", "evt.type", "proc.duration", "fd.sip", "fd.net"]
    expect(record.map(scope)).toEqual(Array(record.length).fill("record"))
  })
})
