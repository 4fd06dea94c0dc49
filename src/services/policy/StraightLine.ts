/**
 * One bucket of the operation index (a record type and a combination of operation flags) compiled into
 * one straight-line function: its filters, then its rules in rule order, each condition an inline
 * `&&`/`||`/`!` expression over leaf tests. Evaluating composed closures spent most of its time in
 * calls (the closures of `and`/`or` nodes and the shared-result memo); here a leaf is a call to one known
 * closure, a node shared within the bucket is a local computed at most once per record, and the leaves
 * the bucket's flags decide are folded to constants (a rule whose condition they make true is just a
 * push). Evaluation order within a condition is the closures' (left to right, short-circuit), and
 * conditions are pure, so the results are exactly theirs.
 */
import type { FlatRecord, RecordType } from "../../domain/flatRecord.js"
import { FALSE, type GraphTerm, type Node, TRUE, type Truth } from "./PredicateGraph.js"
import type { Pred } from "./Predicates.js"

/** A condition in a bucket: a term of a predicate graph (inlined), or an opaque closure (called). */
export type BucketCondition = GraphTerm | Pred

/** What a bucket function returns when a filter drops the record. */
export const DROPPED: unique symbol = Symbol("dropped")

/**
 * The bucket's evaluation: `DROPPED` when `withFilters` and a filter holds, else the results of the
 * rules that hold, in order (undefined when none).
 */
export type BucketFunction<T> = (record: FlatRecord, withFilters: boolean) => Array<T> | undefined | typeof DROPPED

/**
 * How deeply expressions nest in the generated source before a sub-expression becomes a function of its
 * own: V8's parser recurses per nesting level and overflows the stack near 1,000 (conditions may nest
 * up to MAX_CONDITION_DEPTH once macros are expanded).
 */
const MAX_INLINE_DEPTH = 32

/** A node once the bucket's flags are known: its children that these flags leave open. */
interface Shape {
  readonly node: Node
  readonly graph: Graph
  readonly children: ReadonlyArray<Shape>
  /** Uses within the bucket (more than one: a function of its own, computed once per record). */
  refs: number
  shared: string | undefined
}

type Graph = GraphTerm["graph"]

/**
 * The function of one bucket: `filters` and `rules` (each with the value to report when it holds) are
 * the conditions of records of type `type` whose operation flags are `opFlags` (bucketed: only the bits
 * the conditions look at).
 */
export const compileBucket = <T>(
  type: RecordType,
  opFlags: number,
  filters: ReadonlyArray<BucketCondition>,
  rules: ReadonlyArray<readonly [BucketCondition, T]>
): BucketFunction<T> => {
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
  const truths = new Map<Graph, Map<Node, Truth>>()
  const truth = (g: Graph, n: Node): Truth => {
    let seen = truths.get(g)
    if (seen === undefined) truths.set(g, (seen = new Map()))
    return g.truthOn(n, type, opFlags, seen)
  }
  const shapes = new Map<Node, Shape>()
  /** The shape of a node that these flags leave open. */
  const shape = (g: Graph, n: Node): Shape => {
    let s = shapes.get(n)
    if (s !== undefined) {
      s.refs++
      return s
    }
    let children: ReadonlyArray<Shape> = []
    if (n.kind === "not") children = [shape(g, n.child)]
    else if (n.kind === "and") children = n.children.filter((c) => truth(g, c) !== TRUE).map((c) => shape(g, c))
    else if (n.kind === "or") children = n.children.filter((c) => truth(g, c) !== FALSE).map((c) => shape(g, c))
    s = { node: n, graph: g, children, refs: 1, shared: undefined }
    shapes.set(n, s)
    return s
  }
  /** A condition: known true or false for these flags, a closure call, or a shape. */
  const root = (c: BucketCondition): boolean | string | Shape => {
    if (typeof c === "function") return `${constant(c)}(r)`
    if (typeof c.term === "boolean") return c.term
    const t = truth(c.graph, c.term)
    return t === TRUE ? true : t === FALSE ? false : shape(c.graph, c.term)
  }
  const filterRoots = filters.map(root)
  const ruleRoots = rules.map(([c]) => root(c))

  // Shared nodes, and nodes nested deeper than MAX_INLINE_DEPTH in an expression, get a function each.
  const functions: Array<string> = []
  const expr = (s: Shape, depth: number): string => {
    if (s.refs === 1 && depth < MAX_INLINE_DEPTH) return body(s, depth)
    if (s.shared === undefined) {
      const i = functions.length
      s.shared = `n${i}`
      functions.push("") // reserved: the body may declare other functions first
      functions[i] =
        s.refs === 1
          ? `const n${i} = (r) => ${body(s, 0)};`
          : `let s${i} = 0, v${i} = false;\nconst n${i} = (r) => {\n  if (s${i} === gen) return v${i};\n  v${i} = ${body(s, 0)};\n  s${i} = gen;\n  return v${i};\n};`
    }
    return `${s.shared}(r)`
  }
  const body = (s: Shape, depth: number): string => {
    const n = s.node
    switch (n.kind) {
      case "leaf":
        return `${constant(s.graph.leafTest(n))}(r)`
      case "not":
        return `!${expr(s.children[0], depth + 1)}`
      case "and":
      case "or":
        return s.children.length === 1
          ? expr(s.children[0], depth)
          : `(${s.children.map((c) => expr(c, depth + 1)).join(n.kind === "and" ? " && " : " || ")})`
    }
  }

  const test = (r: boolean | string | Shape): string => (typeof r === "boolean" ? `${r}` : typeof r === "string" ? r : expr(r, 0))
  const lines: Array<string> = []
  for (const r of filterRoots) if (r !== false) lines.push(`if (withFilters && ${test(r)}) return DROPPED;`)
  rules.forEach(([, value], i) => {
    const r = ruleRoots[i]
    if (r === false) return
    const push = `(o === undefined ? (o = []) : o).push(${constant(value)});`
    lines.push(r === true ? push : `if (${test(r)}) ${push}`)
  })
  const source = [
    `"use strict";`,
    `const [${constants.map((_, i) => `k${i}`).join(", ")}] = constants;`,
    // The record generation: a shared node's result is reused while it is the same.
    `let gen = 0;`,
    ...functions,
    `return function bucket(r, withFilters) {`,
    `  gen++;`,
    `  let o;`,
    ...lines.map((l) => `  ${l}`),
    `  return o;`,
    `};`
  ].join("\n")
  return new Function("constants", "DROPPED", source)(constants, DROPPED) as BucketFunction<T>
}
