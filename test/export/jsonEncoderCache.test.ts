/**
 * The JSON encoder caches each entity's rendering on the entity object (process + ptree, header,
 * container, pod, file): a line written from cached fragments must equal the line written from scratch.
 * "From scratch" = the same record with fresh copies of its entities (structuredClone drops the cache).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import { bareEvent, type PolicyEvent } from "../../src/domain/policyEvent.js"
import type { Process } from "../../src/domain/sysflow.js"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { encodeJsonBatch, encodeJsonEvent, encodeJsonText } from "../../src/services/export/encoders/JsonEncoder.js"
import { TextBatch } from "../../src/services/export/ExportBatch.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { traceRecords } from "../support/traceRecords.js"
import { container, fe, ff, file, header, httpdEntities, ipInt, nf, pe, pod, proc } from "../domain/fixtures.js"

/** The record's line computed without any cached fragment. */
/** What the exporter hands a transport: the bytes, decoded line by line. */
const encodeLines = (events: ReadonlyArray<PolicyEvent>, version: string): ReadonlyArray<string> =>
  new TextBatch(encodeJsonText(events, version)).lines

const fresh = (ev: PolicyEvent, version = "5"): string =>
  encodeJsonEvent({ ...ev, record: structuredClone(ev.record) }, version)

const enc = (r: FlatRecord, version = "5"): string => encodeJsonEvent(bareEvent(r), version)

