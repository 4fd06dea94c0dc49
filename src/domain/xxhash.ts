/**
 * xxHash64 (seed 0) through `xxhash-wasm`, initialised once at module load (top-level await), so every
 * caller gets synchronous hashing on the hot path.
 */
import xxhash from "xxhash-wasm"

const api = await xxhash()

/** xxHash64 of the UTF-8 bytes of a string. */
export const h64: (input: string) => bigint = (input) => api.h64(input)

/** xxHash64 of raw bytes. */
export const h64Raw: (input: Uint8Array) => bigint = (input) => api.h64Raw(input)

/** A streaming xxHash64 (for hashes over several fields, e.g. ECS ids and the flattener's rate filter). */
export const create64 = () => api.create64()

/** 16 lowercase hex digits of a 64-bit digest (Go `%x` of the big-endian digest bytes). */
export const hex16 = (digest: bigint): string => digest.toString(16).padStart(16, "0")

/**
 * The process OID string of `sf.proc.oid` / `sf.pproc.oid`: xxh64 of `decimal(hpid)` immediately
 * followed by `decimal(createTS)` (data-model §3.5).
 */
export const oidHex = (hpid: bigint, createTS: bigint): string => api.h64ToString(`${hpid}${createTS}`)
