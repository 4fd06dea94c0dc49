/**
 * The order of each `and`/`or`'s children, learnt from the records a type's code first sees. An `or`
 * stops at the first child that holds and an `and` at the first that does not, so the cheapest order runs
 * first the children that are cheap and likely to end it: by cost ÷ the share of their evaluations that
 * ended the junction. The rule files' order is the authors' guess: on the shared traces the tenth of the
 * 56 macros of the distribution set's global drop filter decides three dropped file records in four, so
 * nine others ran before it on most file records. Conditions are pure (StraightLine.ts), so an order changes
 * the time a condition takes, never its result.
 */
import type { Node } from "./PredicateGraph.js"

/** Records of a type evaluated with counters before its code is compiled again in the learnt order. */
export const PROFILE_RECORDS = 4096

/**
 * A child's counts describe the junction's records only when it was reached on most of them: a child
 * after one that rarely lets evaluation through was measured on a few records of a kind (an `and`'s
 * second child only where the first held) and says little about the rest.
 */
const MEASURED_SHARE = 0.5

/** Per junction node, its children's indexes in the order to evaluate them (only for nodes whose order changes). */
export type ChildOrder = ReadonlyMap<Node, ReadonlyArray<number>>

interface Branch {
  readonly node: Node
  readonly child: number
  readonly cost: number
}

/** How often each child of each junction was evaluated and held, while a type's profiled code runs. */
export class BranchProfile {
  private readonly branches: Array<Branch> = []
  private readonly evaluated: Array<number> = []
  private readonly held: Array<number> = []
  private seen = 0

  /** `learnt` gets the order once `records` records were counted. */
  constructor(
    private readonly records: number,
    private readonly learnt: (order: ChildOrder) => void
  ) {}

  /** A counter for child `child` of `node`, whose cost is `cost` (leaves, a process-cached part counting one). */
  branch(node: Node, child: number, cost: number): number {
    this.branches.push({ node, child, cost })
    this.evaluated.push(0)
    this.held.push(0)
    return this.branches.length - 1
  }

  get size(): number {
    return this.branches.length
  }

  /** Counts one record (the generated code calls it first); the last one hands over the order. */
  readonly tick = (): void => {
    if (++this.seen === this.records) this.learnt(this.order())
  }

  /** Counts one evaluation of branch `id`, and passes its value on. */
  readonly count = (id: number, value: boolean): boolean => {
    this.evaluated[id]++
    if (value) this.held[id]++
    return value
  }

  /** The children's order per junction whose order changes. */
  order(): ChildOrder {
    const byNode = new Map<Node, Array<{ readonly child: number; readonly evaluated: number; readonly key: number }>>()
    for (const [id, b] of this.branches.entries()) {
      const n = b.node
      if (n.kind !== "and" && n.kind !== "or") continue
      const evaluated = this.evaluated[id]
      const ends = evaluated === 0 ? 0 : (n.kind === "or" ? this.held[id] : evaluated - this.held[id]) / evaluated
      const children = byNode.get(n) ?? []
      children[b.child] = { child: b.child, evaluated, key: ends === 0 ? Infinity : b.cost / ends }
      byNode.set(n, children)
    }
    const order = new Map<Node, ReadonlyArray<number>>()
    for (const [node, children] of byNode) {
      // The measured children are a prefix (each is reached at most as often as the one before it); only
      // they move, in order of key (the file's order among equals), and the others follow as they were.
      const reached = children[0].evaluated
      let measured = 0
      while (reached > 0 && measured < children.length && children[measured].evaluated >= MEASURED_SHARE * reached) measured++
      const sorted = children
        .slice(0, measured)
        .sort((a, b) => a.key - b.key || a.child - b.child)
        .concat(children.slice(measured))
        .map((c) => c.child)
      if (sorted.some((c, i) => c !== i)) order.set(node, sorted)
    }
    return order
  }
}
