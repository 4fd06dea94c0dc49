/** `export: null`: the encoder still runs (so its cost is measured); nothing is written. */
import { Effect } from "effect"
import type { TransportFactory } from "../Transport.js"

export const makeNullTransport: TransportFactory = () => Effect.succeed({ name: "null", send: () => Effect.succeed(0), test: Effect.void })
