/** `sfprocessor` entry point: parse the flags, install the logger, run, exit with the run's code. */
import { Effect } from "effect"
import { SfLoggerLive } from "../services/logging/SfLogger.js"
import { TerminalOutput } from "../services/export/Transport.js"
import { Health } from "../services/metrics/Health.js"
import { parseCli, writeOutput } from "./Flags.js"
import { runProcessor } from "./Processor.js"

const main = Effect.gen(function* () {
  const outcome = yield* parseCli(process.argv.slice(2))
  if (outcome._tag === "Exit") {
    writeOutput(outcome.output)
    return outcome.code
  }
  const { args, trailingFlags } = outcome
  return yield* runProcessor(args, trailingFlags, process.env).pipe(
    Effect.provide(SfLoggerLive({ level: args.log, perflog: args.perflog })),
    Effect.provide(TerminalOutput.Live),
    Effect.provide(Health.Live)
  )
})

Effect.runPromise(main).then(
  (code) => process.stdout.write("", () => process.exit(code)),
  (e) => {
    process.stderr.write(`sfprocessor: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    process.exit(2)
  }
)
