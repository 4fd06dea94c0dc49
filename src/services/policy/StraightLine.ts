/**
 * The filters and rules of one record type compiled into straight-line code: each condition an inline
 * `&&`/`||`/`!` expression over leaf tests, in filter order then rule order. Evaluating composed closures
 * spent most of its time in calls (the closures of `and`/`or` nodes and the shared-result memo); here a
 * leaf is a call to one known closure, a node used more than once is a function of its own computed
 * at most once per record, and equalities against constants on one attribute (`proc.name = x`,
 * `proc.name in (…)` in many rules) are decided together by one lookup of the record's value. A
 * sub-condition that reads the record's process entities only (EntityScope.ts: process, ancestry,
 * container, pod) is evaluated once per process and kept with it (`ProcessValues`), until a record of that
 * process comes with other entity objects (an exec's new Process record, a container re-sent). File
 * tests are not kept per File object: a File serves about three records, and the per-file values (a
 * WeakMap entry and an array per File) cost more than they saved (20-25% of the evaluation time on the
 * shared traces). The operation index (PolicySet.ts) passes, per record, which conditions its
 * bucket holds (`active`): the others are skipped with one array read. Evaluation short-circuits as the
 * closures do, first in the file's order (left to right); once a type has seen PROFILE_RECORDS records,
 * each `and`/`or` runs its children in the order learnt from them (BranchProfile.ts). Conditions are
 * pure, so the results are exactly the closures' in any order.
 *
 * The code is compiled on the first record of a type, with counters, and again with the learnt order: one
 * function per type (not per bucket) keeps the code to compile and warm up small.
 */
import type { FlatRecord } from "../../domain/flatRecord.js"
import type { Container, Pod, Process } from "../../domain/sysflow.js"
import { BranchProfile, type ChildOrder, PROFILE_RECORDS } from "./BranchProfile.js"
import { type EntityScope, joinScopes } from "./EntityScope.js"
import type { GraphTerm, Node } from "./PredicateGraph.js"
import type { Pred, RecordMemo } from "./Predicates.js"

/** A condition: a term of a predicate graph (inlined), or an opaque closure (called; Sigma sets). */
export type IndexedCondition = GraphTerm | Pred

/** What a type's function returns when a filter drops the record. */
export const DROPPED: unique symbol = Symbol("dropped")

/**
 * A type's evaluation: `DROPPED` when `withFilters` and an active filter holds, else the results of the
 * active rules that hold, in order (undefined when none). `active[i]` is 1 for the filters (first) and
 * rules (after them) to evaluate.
 */
export type TypeFunction<T> = (record: FlatRecord, withFilters: boolean, active: Uint8Array) => Array<T> | undefined | typeof DROPPED

/**
 * How deeply expressions nest in the generated source before a sub-expression becomes a function of its
 * own: V8's parser recurses per nesting level and overflows the stack near 1,000 (conditions may nest
 * up to MAX_CONDITION_DEPTH once macros are expanded).
 */
const MAX_INLINE_DEPTH = 32

/** Conditions per generated function: V8 does not optimise functions of more than 60 KB of bytecode. */
const CONDITIONS_PER_FUNCTION = 16

/** A test of the operation flags (a mask on a number) against other leaves (attribute strings), for the learnt order. */
const FLAG_TEST_COST = 0.25

/** Equalities on one attribute that are looked up by value instead of tested one by one. */
const MIN_LOOKUP_LEAVES = 3

/**
 * Marks (with the record's generation `gen`) the equalities that hold: those naming a comma-separated
 * segment of the record's value of `slot` (`table`: value → equality ids).
 */
const markEqualities =
  (memo: RecordMemo, slot: number, table: ReadonlyMap<string, Int32Array>) =>
  (r: FlatRecord, gen: number, marks: Float64Array): void => {
    const u = memo.str(slot, r)
    if (u.indexOf(",") < 0) markAll(table.get(u), gen, marks)
    else {
      const segments = memo.segments(slot, r)
      for (let i = 0; i < segments.length; i++) markAll(table.get(segments[i]), gen, marks)
    }
  }

