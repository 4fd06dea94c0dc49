/**
 * A plugin processor in the pipeline (pipeline.md §9): `init(conf)` and `setOutChan` at load, then
 * `process(ins)` reads its input to the end, then `cleanup()` (which must close its outputs; the runner
 * closes them anyway). A rejected promise or a throw fails the run with the plugin's name.
 */
import { Effect } from "effect"
import { PipelineConfigError, errorText } from "../../domain/errors.js"
import type { Processor } from "../../domain/plugins.js"
import type { Channel } from "../kernel/Channel.js"
import type { RunnableStage } from "../kernel/Runner.js"
import { pluginChannel } from "./PluginChannelAdapter.js"


/** Runs a plugin call, turning throws and rejections into a failure naming the plugin. */
export const pluginCall = <A>(name: string, what: string, f: () => A | Promise<A>): Effect.Effect<A, PipelineConfigError> =>
  Effect.tryPromise({
    try: async () => f(),
    catch: (e) => new PipelineConfigError({ reason: "Plugin", detail: `plugin '${name}': ${what} failed: ${errorText(e)}` })
  })

export const makePluginProcessorStage = (
  name: string,
  factory: () => Processor,
  attrs: Readonly<Record<string, unknown>>,
  input: Channel<unknown>,
  outputs: ReadonlyArray<Channel<unknown>>
): Effect.Effect<RunnableStage<PipelineConfigError>, PipelineConfigError> =>
  Effect.gen(function* () {
    const processor = yield* pluginCall(name, "creating the processor", factory)
    yield* pluginCall(name, "init", () => processor.init(attrs))
    processor.setOutChan(outputs.map(pluginChannel))
    const ins = [pluginChannel(input)]
    return {
      name,
      input,
      outputs,
      run: pluginCall(name, "process", () => processor.process(ins)).pipe(
        Effect.ensuring(Effect.orDie(pluginCall(name, "cleanup", () => processor.cleanup())).pipe(Effect.catchAllDefect(() => Effect.void)))
      ),
      test:
        processor.test === undefined
          ? undefined
          : Effect.flatMap(
              pluginCall(name, "test", () => processor.test!()),
              (ok) => (ok ? Effect.void : Effect.fail(new PipelineConfigError({ reason: "Plugin", detail: `plugin '${name}': test() returned false` })))
            )
    }
  })
