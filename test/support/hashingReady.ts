// Tests import modules directly, not through an entry point: hashing must be ready before they run (xxhash.ts).
import { hashingReady } from "../../src/domain/xxhash.js"

await hashingReady