const markAll = (ids: Int32Array | undefined, gen: number, marks: Float64Array): void => {
  if (ids !== undefined) for (let i = 0; i < ids.length; i++) marks[ids[i]] = gen
}

/**
 * The results of a process's cached sub-conditions: per sub-condition 0 (not computed yet), 1 (false) or
 * 2 (true), valid for the entity objects they were computed with.
 */
interface ProcessValues {
  readonly ptree: FlatRecord["ptree"]
  readonly container: Container | undefined
  readonly pod: Pod | undefined
  readonly v: Uint8Array
}

/**
 * The values of a record's process (made on its first record, and again when the record comes with
 * another ancestry, container or pod), or undefined when the record has no process.
 */
const processValues = (size: number) => {
  const byProcess = new WeakMap<Process, ProcessValues>()
  // Four records in five have the process of the record before (×31 replay): the last entry saves most lookups.
  let lastProcess: Process | undefined
  let lastValues: ProcessValues | undefined
  return (r: FlatRecord): ProcessValues | undefined => {
    const p = r.process
    if (p === undefined) return undefined
    let e = p === lastProcess ? lastValues : byProcess.get(p)
    if (e === undefined || e.ptree !== r.ptree || e.container !== r.container || e.pod !== r.pod) {
      e = { ptree: r.ptree, container: r.container, pod: r.pod, v: new Uint8Array(size) }
      byProcess.set(p, e)
    }
    lastProcess = p
    lastValues = e
    return e
  }
}

interface Shape {
  readonly node: Node
  readonly graph: GraphTerm["graph"]
  /** Uses within the type (more than one: a function of its own, computed once per record). */
  refs: number
  fn: string | undefined
}

/**
 * A type's code that learns its order: compiled with counters first (BranchProfile.ts), then, after
 * PROFILE_RECORDS records, compiled again with each junction's children in the learnt order and handed to
 * `replace`. Code without a junction has nothing to learn and is compiled once.
 */
export const compileLearningType = <T>(
  filters: ReadonlyArray<IndexedCondition>,
  rules: ReadonlyArray<readonly [IndexedCondition, T]>,
  replace: (code: TypeFunction<T>) => void
): TypeFunction<T> => compileType(filters, rules, undefined, new BranchProfile(PROFILE_RECORDS, (order) => replace(compileType(filters, rules, order))))

/**
 * The code of one record type's `filters` and `rules` (each rule with the value to report when it holds).
 * `order`: children's order per junction (the file's order for the others); `profile`: counts each
 * junction child's evaluations and results, and each record.
 */
