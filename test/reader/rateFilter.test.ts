import { it as effectIt } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import type { SysFlowDatum } from "../../src/domain/sysflow.js"
import { Flattener } from "../../src/services/reader/Flattener.js"
import { makeRateFilter } from "../../src/services/reader/RateFilter.js"
import { makeSysFlowReader } from "../../src/services/reader/SysFlowReader.js"
import { bash, ff, file, nf, OP, pe, proc } from "../policy/fixtures.js"

describe("flattener rate filter (filter.enabled: on)", () => {
  it("drops a record whose semantic twin was first seen less than maxage ago", () => {
    let now = 0
    const keep = makeRateFilter(10_000, () => now)
    expect(keep(ff({ file: file("/etc/hosts") }))).toBe(true)
    now = 5_000
    expect(keep(ff({ file: file("/etc/hosts") }))).toBe(false)
    expect(keep(ff({ file: file("/etc/passwd") }))).toBe(true)
    // Seeing it again did not extend the time: 10 s after the first sighting it passes again.
    now = 10_000
    expect(keep(ff({ file: file("/etc/hosts") }))).toBe(true)
  })

  it("ignores pid, ports other than dport, and timestamps; distinguishes exe, args, user, flags", () => {
    const keep = makeRateFilter(60_000, () => 0)
    expect(keep(nf({}, 443))).toBe(true)
    expect(keep(nf({ process: proc({ pid: 999n, parent: bash }) }, 443))).toBe(false)
    expect(keep(nf({}, 80))).toBe(true)
    expect(keep(pe({ process: proc({ exeArgs: "other.py", parent: bash }) }))).toBe(true)
    expect(keep(pe({ process: proc({ exeArgs: "other.py", uid: 0, parent: bash }) }))).toBe(true)
    expect(keep(pe({ process: proc({ exeArgs: "other.py", uid: 0, parent: bash }) }))).toBe(false)
  })

  it("is not applied to K8s events: the flattener sends them past any filter", () => {
    const flattener = new Flattener(() => false)
    const out: FlatRecord[] = []
    flattener.flatten(
      [
        { code: 0, rec: { version: 4n, exporter: "n", ip: "NA", filename: "" } },
        { code: 11, rec: { kind: "K8S_PODS", action: "K8S_COMPONENT_ADDED", ts: 1n, message: "{}\n\u0000" } }
      ],
      out
    )
    expect(out.map((r) => r.type)).toEqual(["KE"])
  })

  effectIt.effect("the reader stage's filter reads the runtime's Clock: a twin passes again once maxage of TestClock time has passed", () =>
    Effect.gen(function* () {
      const stage = yield* makeSysFlowReader({ handler: "flattener", "filter.enabled": "on", "filter.maxage": "10" })
      const oid = { hpid: 10n, createTS: 500n }
      const exec = (ts: bigint): SysFlowDatum => ({ code: 4, rec: { procOID: oid, ts, tid: 10n, opFlags: OP.EXEC, args: [], ret: 0 } })
      const types = (out: ReadonlyArray<FlatRecord>) => out.map((r) => r.type)
      const first = yield* stage.onChunk([
        { code: 0, rec: { version: 4n, exporter: "n", ip: "NA", filename: "" } },
        {
          code: 2,
          rec: { state: "CREATED", oid, poid: null, ts: 1n, exe: "/bin/bash", exeArgs: "", uid: 0, userName: "root", gid: 0, groupName: "root", tty: false, containerId: null, entry: false }
        },
        exec(1n),
        exec(2n)
      ])
      expect(types(first)).toEqual(["PE"])
      yield* TestClock.adjust("9999 millis")
      expect(types(yield* stage.onChunk([exec(3n)]))).toEqual([])
      yield* TestClock.adjust("1 millis")
      expect(types(yield* stage.onChunk([exec(4n)]))).toEqual(["PE"])
    })
  )
})
