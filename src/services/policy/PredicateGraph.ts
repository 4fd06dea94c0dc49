/**
 * Compiled conditions as a shared graph (common subexpressions), turned into closures at the end.
 *
 * Every leaf (`sf.opflags = EXEC`, `sf.proc.name in (…)`) and every `and`/`or`/`not` node is interned by
 * its structure, so the same test written in many rules, or a macro expanded into many rules, is one
 * node. After all conditions are built, nodes referenced from more than one place (two parents, or a
 * parent and a rule) get a per-record result memo: `open_write` used by 20 rules is evaluated at most once
 * per record; the other 19 uses are a stamp check. Evaluation stays pure and order-free: a memoised
 * node returns exactly what evaluating it again would.
 *
 * Terms are `true`/`false` (folded at compile time) or nodes.
 */
import type { FlatRecord, RecordType } from "../../domain/flatRecord.js"
import type { EntityScope } from "./EntityScope.js"
import type { FlagMasks } from "./OperationIndex.js"
import { alwaysFalse, alwaysTrue, andAll, orAny, type Pred, type RecordMemo } from "./Predicates.js"

interface NodeBase {
  readonly id: number
  /**
   * References from distinct reachable parents and from roots, in the root group where the node is
   * most shared (set by `finish`).
   */
  refs: number
  /** The closure, once generated. */
  fn: Pred | undefined
}

export interface Leaf extends NodeBase {
  readonly kind: "leaf"
  readonly build: () => Pred
  /** Set when the record's operation flags decide the leaf: per type, true iff `opFlags & mask` (OperationIndex). */
  readonly flags: FlagMasks | undefined
  /** Set when the leaf is an equality against constants (StraightLine looks such leaves up by value). */
  readonly equals: EqualityTest | undefined
  /** What the leaf reads (EntityScope.ts): StraightLine evaluates it once per process or file when it can. */
  readonly scope: EntityScope
  /** The leaf's own test (without the shared-result memo), once built. */
  test: Pred | undefined
}

/** A leaf true exactly when some comma-separated segment of memo slot `slot` is one of `values` (`=`, `in`). */
export interface EqualityTest {
  readonly slot: number
  readonly values: ReadonlyArray<string>
}

interface Junction extends NodeBase {
  readonly kind: "and" | "or"
  readonly children: ReadonlyArray<Node>
}

interface Negation extends NodeBase {
  readonly kind: "not"
  readonly child: Node
}

export type Node = Leaf | Junction | Negation

export type Term = boolean | Node

/** A term with the graph it belongs to: a rule's condition as the operation index and StraightLine read it. */
export interface GraphTerm {
  readonly graph: PredicateGraph
  readonly term: Term
}

/** Three-valued truth (Kleene): known false, known true, or depends on more than the operation flags. */
export type Truth = 0 | 1 | 2
export const FALSE: Truth = 0
export const TRUE: Truth = 1
export const UNKNOWN: Truth = 2

/** Marks a flag-bits summary that has a flag-decided leaf (above every operation flag bit). */
const DECIDED = 1 << 30
const NO_FLAG_LEAF = 0

export class PredicateGraph {
  private readonly nodes = new Map<string, Node>()
  private readonly roots = new Map<string, Array<Node>>()
  private finished = false
  private stamps = new Float64Array(0)
  private values = new Uint8Array(0)
  /** Nodes that got a per-record memo. */
  memoized = 0
  /** `flagBits` per record type and node. */
  private readonly bitsByType = new Map<RecordType, Map<Node, number>>()

  /** `memo`: the per-record attribute memo the leaves read. */
  constructor(readonly memo: RecordMemo) {}

  get size(): number {
    return this.nodes.size
  }

  /**
   * A leaf test, identified by `key` (operator and operands); `build` runs once per distinct key.
   * `flags`: the leaf is decided by the record's operation flags; `equals`: it is an equality against
   * constants; `scope`: what it reads (all the same for every leaf of this key).
   */
  leaf(key: string, build: () => Pred, flags?: FlagMasks, equals?: EqualityTest, scope: EntityScope = "record"): Node {
    const k = `L${key}`
    let n = this.nodes.get(k)
    if (n === undefined) {
      n = { kind: "leaf", id: this.nodes.size, refs: 0, fn: undefined, build, flags, equals, scope, test: undefined }
      this.nodes.set(k, n)
    }
    return n
  }

  /** The operation flag bits the flag-decided leaves of a term on records of type `type` look at. */
  opFlagBits(t: Term, type: RecordType): number {
    return typeof t === "boolean" ? 0 : this.flagBits(t, type) & ~DECIDED
  }

  /**
   * The flag bits the flag-decided leaves under `n` look at, with `DECIDED` set when there is one
   * (`NO_FLAG_LEAF` otherwise). Cached per type: macros make the same nodes appear in many rules.
   */
  private flagBits(n: Node, type: RecordType): number {
    let cache = this.bitsByType.get(type)
    if (cache === undefined) this.bitsByType.set(type, (cache = new Map()))
    let b = cache.get(n)
    if (b !== undefined) return b
    switch (n.kind) {
      case "leaf": {
        const m = n.flags?.[type]
        b = m === undefined ? NO_FLAG_LEAF : m | DECIDED
        break
      }
      case "not":
        b = this.flagBits(n.child, type)
        break
      default:
        b = NO_FLAG_LEAF
        for (const c of n.children) b |= this.flagBits(c, type)
    }
    cache.set(n, b)
    return b
  }

