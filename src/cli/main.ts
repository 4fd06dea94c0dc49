/** `sfprocessor` entry point: parse the flags, install the logger, run, exit with the run's code. */
import { Effect } from "effect"
import * as v8 from "node:v8"
import { SfLoggerLive } from "../services/logging/SfLogger.js"
import { TerminalOutput } from "../services/export/Transport.js"
import { Health } from "../services/metrics/Health.js"
import { parseCli, writeOutput } from "./Flags.js"
import { runProcessor } from "./Processor.js"

/**
 * Between major GCs V8 lets the old generation grow up to 4x its live size while allocation is fast, as
 * it is here; a processor running beside the workloads it watches should stay smaller. Capping growth
 * at 2x keeps peak RSS about a fifth lower for a few percent of time (docs/performance.md). A value given
 * on node's command line (`node --heap-growing-percent=N`) wins.
 */
const HEAP_GROWING = "--heap-growing-percent"
if (!process.execArgv.some((a) => a.startsWith(HEAP_GROWING))) v8.setFlagsFromString(`${HEAP_GROWING}=100`)

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
