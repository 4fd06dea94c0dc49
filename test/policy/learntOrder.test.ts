/**
 * The learnt evaluation order (BranchProfile.ts, StraightLine.ts): a type's code counts how often each
 * `and`/`or` child is reached and ends the junction, then is compiled again with the cheap, decisive
 * children first. The order may change the time a condition takes, never its result: checked with every
 * junction reversed and with the learnt code, on a generated trace, with our shipped rule sets.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import type { FlatRecord, RecordType } from "../../src/domain/flatRecord.js"
import { fileSink } from "../../src/services/avro/OcfWriter.js"
import { BranchProfile, type ChildOrder, PROFILE_RECORDS } from "../../src/services/policy/BranchProfile.js"
import type { CompiledPolicySet } from "../../src/services/policy/PolicySet.js"
import { PredicateGraph, type Node } from "../../src/services/policy/PredicateGraph.js"
import { RecordMemo } from "../../src/services/policy/Predicates.js"
import { compileLearningType, compileType, DROPPED, type TypeFunction } from "../../src/services/policy/StraightLine.js"
import { generateSyntheticTrace } from "../../src/services/trace/SampleTraces.js"
import { tempDir } from "../support/cli.js"
import { traceRecords } from "../support/traceRecords.js"
import { compileFiles } from "./fixtures.js"

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** A junction of three leaves, for counting by hand. */
const junction = (kind: "and" | "or"): Node => {
  const g = new PredicateGraph(new RecordMemo())
  const leaves = ["a", "b", "c"].map((k) => g.leaf(k, () => () => true) as Node)
  return (kind === "or" ? g.or(leaves) : g.and(leaves)) as Node
}

/** A profile of `node`'s three children: per child, [evaluated, held] (costs 1). */
const learn = (node: Node, counts: ReadonlyArray<readonly [number, number]>): ChildOrder => {
  let learnt: ChildOrder | undefined
  const profile = new BranchProfile(1, (order) => (learnt = order))
  counts.forEach(([evaluated, held], child) => {
    const id = profile.branch(node, child, 1)
    for (let i = 0; i < evaluated; i++) profile.count(id, i < held)
  })
  profile.tick()
  return learnt!
}

describe("the order learnt from counts", () => {
  it("an `or` runs first the child that holds most often", () => {
    const or = junction("or")
    expect(learn(or, [[1000, 10], [990, 0], [990, 900]]).get(or)).toEqual([2, 0, 1])
  })

  it("an `and` runs first the child that most often does not hold", () => {
    const and = junction("and")
    expect(learn(and, [[1000, 990], [990, 500], [500, 10]]).get(and)).toEqual([2, 1, 0])
  })

  it("children reached on less than half of the records keep their place after the measured ones", () => {
    // The third child was only measured where the first two held: it says little about the other records.
    const and = junction("and")
    expect(learn(and, [[1000, 900], [900, 100], [100, 0]]).get(and)).toEqual([1, 0, 2])
    expect(learn(and, [[1000, 50], [50, 50], [50, 0]]).has(and)).toBe(false)
  })

  it("a junction already in its best order is left out", () => {
    const or = junction("or")
    expect(learn(or, [[1000, 900], [100, 50], [50, 0]]).size).toBe(0)
  })
})

const rule = (name: string, condition: string) => `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  priority: low\n`

/** Rules whose best order is not the file's: the last child of each junction decides most records. */
const misordered =
  rule("rarely one of these", "sf.file.path = /nonexistent/a or sf.file.path startswith /nope or sf.file.path startswith /") +
  rule("no record is all of these", "sf.proc.name != nosuchprogram and sf.file.path startswith / and sf.file.path startswith /nope")

const compileSets = async (): Promise<ReadonlyArray<readonly [string, CompiledPolicySet]>> => {
  const dir = tempDir("sfp-learnt-rules-")
  fs.writeFileSync(path.join(dir, "misordered.yaml"), misordered)
  const ours = path.join(projectRoot, "policies/runtimeintegrity")
  return [
    ["misordered", await compileFiles([dir])],
    ["policies/runtimeintegrity", await compileFiles([ours])],
    ["policies/filter + runtimeintegrity", await compileFiles([path.join(projectRoot, "policies/filter"), ours])]
  ]
}