  /**
   * Kleene's three-valued truth of `n` on a record of type `type` with operation flags `opFlags`, where
   * only flag-decided leaves are known: FALSE means no record with these flags satisfies it, TRUE that
   * every one does. `seen` caches answers for these flags.
   */
  truthOn(n: Node, type: RecordType, opFlags: number, seen: Map<Node, Truth>): Truth {
    if (this.flagBits(n, type) === NO_FLAG_LEAF) return UNKNOWN
    let v = seen.get(n)
    if (v !== undefined) return v
    switch (n.kind) {
      case "leaf":
        v = (opFlags & n.flags![type]!) !== 0 ? TRUE : FALSE
        break
      case "not": {
        const c = this.truthOn(n.child, type, opFlags, seen)
        v = c === UNKNOWN ? UNKNOWN : c === TRUE ? FALSE : TRUE
        break
      }
      case "and":
      case "or": {
        // A child with the junction's absorbing value (false for `and`, true for `or`) decides it; else
        // it is the identity value unless some child is unknown.
        const absorbing = n.kind === "and" ? FALSE : TRUE
        v = n.kind === "and" ? TRUE : FALSE
        for (const c of n.children) {
          const x = this.truthOn(c, type, opFlags, seen)
          if (x === absorbing) {
            v = absorbing
            break
          }
          if (x === UNKNOWN) v = UNKNOWN
        }
        break
      }
    }
    seen.set(n, v)
    return v
  }

  and(children: ReadonlyArray<Term>): Term {
    if (children.includes(false)) return false
    const nodes = children.filter((c): c is Node => c !== true)
    return nodes.length === 0 ? true : nodes.length === 1 ? nodes[0] : this.junction("and", nodes)
  }

  or(children: ReadonlyArray<Term>): Term {
    if (children.includes(true)) return true
    const nodes = children.filter((c): c is Node => c !== false)
    return nodes.length === 0 ? false : nodes.length === 1 ? nodes[0] : this.junction("or", nodes)
  }

  not(child: Term): Term {
    if (typeof child === "boolean") return !child
    if (child.kind === "not") return child.child
    const k = `N${child.id}`
    let n = this.nodes.get(k)
    if (n === undefined) {
      n = { kind: "not", id: this.nodes.size, refs: 0, fn: undefined, child }
      this.nodes.set(k, n)
    }
    return n
  }

  private junction(kind: "and" | "or", children: ReadonlyArray<Node>): Node {
    const k = `${kind === "and" ? "A" : "O"}${children.map((c) => c.id).join(",")}`
    let n = this.nodes.get(k)
    if (n === undefined) {
      n = { kind, id: this.nodes.size, refs: 0, fn: undefined, children }
      this.nodes.set(k, n)
    }
    return n
  }

  /**
   * Declares a term evaluated on its own (a rule or filter condition) in `group`: the terms one record
   * may meet (one record type's index). Sharing is counted within a group.
   */
  root(t: Term, group: string): void {
    if (this.finished) throw new Error("PredicateGraph: root() after finish()")
    if (typeof t === "boolean") return
    let g = this.roots.get(group)
    if (g === undefined) this.roots.set(group, (g = []))
    g.push(t)
  }

  /** Counts references within each root group and allocates the result memo. */
  finish(): void {
    if (this.finished) return
    this.finished = true
    const shared = new Set<Node>()
    for (const roots of this.roots.values()) {
      const counts = new Map<Node, number>()
      const visit = (n: Node): void => {
        const c = (counts.get(n) ?? 0) + 1
        counts.set(n, c)
        if (c > n.refs) n.refs = c
        if (c > 1) {
          shared.add(n)
          return
        }
        if (n.kind === "and" || n.kind === "or") for (const ch of n.children) visit(ch)
        else if (n.kind === "not") visit(n.child)
      }
      for (const r of roots) visit(r)
    }
    this.stamps = new Float64Array(shared.size)
    this.values = new Uint8Array(shared.size)
  }

  /** The closure of a term (after `finish`). */
  pred(t: Term): Pred {
    if (t === true) return alwaysTrue
    if (t === false) return alwaysFalse
    if (!this.finished) throw new Error("PredicateGraph: pred() before finish()")
    return this.generate(t)
  }

  private generate(n: Node): Pred {
    if (n.fn !== undefined) return n.fn
    let f: Pred
    switch (n.kind) {
      case "leaf":
        f = this.leafTest(n)
        break
      case "and":
        f = andAll(n.children.map((c) => this.generate(c)))
        break
      case "or":
        f = orAny(n.children.map((c) => this.generate(c)))
        break
      case "not": {
        const c = this.generate(n.child)
        f = (r) => !c(r)
        break
      }
    }
    if (n.refs > 1) f = this.memoize(this.memoized++, f)
    n.fn = f
    return f
  }

  /** A leaf's own test, built once. */
  leafTest(n: Leaf): Pred {
    return (n.test ??= n.build())
  }

  private memoize(k: number, f: Pred): Pred {
    const m = this.memo
    const stamps = this.stamps
    const values = this.values
    return (r: FlatRecord) => {
      if (r !== m.rec) m.begin(r)
      const g = m.gen
      if (stamps[k] === g) return values[k] === 1
      const v = f(r)
      stamps[k] = g
      values[k] = v ? 1 : 0
      return v
    }
  }
}
