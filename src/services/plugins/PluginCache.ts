/**
 * The plugin cache (pipeline.md §9.2): processors, drivers and channel types that plugin modules
 * registered, loaded from the configured directories (`-plugdir`, `-driverdir`, a reader's
 * `handlerlibpath`) when a pipeline names something that is not built in. One cache per run.
 */
import { Context, type Effect, Layer } from "effect"
import type { PipelineConfigError } from "../../domain/errors.js"
import type { Handler } from "../../domain/plugins.js"
import {
  emptyRegistrations,
  loadDriverPlugins,
  loadHandlerPlugin,
  loadProcessorPlugin,
  type PluginRegistrations
} from "./PluginLoader.js"

export interface PluginCacheApi {
  /** What the loaded modules registered so far. */
  readonly registrations: PluginRegistrations
  /** Loads every driver module of `driverdir`; `builtins` are names a plugin may not take. */
  readonly loadDrivers: (driverdir: string, builtins: ReadonlySet<string>) => Effect.Effect<void, PipelineConfigError>
  /** Loads the processor plugin `name` from `plugdir`. */
  readonly loadProcessor: (plugdir: string, name: string, builtins: ReadonlySet<string>) => Effect.Effect<void, PipelineConfigError>
  /** Loads the reader handler `name` from `handlerlibpath`. */
  readonly loadHandler: (libpath: string | undefined, name: string) => Effect.Effect<Handler, PipelineConfigError>
}

export class PluginCache extends Context.Tag("sfprocessor/PluginCache")<PluginCache, PluginCacheApi>() {
  static readonly Live = Layer.sync(PluginCache, (): PluginCacheApi => {
    const registrations = emptyRegistrations()
    return {
      registrations,
      loadDrivers: (dir, builtins) => loadDriverPlugins(dir, registrations, builtins),
      loadProcessor: (dir, name, builtins) => loadProcessorPlugin(dir, name, registrations, builtins),
      loadHandler: loadHandlerPlugin
    }
  })
}
