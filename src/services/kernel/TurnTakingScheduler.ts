/**
 * The Effect scheduler of a pipeline's fibers: Effect's default scheduler, which runs fibers on
 * microtasks, plus a bound on how long the event loop waits for a turn.
 *
 * Why: the default scheduler falls back to a macrotask only after thousands of microtask rounds of one
 * fiber, but pipeline stages hand chunks to each other through queues, so every fiber's round count
 * restarts at each hand-over. A run that waits on no I/O (a file read with synchronous calls, little or
 * nothing written) then never lets the event loop turn: signals, `/healthz` and timers would wait for the
 * end of the input. Here, once `budgetMs` passed since the last turn, running fibers yield and the next
 * tasks wait in a `setImmediate`: the microtasks already queued finish, the event loop polls (signals,
 * sockets, timers), then the waiting tasks run, in order of priority and arrival. What one operation does
 * (a chunk through a stage) is not cut: the stages keep it to a few milliseconds.
 *
 * A Clock boundary: the scheduler runs below Effect (it decides when fibers run) and measures how long the
 * real event loop has been kept busy, which TestClock time cannot express; it reads `performance.now()`.
 */
import { type Fiber, FiberRef, Scheduler } from "effect"

/**
 * How long the pipeline may keep the event loop busy before giving it a turn. Signals and `/healthz`
 * must be answered within 100 ms, and an HTTP answer takes two or three turns: with 20 ms, `/healthz`
 * took 50 ms at the median and 100 ms at p99 during a busy run; with 10 ms, 30 and 55–85 ms. Each turn
 * costs (V8 runs GC tasks in it): 3 ms cost about 6% more CPU than 10 ms; 10 ms costs about 1%.
 */
export const TURN_BUDGET_MS = 10

/** A mask: the clock is read once every 64 operations of a running fiber. */
const CLOCK_EVERY_OPS = 63

export class TurnTakingScheduler implements Scheduler.Scheduler {
  private lastTurn = performance.now()
  private waiting = new Scheduler.PriorityBuckets()
  private turnRequested = false

  constructor(
    readonly budgetMs: number = TURN_BUDGET_MS,
    private readonly inner: Scheduler.Scheduler = Scheduler.defaultScheduler
  ) {}

  /**
   * A fiber that never suspends (its output queue has room, its input has chunks) must stop too: every
   * few operations (a clock read each time would cost) it yields once the budget is spent.
   */
  shouldYield(fiber: Fiber.RuntimeFiber<unknown, unknown>): number | false {
    if ((fiber.currentOpCount & CLOCK_EVERY_OPS) === 0 && performance.now() - this.lastTurn >= this.budgetMs) {
      return fiber.getFiberRef(FiberRef.currentSchedulingPriority)
    }
    return this.inner.shouldYield(fiber)
  }

  scheduleTask(task: Scheduler.Task, priority: number, fiber?: Fiber.RuntimeFiber<unknown, unknown>): void {
    if (!this.turnRequested && performance.now() - this.lastTurn < this.budgetMs) {
      this.inner.scheduleTask(task, priority, fiber)
      return
    }
    this.waiting.scheduleTask(task, priority)
    if (!this.turnRequested) {
      this.turnRequested = true
      setImmediate(this.afterTurn)
    }
  }

  private readonly afterTurn = (): void => {
    this.lastTurn = performance.now()
    this.turnRequested = false
    const buckets = this.waiting.buckets
    this.waiting = new Scheduler.PriorityBuckets()
    for (const [, tasks] of buckets) for (const task of tasks) task()
  }
}

/** The one event loop's scheduler, shared by every pipeline of the process. */
export const pipelineScheduler: Scheduler.Scheduler = new TurnTakingScheduler()
