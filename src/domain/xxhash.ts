/**
 * xxHash64 (seed 0) through `xxhash-wasm`. Its WebAssembly module compiles asynchronously, once:
 * `hashingReady` resolves when it has, and the entry points (the CLI's main, the library's index) await it
 * before anything hashes, so every caller gets synchronous hashing on the hot path. (Not a top-level
 * await here: the CLI bundle is a CommonJS script so that V8 can cache its compiled code, see
 * scripts/bundle.js.)
 */
import xxhash from "xxhash-wasm"

type Api = Awaited<ReturnType<typeof xxhash>>

let api: Api | undefined

/** Resolves once hashing is available. */
export const hashingReady: Promise<void> = xxhash().then((a) => {
  api = a
})

const ready = (): Api => {
  if (api === undefined) throw new Error("xxhash used before hashingReady resolved (await it at the entry point)")
  return api
}

/** xxHash64 of the UTF-8 bytes of a string. */
export const h64 = (input: string): bigint => (api ?? ready()).h64(input)

/** xxHash64 of raw bytes. */
export const h64Raw = (input: Uint8Array): bigint => (api ?? ready()).h64Raw(input)

/** A streaming xxHash64 (for hashes over several fields, e.g. ECS ids and the flattener's rate filter). */
export const create64 = () => (api ?? ready()).create64()

/** 16 lowercase hex digits of a 64-bit digest (Go `%x` of the big-endian digest bytes). */
export const hex16 = (digest: bigint): string => digest.toString(16).padStart(16, "0")

/**
 * The process OID string of `sf.proc.oid` / `sf.pproc.oid`: xxh64 of `decimal(hpid)` immediately
 * followed by `decimal(createTS)` (data-model §3.5).
 */
export const oidHex = (hpid: bigint, createTS: bigint): string => (api ?? ready()).h64ToString(`${hpid}${createTS}`)
