/**
 * The operation index (OperationIndex.ts, PolicySet.ts) and its straight-line code (StraightLine.ts):
 * a record meets only the rules and filters its type and operation flags leave possible, and the result
 * is exactly what evaluating every enabled rule's generic condition gives, in the same order. Checked on
 * hand-made rules, on generated and sample traces, and (when present) on the shared traces with the
 * reference's sets and falcosecurity/rules (SF_FALCO_RULES names falco_rules.yaml; never committed).
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import type { FlatRecord, RecordType } from "../../src/domain/flatRecord.js"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { type CompiledPolicySet, evaluate, rulesFor } from "../../src/services/policy/PolicySet.js"
import { PolicyEngine } from "../../src/services/policy/PolicyEngine.js"
import { decodePolicyEngineConfig } from "../../src/services/policy/PolicyEngineConfig.js"
import { generateSyntheticTrace, writeSampleTrace } from "../../src/services/trace/SampleTraces.js"
import { hasShared, sharedPath } from "../support/shared.js"
import { traceRecords } from "../support/traceRecords.js"
import { compileFiles, compiled, fe, ff, ke, matchNames, nf, OP, pe } from "./fixtures.js"

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const rule = (name: string, condition: string, extra = "") => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n${extra}`
const falcoFile = (items: string) => `- required_engine_version: 0.57.0\n${items}`
const falcoRule = (name: string, condition: string) => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: INFO\n`
const names = (set: CompiledPolicySet, r: FlatRecord) => rulesFor(set, r).map((x) => x.name)

describe("which rules a record meets", () => {
  it("a rule on process events is not evaluated for a file event, nor an EXEC rule for a CLONE", () => {
    const set = compiled(rule("pe", "sf.type = PE and sf.proc.name = bash") + rule("exec", "sf.opflags = EXEC") + rule("any", "sf.proc.name = bash"))
    expect(names(set, ff())).toEqual(["any"])
    expect(names(set, pe())).toEqual(["pe", "exec", "any"])
    expect(names(set, pe({ opFlags: OP.CLONE }))).toEqual(["pe", "any"])
  })

  it("an `or` over types or operations puts the rule in every bucket it names", () => {
    const set = compiled(
      rule("pe or ff", "sf.type = PE or sf.type = FF") +
        rule("exec or clone", "sf.opflags = EXEC or sf.opflags = CLONE") +
        rule("in", "sf.opflags in (MKDIR, RMDIR)") +
        rule("mixed", "(sf.opflags = EXEC and sf.proc.name = sh) or sf.file.path startswith /etc")
    )
    expect(names(set, pe())).toEqual(["pe or ff", "exec or clone", "mixed"])
    expect(names(set, pe({ opFlags: OP.CLONE }))).toEqual(["pe or ff", "exec or clone"])
    expect(names(set, pe({ opFlags: OP.EXIT }))).toEqual(["pe or ff"])
    expect(names(set, ff())).toEqual(["pe or ff", "mixed"])
    expect(names(set, fe({ opFlags: OP.MKDIR }))).toEqual(["in", "mixed"])
    expect(names(set, fe({ opFlags: OP.UNLINK }))).toEqual(["mixed"])
    expect(names(set, nf())).toEqual([])
  })

  it("negations are exact on operation tests and fall back to every bucket on anything else", () => {
    const set = compiled(
      rule("not exec", "sf.type = PE and not sf.opflags = EXEC") +
        rule("not both", "not (sf.opflags = EXEC and sf.proc.name = bash)") +
        rule("not name", "not sf.proc.name = bash") +
        rule("unknown field", "sf.opflags = EXEC and foo.bar != sf.proc.name")
    )
    expect(names(set, pe())).toEqual(["not both", "not name", "unknown field"])
    expect(names(set, pe({ opFlags: OP.CLONE }))).toEqual(["not exec", "not both", "not name"])
    expect(names(set, ff())).toEqual(["not both", "not name"])
  })

  it("READ/WRITE on files are RECV/SEND on network flows (the same bits)", () => {
    const set = compiled(rule("read", "sf.opflags = READ") + rule("recv", "sf.opflags = RECV"))
    expect(names(set, ff({ opFlags: OP.OPEN | OP.READ_RECV }))).toEqual(["read"])
    expect(names(set, nf({ opFlags: OP.CONNECT | OP.READ_RECV }))).toEqual(["recv"])
    expect(names(set, ff({ opFlags: OP.OPEN }))).toEqual([])
  })

  it("Falco's evt.type tests and macros (spawned_process, open_write) index like sf.opflags", () => {
    const set = compiled(
      falcoFile(
        "- macro: spawned_process\n  condition: (evt.type in (execve, execveat) and evt.dir=<)\n" +
          "- macro: open_write\n  condition: (evt.type in (open,openat,openat2) and evt.is_open_write=true and fd.typechar='f' and fd.num>=0)\n" +
          falcoRule("shell", "spawned_process and proc.name = bash") +
          falcoRule("write etc", "open_write and fd.name startswith /etc") +
          falcoRule("not spawned", "not spawned_process and proc.name = bash") +
          falcoRule("rename", "evt.type = rename")
      ),
      "falco.yaml"
    )
    expect(names(set, pe())).toEqual(["shell"])
    expect(names(set, pe({ opFlags: OP.CLONE }))).toEqual(["not spawned"])
    expect(names(set, ff())).toEqual(["write etc", "not spawned"])
    expect(names(set, ff({ opFlags: OP.READ_RECV | OP.CLOSE }))).toEqual(["not spawned"])
    expect(names(set, fe())).toEqual(["not spawned", "rename"])
    expect(names(set, nf())).toEqual(["not spawned"])
  })

  it("a condition the flags make true is reported without evaluating anything else", () => {
    const set = compiled(rule("mkdir", "sf.opflags = MKDIR", "  prefilter: [FE]\n") + rule("exec", "sf.type = PE and sf.opflags = EXEC"))
    expect(matchNames(set, fe({ opFlags: OP.MKDIR }))).toEqual(["mkdir"])
    expect(matchNames(set, fe())).toEqual([])
    expect(matchNames(set, pe())).toEqual(["exec"])
  })

  it("filters are indexed the same way and still drop; disabled rules and filters meet nothing", () => {
    const set = compiled(
      rule("any", "sf.type exists") +
        rule("off", "sf.opflags = EXEC", "  enabled: false\n") +
        "- filter: no clones\n  condition: sf.opflags = CLONE\n" +
        "- drop: off\n  condition: sf.type = PE\n  enabled: false\n"
    )
    expect(evaluate(set, pe({ opFlags: OP.CLONE }))).toEqual({ dropped: true, matches: [] })
    expect(matchNames(set, pe())).toEqual(["any"])
    expect(names(set, pe())).toEqual(["any"])
    expect(evaluate(set, ff()).dropped).toBe(false)
  })

  it("records with flags no rule tests, and K8s events, meet the rules without operation tests", () => {
    const set = compiled(rule("exec", "sf.opflags = EXEC") + rule("any", "sf.type exists"))
    expect(names(set, pe({ opFlags: 0 }))).toEqual(["any"])
    expect(names(set, pe({ opFlags: OP.PTRACE }))).toEqual(["any"])
    expect(names(set, ke("{}"))).toEqual(["any"])
  })

  it("past 1024 flag combinations a record type's records meet all its conditions, with the same results", () => {
    const ops = ["CLONE", "EXEC", "EXIT", "SETUID", "SETNS", "ACCEPT", "CONNECT", "OPEN", "READ", "WRITE", "CLOSE"]
    const set = compiled(ops.map((op, i) => rule(op, i % 2 === 0 ? `sf.opflags = ${op}` : `not sf.opflags = ${op} and sf.proc.name = python`)).join(""))
    for (let flags = 0; flags < 1 << ops.length; flags++) {
      const r = pe({ opFlags: flags })
      expect(indexed(set, r), `opFlags ${flags}`).toEqual(everyRule(set, r))
    }
    expect(set.index.PE.buckets.size).toBe(1024)
    expect(names(set, pe({ opFlags: (1 << ops.length) - 1 }))).toEqual(ops)
  })

  it("conditions nested 900 levels deep (macros expanded) compile to code and evaluate", () => {
    const macros = Array.from({ length: 10 }, (_, i) => `- macro: m${i}\n  condition: ${"(sf.proc.pid = 1 or ".repeat(90)}${i === 9 ? "sf.proc.name = bash" : `m${i + 1}`}${")".repeat(90)}\n`)
    const set = compiled(macros.join("") + rule("deep", "sf.opflags = EXEC and m0"))
    expect(matchNames(set, pe())).toEqual([])
    expect(set.rules[0].condition(pe())).toBe(false)
  })
})

describe("policy reloads", () => {
  it("the engine's compile, which the policy monitor runs for every reload, gives an indexed set", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-opindex-reload-"))
    fs.writeFileSync(path.join(dir, "rules.yaml"), rule("exec", "sf.opflags = EXEC") + rule("clone", "sf.opflags = CLONE"))
    const { policies } = await Effect.runPromise(
      Effect.gen(function* () {
        const config = yield* decodePolicyEngineConfig({ policies: dir })
        return yield* (yield* PolicyEngine).compile(config, dir, false)
      }).pipe(Effect.provide(PolicyEngine.Live))
    )
    fs.rmSync(dir, { recursive: true, force: true })
    expect(names(policies, pe())).toEqual(["exec"])
    expect(names(policies, pe({ opFlags: OP.CLONE }))).toEqual(["clone"])
  })
})

// ---------------------------------------------------------------------------------------------------
// Same results as evaluating every rule

/** What §8.2 says, rule by rule through the generic conditions (no index of any kind). */
const everyRule = (set: CompiledPolicySet, r: FlatRecord): ReadonlyArray<string> | "dropped" => {
  if (set.filters.some((f) => f.enabled && f.condition(r))) return "dropped"
  return set.rules.filter((x) => x.enabled && (x.prefilter === undefined || x.prefilter.includes(r.type)) && x.condition(r)).map((x) => x.name)
}

