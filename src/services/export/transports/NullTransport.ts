/** `export: null`: the encoder still runs (so its cost is measured); nothing is written. */
import { Effect } from "effect"
import type { Transport } from "../Transport.js"

export const nullTransport: Transport = { name: "null", write: () => Effect.void, test: Effect.void }