export const compileType = <T>(
  filters: ReadonlyArray<IndexedCondition>,
  rules: ReadonlyArray<readonly [IndexedCondition, T]>,
  order?: ChildOrder,
  profile?: BranchProfile
): TypeFunction<T> => {
  const constants: Array<unknown> = []
  const constantNames = new Map<unknown, string>()
  const constant = (value: unknown): string => {
    let name = constantNames.get(value)
    if (name === undefined) {
      name = `k${constants.length}`
      constants.push(value)
      constantNames.set(value, name)
    }
    return name
  }

  const shapes = new Map<Node, Shape>()
  const count = (g: GraphTerm["graph"], n: Node): void => {
    const s = shapes.get(n)
    if (s !== undefined) {
      s.refs++
      return
    }
    shapes.set(n, { node: n, graph: g, refs: 1, fn: undefined })
    if (n.kind === "not") count(g, n.child)
    else if (n.kind === "and" || n.kind === "or") for (const c of n.children) count(g, c)
  }
  const conditions = [...filters, ...rules.map(([c]) => c)]
  for (const c of conditions) if (typeof c !== "function" && typeof c.term !== "boolean") count(c.graph, c.term)

  // Equalities against constants on one attribute, when there are several: one lookup of the record's
  // value per record (on first use) marks every one that holds.
  const bySlot = new Map<RecordMemo, Map<number, Array<Node>>>()
  for (const { node, graph } of shapes.values()) {
    if (node.kind !== "leaf" || node.equals === undefined) continue
    let slots = bySlot.get(graph.memo)
    if (slots === undefined) bySlot.set(graph.memo, (slots = new Map()))
    const leaves = slots.get(node.equals.slot)
    if (leaves === undefined) slots.set(node.equals.slot, [node])
    else leaves.push(node)
  }
  const lookups: Array<string> = []
  const lookedUp = new Map<Node, string>()
  let marks = 0
  for (const [memo, slots] of bySlot) {
    for (const [slot, leaves] of slots) {
      if (leaves.length < MIN_LOOKUP_LEAVES) continue
      const table = new Map<string, Array<number>>()
      for (const leaf of leaves) {
        const id = marks++
        lookedUp.set(leaf, `q${lookups.length}(r, ${id})`)
        for (const v of (leaf as Extract<Node, { kind: "leaf" }>).equals!.values) {
          const ids = table.get(v)
          if (ids === undefined) table.set(v, [id])
          else ids.push(id)
        }
      }
      const mark = constant(markEqualities(memo, slot, new Map(Array.from(table, ([v, ids]) => [v, Int32Array.from(ids)]))))
      const i = lookups.length
      lookups.push(`let e${i} = 0;\nconst q${i} = (r, id) => {\n  if (e${i} !== gen) {\n    e${i} = gen;\n    ${mark}(r, gen, marks);\n  }\n  return marks[id] === gen;\n};`)
    }
  }

  // Shared nodes, and nodes nested deeper than MAX_INLINE_DEPTH in an expression, get a function each.
  const functions: Array<string> = []

  // Nodes over the process entities only (all their leaves read them), outermost first: cached per process.
  const scopes = new Map<Node, EntityScope>()
  const scopeOf = (n: Node): EntityScope => {
    let sc = scopes.get(n)
    if (sc === undefined) {
      sc = n.kind === "leaf" ? n.scope : n.kind === "not" ? scopeOf(n.child) : n.children.reduce<EntityScope>((a, c) => joinScopes(a, scopeOf(c)), "constant")
      scopes.set(n, sc)
    }
    return sc
  }
  const cachedFns = new Map<Node, string>()
  let cachedCount = 0
  const cached = (n: Node): string => {
    let name = cachedFns.get(n)
    if (name === undefined) {
      const i = cachedCount++
      name = `cp${i}`
      cachedFns.set(n, name)
      const at = functions.length
      functions.push("") // reserved: the body may declare other functions first
      const inner = expr(n, 0, true)
      functions[at] =
        `const ${name} = (r) => {\n  const e = processEntity(r);\n  const v = e === undefined ? 0 : e.v[${i}];\n` +
        `  if (v !== 0) return v === 2;\n  const x = ${inner};\n  if (e !== undefined) e.v[${i}] = x ? 2 : 1;\n  return x;\n};`
    }
    return `${name}(r)`
  }

  // Under a cached node every node has its scope, so nothing there is cached again. An equality looked
  // up by value costs no more than the cache would.
  const cachedPerProcess = (n: Node, inEntity: boolean): boolean => !inEntity && !lookedUp.has(n) && scopeOf(n) === "process"

  // What a node costs to evaluate, for the learnt order: its leaves (a test of the operation flags a
  // quarter), a part cached per process counting one.
  const costs = [new Map<Node, number>(), new Map<Node, number>()]
  const costOf = (n: Node, inEntity: boolean): number => {
    const known = costs[inEntity ? 1 : 0].get(n)
    if (known !== undefined) return known
    const cost =
      n.kind === "leaf" && n.flags !== undefined
        ? FLAG_TEST_COST
        : cachedPerProcess(n, inEntity) || n.kind === "leaf"
          ? 1
          : n.kind === "not"
            ? costOf(n.child, inEntity)
            : n.children.reduce((sum, c) => sum + costOf(c, inEntity), 0)
    costs[inEntity ? 1 : 0].set(n, cost)
    return cost
  }

  const expr = (n: Node, depth: number, inEntity = false): string => {
    if (cachedPerProcess(n, inEntity)) return cached(n)
    const s = shapes.get(n)!
    if (s.refs === 1 && depth < MAX_INLINE_DEPTH) return body(s, depth, inEntity)
    if (s.fn === undefined) {
      const i = functions.length
      s.fn = `n${i}`
      functions.push("") // reserved: the body may declare other functions first
      functions[i] =
        s.refs === 1
          ? `const n${i} = (r) => ${body(s, 0, inEntity)};`
          : `let s${i} = 0, v${i} = false;\nconst n${i} = (r) => {\n  if (s${i} === gen) return v${i};\n  v${i} = ${body(s, 0, inEntity)};\n  s${i} = gen;\n  return v${i};\n};`
    }
    return `${s.fn}(r)`
  }
  // Under a process-cached node every node is process-scoped too, so a node's body is the same wherever it is built.
  const body = (s: Shape, depth: number, inEntity: boolean): string => {
    const n = s.node
    switch (n.kind) {
      case "leaf":
        return lookedUp.get(n) ?? `${constant(s.graph.leafTest(n))}(r)`
      case "not":
        return `!${expr(n.child, depth + 1, inEntity)}`
      case "and":
      case "or": {
        const children = (order?.get(n) ?? n.children.map((_, i) => i)).map((i) => {
          const code = expr(n.children[i], depth + 1, inEntity)
          return profile === undefined ? code : `count(${profile.branch(n, i, costOf(n.children[i], inEntity))}, ${code})`
        })
        return `(${children.join(n.kind === "and" ? " && " : " || ")})`
      }
    }
  }
  const test = (c: IndexedCondition): string =>
    typeof c === "function" ? `${constant(c)}(r)` : typeof c.term === "boolean" ? `${c.term}` : expr(c.term, 0)

  // Filters, then rules, in groups of CONDITIONS_PER_FUNCTION.
  const groups: Array<string> = []
  const main: Array<string> = []
  for (let i = 0; i < filters.length; i += CONDITIONS_PER_FUNCTION) {
    const tests = filters.slice(i, i + CONDITIONS_PER_FUNCTION).map((c, j) => `(a[${i + j}] === 1 && ${test(c)})`)
    groups.push(`const g${groups.length} = (r, a) => ${tests.join(" ||\n  ")};`)
    main.push(`  if (withFilters && g${groups.length - 1}(r, a)) return DROPPED;`)
  }
  for (let i = 0; i < rules.length; i += CONDITIONS_PER_FUNCTION) {
    const lines = rules.slice(i, i + CONDITIONS_PER_FUNCTION).map(([c, value], j) => {
      const push = `(o === undefined ? (o = []) : o).push(${constant(value)});`
      return `  if (a[${filters.length + i + j}] === 1 && ${test(c)}) ${push}`
    })
    groups.push(`const g${groups.length} = (r, a, o) => {\n${lines.join("\n")}\n  return o;\n};`)
    main.push(`  o = g${groups.length - 1}(r, a, o);`)
  }
  const source = [
    `"use strict";`,
    `const [${constants.map((_, i) => `k${i}`).join(", ")}] = constants;`,
    // The record generation: a shared node's result is reused while it is the same.
    `let gen = 0;`,
    // Per looked-up equality: the generation of the last record it held for.
    `const marks = new Float64Array(${marks});`,
    // The current record's process values (looked up on first use).
    `let processGen = 0, processNow;`,
    `const processEntity = (r) => {\n  if (processGen !== gen) {\n    processGen = gen;\n    processNow = processOf(r);\n  }\n  return processNow;\n};`,
    ...lookups,
    ...functions,
    ...groups,
    `return (r, withFilters, a) => {`,
    ...(profile !== undefined && profile.size > 0 ? [`  tick();`] : []),
    `  gen++;`,
    `  let o;`,
    ...main,
    `  return o;`,
    `};`
  ].join("\n")
  return new Function("constants", "DROPPED", "processOf", "count", "tick", source)(
    constants,
    DROPPED,
    processValues(cachedCount),
    profile?.count,
    profile?.tick
  ) as TypeFunction<T>
}
