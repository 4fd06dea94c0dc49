/**
 * A plugin driver (pipeline.md §9): `init(pipelineApi, conf)` when drivers are initialised, then
 * `run(path, signal)` feeds the pipeline; the first SIGINT/SIGTERM aborts `signal`, the driver returns,
 * `cleanup()` runs, and the runner closes its channel so the pipeline drains.
 */
import { Effect } from "effect"
import { DriverError, errorText } from "../../domain/errors.js"
import type { Driver, PipelineApi, PluginConfig } from "../../domain/plugins.js"
import type { Channel } from "../kernel/Channel.js"
import { currentPlainLogger } from "../logging/SfLogger.js"
import { pluginChannel } from "./PluginChannelAdapter.js"
import { pluginLogger } from "./PluginLoader.js"


export const initPluginDriver = (
  name: string,
  factory: () => Driver,
  conf: PluginConfig | null,
  root: Channel<unknown>,
  channels: ReadonlyMap<string, Channel<unknown>>
): Effect.Effect<(input: string) => Effect.Effect<void, DriverError>, DriverError> =>
  Effect.gen(function* () {
    const fail = (reason: DriverError["reason"], what: string) => (e: unknown) =>
      new DriverError({ reason, driver: name, detail: `driver '${name}': ${what}: ${errorText(e)}`, cause: e })
    const api: PipelineApi = {
      logger: pluginLogger(yield* currentPlainLogger, name),
      getRootChannel: () => pluginChannel(root),
      getChannel: (spec) => {
        const [channelName, type] = spec.trim().split(/\s+/)
        const ch = channels.get(channelName)
        if (ch === undefined || ch.type !== type) throw new Error(`no channel '${spec}' in the pipeline`)
        return pluginChannel(ch)
      }
    }
    const driver = yield* Effect.try({ try: factory, catch: fail("Init", "creating the driver") })
    yield* Effect.tryPromise({ try: async () => driver.init(api, conf), catch: fail("Init", "init") })
    return (input) =>
      Effect.async<void, DriverError>((resume) => {
        const abort = new AbortController()
        const running = driver.run(input, abort.signal)
        running.then(
          () => resume(Effect.void),
          (e) => resume(Effect.fail(fail("Run", "run")(e)))
        )
        // Interruption (stop) aborts the run and waits for the driver to return, so nothing it sends
        // arrives after its channel was closed.
        return Effect.zipRight(
          Effect.sync(() => abort.abort()),
          Effect.promise(() => running.catch(() => undefined))
        )
      }).pipe(Effect.ensuring(Effect.promise(async () => driver.cleanup()).pipe(Effect.catchAllDefect(() => Effect.void))))
  })