const withPolicies = (r: FlatRecord, i: number): PolicyEvent => ({
  record: r,
  rules: i % 3 === 0 ? [] : [{ name: `rule <${i}>`, desc: "d", priority: 2, tags: ["mitre:T1059"] }],
  tags: i % 2 === 0 ? [] : ["ctx"]
})

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-jsoncache-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe("JSON encoder: cached fragments equal a fresh rendering", () => {
  it("a trace with more processes than fragments are kept: lines of processes whose fragment was dropped are rendered anew, the same", async () => {
    const trace = path.join(tmp, "many-processes.sf")
    generateSyntheticTrace(fileSink(trace), { records: 12_000, seed: 5, processes: 9000, files: 200 })
    const records = await traceRecords(trace)
    expect(new Set(records.map((r) => r.process)).size).toBeGreaterThan(4096)
    const events = records.map(bareEvent)
    // Twice over the whole trace: in the second pass the first processes lost their fragments long ago.
    const first = encodeLines(events, "5")
    const second = encodeLines(events, "5")
    for (let i = 0; i < records.length; i++) {
      if (first[i] !== second[i] || first[i] !== fresh(events[i])) expect([first[i], second[i]]).toEqual([fresh(events[i]), fresh(events[i])])
    }
  })

  it("every record of a synthetic trace (shared entities, varying open flags, second files)", async () => {
    const trace = path.join(tmp, "synthetic.sf")
    generateSyntheticTrace(fileSink(trace), { records: 6000, seed: 11, processes: 60, files: 300 })
    const records = await traceRecords(trace)
    expect(new Set(records.map((r) => r.type))).toEqual(new Set(["PE", "FF", "FE", "NF"]))
    const events = records.map(bareEvent)
    // Twice: the second pass reads every fragment from the cache.
    for (let pass = 0; pass < 2; pass++) {
      const lines = encodeLines(events, "5")
      expect(lines).toHaveLength(records.length)
      for (let i = 0; i < records.length; i++) if (lines[i] !== fresh(events[i])) expect(lines[i]).toBe(fresh(events[i]))
    }
    // With policies and tags, and another schema version, interleaved with the cached pass.
    const policyEvents = records.slice(0, 1500).map(withPolicies)
    const lines = encodeLines(policyEvents, "7")
    for (let i = 0; i < policyEvents.length; i++) expect(lines[i]).toBe(fresh(policyEvents[i], "7"))
    expect(encodeLines(events.slice(0, 10), "5")).toEqual(events.slice(0, 10).map((e) => fresh(e)))
  })

  it("the sample trace, line by line and as a batch", async () => {
    const records = await traceRecords(path.resolve(__dirname, "../../resources/traces/sample.sf"))
    const events = records.map(bareEvent)
    const expected = events.map((e) => fresh(e))
    expect(encodeLines(events, "5")).toEqual(expected)
    expect(events.map((e) => encodeJsonEvent(e, "5"))).toEqual(expected)
    expect(encodeJsonBatch(events, "5")).toBe(expected.join("\n") + "\n")
  })

  it("stale ancestry: one process object shown with two ptrees (D10)", () => {
    const parentA = proc({ pid: 10n, exe: "/bin/a" })
    const parentB = proc({ pid: 10n, exe: "/bin/b", state: "MODIFIED" })
    const p = proc({ pid: 20n, ppid: 10n, exe: "/bin/child" })
    const h = header()
    const r1 = pe({ header: h, process: p, ptree: [p, parentA] }, { tid: 21n, opFlags: 1 })
    const r2 = pe({ header: h, process: p, ptree: [p, parentB] }, { tid: 22n, opFlags: 1 })
    const e1 = fresh(bareEvent(r1))
    const e2 = fresh(bareEvent(r2))
    expect(e1).not.toBe(e2)
    for (let i = 0; i < 3; i++) {
      expect(enc(r1)).toBe(e1)
      expect(enc(r2)).toBe(e2)
    }
    // The same ptree with a newer process object (MODIFIED after exec): the proc fields follow the record.
    const modified: Process = { ...p, state: "MODIFIED", exe: "/bin/exec'd" }
    const r3 = pe({ header: h, process: modified, ptree: [p, parentA] }, { tid: 23n })
    expect(enc(r3)).toBe(fresh(bareEvent(r3)))
    expect(enc(r3)).toContain('"exe":"/bin/exec\'d"')
    expect(enc(r1)).toBe(e1)
  })

  it("one file with varying open flags, fds and as FE target", () => {
    const e = { ...httpdEntities, file: file("/var/log/app.log"), newFile: undefined }
    const other = file("/var/log/app.log.1", { oid: "07".repeat(20) })
    const records = [
      ff(e, { openFlags: 1, fd: 3, opFlags: 1408 }),
      ff(e, { openFlags: 2 | 8, fd: 4, opFlags: 1664 }),
      ff(e, { openFlags: 3, fd: 5 }),
      ff(e, { openFlags: 1, fd: 3, numRRecvBytes: 2n ** 60n, numRRecvOps: -(2n ** 63n) }),
      fe(e, { opFlags: 1 << 18 }),
      fe({ ...e, newFile: other }, { opFlags: 1 << 20 }),
      fe(e, { opFlags: 1 << 18, ret: -2 }),
      fe({ ...e, file: other, newFile: e.file }, { opFlags: 1 << 20 }),
      ff({ ...e, file: undefined }, { openFlags: 1 }),
      fe({ ...e, file: undefined, newFile: other }, { opFlags: 1 << 20 }),
      nf(e, { sip: ipInt(10, 0, 0, 1), dip: ipInt(10, 0, 0, 2), sport: 1, dport: 2, proto: 6, opFlags: 1408 })
    ]
    for (let pass = 0; pass < 2; pass++) for (const r of records) expect(enc(r)).toBe(fresh(bareEvent(r)))
  })

  it("missing entities: no process, header, container, pod or file", () => {
    const records = [
      pe({}, { tid: 1n }),
      pe({ header: header() }, { tid: 2n }),
      ff({}, { openFlags: 1 }),
      fe({}),
      nf({}, { ts: 1700000000000000000n, endTs: 1700000000000000001n })
    ]
    for (let pass = 0; pass < 2; pass++) for (const r of records) expect(enc(r)).toBe(fresh(bareEvent(r)))
  })

  it("container and pod objects, with and without an id", () => {
    const p = pod({ services: [] })
    const withPod = { ...httpdEntities, container: container({ podId: p.id }), pod: p }
    const noId = { ...httpdEntities, container: container({ id: "" }), pod: pod({ id: "" }) }
    for (let pass = 0; pass < 2; pass++) {
      for (const r of [pe(withPod), pe(noId), pe(httpdEntities)]) expect(enc(r)).toBe(fresh(bareEvent(r)))
    }
    expect(enc(pe(noId))).not.toContain('"container"')
    expect(enc(pe(noId))).not.toContain('"pod"')
  })

  it("frozen entities are encoded too (the cache is kept aside for them)", () => {
    const deepFreeze = <T>(o: T): T => {
      if (o !== null && typeof o === "object" && !Object.isFrozen(o) && !ArrayBuffer.isView(o)) {
        for (const v of Object.values(o)) deepFreeze(v)
        Object.freeze(o)
      }
      return o
    }
    const e = { ...httpdEntities, file: file("/etc/passwd") }
    const records = [ff(e, { openFlags: 1 }), fe(e), pe(e), nf(e)]
    const expected = records.map((r) => fresh(bareEvent(r)))
    const frozen = records.map((r) => deepFreeze(structuredClone(r)))
    for (let pass = 0; pass < 2; pass++) expect(frozen.map((r) => enc(r))).toEqual(expected)
  })

  it("the cache is invisible: entities keep their keys, equality and spreads", () => {
    const e = { ...httpdEntities, file: file("/etc/hosts") }
    const r = ff(e, { openFlags: 1 })
    const before = structuredClone(r)
    const keys = (o: object) => Object.keys(o)
    enc(r)
    enc(r)
    expect(r).toEqual(before)
    expect(structuredClone(r)).toEqual(before)
    for (const o of [r.process!, r.header!, r.container!, r.file!]) {
      expect(keys(o)).toEqual(keys(structuredClone(o)))
      expect(Object.getOwnPropertySymbols({ ...o })).toEqual([])
    }
  })
})