const indexed = (set: CompiledPolicySet, r: FlatRecord): ReadonlyArray<string> | "dropped" => {
  const e = evaluate(set, r)
  return e.dropped ? "dropped" : e.matches.map((x) => x.name)
}

/** Each record, and copies with other operation flags of its type (so every bucket sees varied records). */
const OTHER_FLAGS: Readonly<Record<RecordType, ReadonlyArray<number>>> = {
  PE: [OP.EXEC, OP.CLONE, OP.EXIT, OP.SETUID, OP.SETNS, OP.PTRACE, OP.CLONE | OP.EXEC, 0],
  FF: [OP.OPEN, OP.OPEN | OP.READ_RECV | OP.CLOSE, OP.OPEN | OP.WRITE_SEND, OP.MMAP, OP.TRUNCATE | OP.WRITE_SEND, OP.CLOSE, OP.DIGEST],
  FE: [OP.MKDIR, OP.RMDIR, OP.LINK, OP.SYMLINK, OP.UNLINK, OP.RENAME],
  NF: [OP.CONNECT, OP.ACCEPT | OP.READ_RECV, OP.WRITE_SEND | OP.CLOSE, OP.SHUTDOWN, OP.CONNECT | OP.READ_RECV | OP.WRITE_SEND | OP.CLOSE],
  KE: []
}
const withFlags = (r: FlatRecord): ReadonlyArray<FlatRecord> =>
  r.type === "KE" ? [r] : [r, ...OTHER_FLAGS[r.type].map((opFlags) => ({ ...r, event: { ...r.event, opFlags } }) as FlatRecord)]

