/** `export: terminal`: each record on its own line on stdout (pipeline.md §11.3). */
import { Effect } from "effect"
import { TerminalOutput, type Transport } from "../Transport.js"

export const makeTerminalTransport: Effect.Effect<Transport, never, TerminalOutput> = Effect.map(
  TerminalOutput,
  (out) => ({ name: "terminal", write: out.write, test: Effect.void })
)