const generatedRecords = async (): Promise<ReadonlyArray<FlatRecord>> => {
  const file = path.join(tempDir("sfp-learnt-trace-"), "synthetic.sf")
  generateSyntheticTrace(fileSink(file), { records: 20_000, seed: 11 })
  return traceRecords(file)
}

/** The filters and rules of one type of `set`, as the set compiles them. */
const partsOf = (set: CompiledPolicySet, type: RecordType) => {
  const ix = set.index[type]
  const rules = ix.conditions.map((c, i) => [c, ix.rules[i].name] as const)
  return { filters: ix.filters, rules, active: new Uint8Array(ix.filters.length + rules.length).fill(1) }
}

/** Every junction under the type's conditions, each with its children reversed. */
const reversedOrder = (set: CompiledPolicySet, type: RecordType): ChildOrder => {
  const order = new Map<Node, ReadonlyArray<number>>()
  const visit = (n: Node): void => {
    if (n.kind === "not") visit(n.child)
    if (n.kind !== "and" && n.kind !== "or") return
    if (!order.has(n)) order.set(n, n.children.map((_, i) => n.children.length - 1 - i))
    n.children.forEach(visit)
  }
  const ix = set.index[type]
  for (const c of [...ix.filters, ...ix.conditions]) if (typeof c !== "function" && typeof c.term !== "boolean") visit(c.term)
  return order
}

const resultOf = (code: TypeFunction<string>, r: FlatRecord, active: Uint8Array) => {
  const out = code(r, true, active)
  return out === DROPPED ? "dropped" : (out ?? [])
}

describe("an order changes no result", async () => {
  const sets = await compileSets()
  const records = await generatedRecords()
  const types = [...new Set(records.map((r) => r.type))]

  it("the generated trace has enough records of its main types to learn from", () => {
    expect(records.filter((r) => r.type === "FF").length).toBeGreaterThan(PROFILE_RECORDS)
    expect(records.filter((r) => r.type === "NF").length).toBeGreaterThan(PROFILE_RECORDS)
  })

  for (const [name, set] of sets) {
    it(`${name}: every junction reversed gives the file order's results on every record`, () => {
      for (const type of types) {
        const { filters, rules, active } = partsOf(set, type)
        const inFileOrder = compileType(filters, rules)
        const reversed = compileType(filters, rules, reversedOrder(set, type))
        for (const r of records.filter((x) => x.type === type)) expect(resultOf(reversed, r, active)).toEqual(resultOf(inFileOrder, r, active))
      }
    })

    it(`${name}: the learnt code replaces the counting code once, and gives the file order's results`, () => {
      for (const type of types) {
        const { filters, rules, active } = partsOf(set, type)
        const inFileOrder = compileType(filters, rules)
        let replaced = 0
        let code: TypeFunction<string> = compileLearningType(filters, rules, (learnt) => {
          replaced++
          code = learnt
        })
        const ofType = records.filter((x) => x.type === type)
        for (const r of ofType) expect(resultOf(code, r, active)).toEqual(resultOf(inFileOrder, r, active))
        const junctions = reversedOrder(set, type).size
        expect(replaced, `${type}: ${ofType.length} records, ${junctions} junctions`).toBe(ofType.length >= PROFILE_RECORDS && junctions > 0 ? 1 : 0)
      }
    })
  }

  it("the misordered rules are learnt in the order that ends them soonest", () => {
    const set = sets[0][1]
    const { filters, rules, active } = partsOf(set, "FF")
    let learnt: ChildOrder | undefined
    const code = compileType(filters, rules, undefined, new BranchProfile(PROFILE_RECORDS, (order) => (learnt = order)))
    for (const r of records.filter((x) => x.type === "FF")) code(r, true, active)
    const orders = [...learnt!].map(([node, order]) => [node.kind, order])
    // The `or`: `startswith /` holds for most paths; the `and`: `startswith /nope` fails for all, and
    // `startswith /` for some (pipes), while every process passes the first test.
    expect(orders).toContainEqual(["or", [2, 0, 1]])
    expect(orders).toContainEqual(["and", [2, 1, 0]])
  })
})