/** Every record (and its flag variants) gives what evaluating every rule gives; returns how many matched. */
const expectSameResults = (set: CompiledPolicySet, records: ReadonlyArray<FlatRecord>): number => {
  let matched = 0
  for (const original of records) {
    for (const r of withFlags(original)) {
      const want = everyRule(set, r)
      expect(indexed(set, r), `${r.type} opFlags ${r.type === "KE" ? "-" : r.event.opFlags}`).toEqual(want)
      if (want !== "dropped" && want.length > 0) matched++
    }
  }
  return matched
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sfp-opindex-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const conformance = sharedPath("conformance", "policies")
const falcoRules = process.env.SF_FALCO_RULES
const hasFalco = falcoRules !== undefined && fs.existsSync(falcoRules)
if (!hasFalco) console.warn("[skip] SF_FALCO_RULES does not name falcosecurity/rules' falco_rules.yaml: its equivalence checks are skipped")
const falcoSiblings = hasFalco
  ? ["falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"].map((n) => path.join(path.dirname(falcoRules), n)).filter((p) => fs.existsSync(p))
  : []

const ours = [path.join(projectRoot, "policies")]
const conformanceSets = [path.join(conformance, "runtimeintegrity"), path.join(conformance, "distribution"), path.join(conformance, "tests", "falco.yaml")]

describe("the indexed engine gives what evaluating every rule gives, in the same order", () => {
  const sample = path.join(tmp, "sample.sf")
  const synthetic = path.join(tmp, "synthetic.sf")
  writeSampleTrace(fileSink(sample))
  generateSyntheticTrace(fileSink(synthetic), { records: 3000, seed: 5, processes: 80, files: 400 })

  it("our policies on the sample and a generated trace", async () => {
    const set = await compileFiles(ours)
    const records = [...(await traceRecords(sample)), ...(await traceRecords(synthetic))]
    expect(expectSameResults(set, records)).toBeGreaterThan(0)
  })

  it.skipIf(!hasShared)("the conformance sets, with ours, on the sample and the shared traces", async () => {
    const set = await compileFiles([...ours, ...conformanceSets])
    let matched = 0
    for (const t of [sample, ...fs.readdirSync(sharedPath("traces")).sort().map((n) => sharedPath("traces", n))]) {
      matched += expectSameResults(set, await traceRecords(t))
    }
    expect(matched).toBeGreaterThan(0)
  }, 120_000)

  it.skipIf(!hasFalco)("falcosecurity/rules (with incubating and sandbox when beside it), with ours, on the sample and the shared traces", async () => {
    const set = await compileFiles([falcoRules!, ...falcoSiblings, ...ours, ...(hasShared ? conformanceSets : [])])
    const traces = [sample, synthetic, ...(hasShared ? fs.readdirSync(sharedPath("traces")).sort().map((n) => sharedPath("traces", n)) : [])]
    let matched = 0
    for (const t of traces) matched += expectSameResults(set, await traceRecords(t))
    expect(matched).toBeGreaterThan(0)
  }, 180_000)
})
