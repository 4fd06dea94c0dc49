/**
 * An exporter transport (pipeline.md §11): where encoded records go. The exporter hands it whole
 * encoded batches (JSON lines, each ending in "\n"); the transport owns its connection or file, which
 * its scope closes.
 */
import { Context, Effect, Layer } from "effect"
import type { ExportError } from "../../domain/errors.js"

export interface Transport {
  readonly name: string
  /** Delivers one encoded batch; resolves when the bytes were handed to the OS (backpressure). */
  readonly write: (batch: string) => Effect.Effect<void, ExportError>
  /** Health check (`Test()` in the reference). */
  readonly test: Effect.Effect<void, ExportError>
}

/** Where the `terminal` transport writes: stdout in the live layer, a buffer in tests. */
export class TerminalOutput extends Context.Tag("sfprocessor/TerminalOutput")<
  TerminalOutput,
  { readonly write: (text: string) => Effect.Effect<void> }
>() {
  /** process.stdout, waiting for `drain` when the pipe is full. */
  static readonly Live = Layer.succeed(TerminalOutput, {
    write: (text) =>
      Effect.async<void>((resume) => {
        if (process.stdout.write(text)) resume(Effect.void)
        else process.stdout.once("drain", () => resume(Effect.void))
      })
  })

  /** Collects everything written, for tests. */
  static readonly capture = (sink: string[]) =>
    Layer.succeed(TerminalOutput, { write: (text) => Effect.sync(() => void sink.push(text)) })
}
