/** `export: terminal`: each record on its own line on stdout (pipeline.md §11.3). */
import { Effect } from "effect"
import { jsonLinesOf } from "../ExportBatch.js"
import { TerminalOutput, type TransportFactory } from "../Transport.js"

export const makeTerminalTransport: TransportFactory = () =>
  Effect.map(TerminalOutput, (out) => ({ name: "terminal", send: (batch) => Effect.as(out.write(jsonLinesOf(batch)), 0), test: Effect.void }))
