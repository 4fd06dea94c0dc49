/**
 * Shared knobs for the property-based (fast-check) fuzz tests under `test/fuzz/`.
 *
 * By default every property runs a fixed number of cases from a fixed seed, inside a time budget, so
 * `npm test` is deterministic and the whole fuzz suite takes a few seconds per target. To fuzz longer
 * locally:
 *
 *   FUZZ_RUNS=<n>    cases per property (the time budget is then lifted, unless FUZZ_TIME_MS is set)
 *   FUZZ_SEED=<n>    seed of every property (default 20240611); a failure report prints the seed and
 *                    the `path` to replay, e.g. `FUZZ_SEED=123 npx vitest run test/fuzz`
 *   FUZZ_TIME_MS=<n> time budget per property, in ms
 *
 * e.g. `FUZZ_RUNS=20000 FUZZ_SEED=$RANDOM npx vitest run test/fuzz`. Long runs keep a vitest worker busy
 * in synchronous code for minutes, which vitest may report as an unhandled "Timeout calling
 * onTaskUpdate" error (it is not a test failure; add `--dangerouslyIgnoreUnhandledErrors` to ignore it).
 */
import fc from "fast-check"
import { expect } from "vitest"

const envInt = (name: string): number | undefined => {
  const v = process.env[name]
  if (v === undefined || v.trim() === "") return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got '${v}'`)
  return n
}

export const FUZZ_SEED = envInt("FUZZ_SEED") ?? 20240611
const FUZZ_RUNS = envInt("FUZZ_RUNS")
const FUZZ_TIME_MS = envInt("FUZZ_TIME_MS")

/**
 * fast-check parameters for one property: `runs` cases by default (FUZZ_RUNS overrides), stopped early
 * (without failing) once `budgetMs` is spent, which keeps the suite fast on a loaded CI machine.
 */
export const fuzzParams = <T>(runs: number, budgetMs: number): fc.Parameters<T> => {
  const timeLimit = FUZZ_TIME_MS ?? (FUZZ_RUNS === undefined ? budgetMs : undefined)
  return {
    seed: FUZZ_SEED,
    numRuns: FUZZ_RUNS ?? runs,
    endOnFailure: true,
    ...(timeLimit === undefined ? {} : { interruptAfterTimeLimit: timeLimit, markInterruptAsFailure: false })
  }
}

/** Test timeout for a property: its budget plus room for shrinking a failure. */
export const testTimeout = (budgetMs: number): number =>
  FUZZ_RUNS === undefined && FUZZ_TIME_MS === undefined ? budgetMs + 60_000 : 24 * 3600_000

/**
 * Runs `f` and checks it took less than `limitMs`: the per-case "never hangs" bound. The limit is
 * generous (machines are shared and loaded); a pathological input (quadratic work, a loop over a corrupt
 * count) takes far longer. A true infinite loop cannot be interrupted in-thread: it shows as the test
 * timing out.
 */
export const bounded = <A>(what: string, limitMs: number, f: () => A): A => {
  const start = performance.now()
  const out = f()
  const ms = performance.now() - start
  expect(ms, `${what} took ${ms.toFixed(0)} ms (limit ${limitMs} ms)`).toBeLessThan(limitMs)
  return out
}

export const boundedAsync = async <A>(what: string, limitMs: number, f: () => Promise<A>): Promise<A> => {
  const start = performance.now()
  const out = await f()
  const ms = performance.now() - start
  expect(ms, `${what} took ${ms.toFixed(0)} ms (limit ${limitMs} ms)`).toBeLessThan(limitMs)
  return out
}

/** Per-case time limit (ms) for the "never hangs" checks. */
export const CASE_LIMIT_MS = 3_000

/** A short, printable description of an unexpected exception. */
export const describeThrown = (e: unknown): string =>
  e instanceof Error ? `${e.constructor.name}: ${e.message}\n${e.stack ?? ""}` : `non-Error thrown: ${String(e)}`

// ---------------------------------------------------------------------------------------------------
// Byte mutations

/** One edit of a byte string; offsets are taken modulo the length, so any nat works. */
export type ByteMutation =
  | { readonly kind: "flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "overwrite"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "duplicate"; readonly at: number; readonly len: number; readonly to: number }
  | { readonly kind: "remove"; readonly at: number; readonly len: number }
  | { readonly kind: "varint"; readonly at: number; readonly value: bigint; readonly replace: number }

/** Interesting Avro longs (zig-zag encoded by `zigzag`): huge, negative, boundaries, 2^40. */
export const interestingLongs: ReadonlyArray<bigint> = [
  0n, 1n, -1n, 2n, 16n, 63n, 64n, -64n, 127n, 255n, 1n << 20n, (1n << 31n) - 1n, 1n << 31n, -(1n << 31n), 1n << 32n,
  1n << 40n, -(1n << 40n), 1n << 53n, (1n << 62n) + 1n, (1n << 63n) - 1n, -(1n << 63n)
]

/** Avro zig-zag varint of a long (any bigint; values beyond 64 bits give longer, invalid varints). */
export const zigzag = (v: bigint): Uint8Array => {
  let z = v >= 0n ? v << 1n : ((-v) << 1n) - 1n
  const out: number[] = []
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80)
    z >>= 7n
  }
  out.push(Number(z))
  return Uint8Array.from(out)
}

const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 24 })

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("overwrite" as const), at: fc.nat(), bytes: smallBytes }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: smallBytes }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 300 }), to: fc.nat() })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 300 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("varint" as const),
      at: fc.nat(),
      value: fc.oneof(fc.constantFrom(...interestingLongs), fc.bigInt({ min: -(1n << 70n), max: 1n << 70n })),
      replace: fc.integer({ min: 0, max: 10 })
    })
  }
)

/** Applies a mutation; returns the new bytes and the first offset that differs from the input. */
export const mutate = (input: Uint8Array, m: ByteMutation): { bytes: Uint8Array; firstChange: number } => {
  const n = input.length
  const at = n === 0 ? 0 : m.at % (n + (m.kind === "insert" || m.kind === "truncate" ? 1 : 0))
  const cat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length)))
  switch (m.kind) {
    case "flip": {
      if (n === 0) return { bytes: input, firstChange: 0 }
      const out = Uint8Array.from(input)
      out[at] ^= 1 << m.bit
      return { bytes: out, firstChange: at }
    }
    case "overwrite": {
      const out = Uint8Array.from(input)
      out.set(m.bytes.subarray(0, Math.max(0, n - at)), at)
      return { bytes: out, firstChange: at }
    }
    case "truncate":
      return { bytes: input.subarray(0, at), firstChange: at }
    case "insert":
      return { bytes: cat(input.subarray(0, at), m.bytes, input.subarray(at)), firstChange: at }
    case "duplicate": {
      const range = input.subarray(at, at + m.len)
      const to = n === 0 ? 0 : m.to % (n + 1)
      return { bytes: cat(input.subarray(0, to), range, input.subarray(to)), firstChange: to }
    }
    case "remove":
      return { bytes: cat(input.subarray(0, at), input.subarray(at + m.len)), firstChange: at }
    case "varint":
      return { bytes: cat(input.subarray(0, at), zigzag(m.value), input.subarray(at + m.replace)), firstChange: at }
  }
}

/** Applies mutations in order; `firstChange` is the lowest offset any of them touched (a lower bound). */
export const mutateAll = (input: Uint8Array, ms: ReadonlyArray<ByteMutation>): { bytes: Uint8Array; firstChange: number } => {
  let bytes = input
  let firstChange = Number.POSITIVE_INFINITY
  for (const m of ms) {
    const r = mutate(bytes, m)
    bytes = r.bytes
    firstChange = Math.min(firstChange, r.firstChange)
  }
  return { bytes, firstChange }
}

/** Random lengths to split a byte string into (incremental parsers must not care how bytes arrive). */
export const chunking = fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 8 })

export const splitBytes = (bytes: Uint8Array, sizes: ReadonlyArray<number>): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  let pos = 0
  let i = 0
  while (pos < bytes.length) {
    const len = sizes[i++ % sizes.length]
    out.push(bytes.subarray(pos, pos + len))
    pos += len
  }
  return out
}
