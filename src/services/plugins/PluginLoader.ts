/**
 * Loads plugin modules (pipeline.md §9.2): ES modules imported at run time from the configured
 * directories only. Processors come from `<plugdir>/<name>.{mjs,js,cjs}` when a pipeline names an
 * unknown processor; drivers from every `*.mjs`/`*.js` directly in the driver directory; handlers from
 * `<handlerlibpath>/<name>.{mjs,js}`. A module exports its entry point under the reference's symbol
 * (`Plugin`, `Driver`, `Handler`) or as `default`; its shape is checked, and every error names the file
 * and what is wrong.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { PipelineConfigError, errorText } from "../../domain/errors.js"
import type { Driver, Handler, HandlerCache, Plugin, PluginCache, PluginLogger, Processor } from "../../domain/plugins.js"
import { currentPlainLogger, type PlainLogger } from "../logging/SfLogger.js"
import { importModule } from "../importModule.js"

/** A plugin's logger: the processor's log lines, tagged with the plugin's name. */
export const pluginLogger = (plain: PlainLogger, component: string): PluginLogger => {
  const log = plain.withComponent(component)
  return {
    trace: (...m) => log.log("Trace", ...m),
    info: (...m) => log.log("Info", ...m),
    warn: (...m) => log.log("Warn", ...m),
    error: (...m) => log.log("Error", ...m)
  }
}

/** What plugin modules registered. */
export interface PluginRegistrations {
  readonly processors: Map<string, () => Processor>
  readonly drivers: Map<string, () => Driver>
  readonly channelTypes: Set<string>
}

const fail = (detail: string) => new PipelineConfigError({ reason: "Plugin", detail })


const hasMethods = (x: unknown, names: ReadonlyArray<string>): string[] =>
  typeof x !== "object" || x === null ? [...names] : names.filter((n) => typeof (x as Record<string, unknown>)[n] !== "function")

/** Imports a module and returns its export `symbol` (or `default`). */
const importEntry = (file: string, symbol: string): Effect.Effect<unknown, PipelineConfigError> =>
  Effect.tryPromise({
    try: () => importModule(pathToFileURL(path.resolve(file)).href),
    catch: (e) => fail(`cannot load plugin ${file}: ${errorText(e)}`)
  }).pipe(
    Effect.flatMap((mod) => {
      const entry = mod[symbol] ?? mod.default
      return entry === undefined
        ? Effect.fail(fail(`${file}: no export '${symbol}' (or default)`))
        : Effect.succeed(entry)
    })
  )

/** Plugin names are plain file names: no directories, so nothing is loaded from outside the plugin directory. */
const PLUGIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/

/** The first existing `<dir>/<name><ext>`; a Go plugin (`.so`) there is a clear error. */
const findModule = (dir: string, name: string, exts: ReadonlyArray<string>): Effect.Effect<string, PipelineConfigError> =>
  Effect.suspend(() => {
    if (!PLUGIN_NAME.test(name) || name.includes("..")) {
      return Effect.fail(fail(`'${name}' is not a valid plugin name (letters, digits, '_', '.', '-'; no paths)`))
    }
    const base = path.join(dir, name)
    for (const ext of exts) if (fs.existsSync(base + ext)) return Effect.succeed(base + ext)
    if (fs.existsSync(`${base}.so`)) return Effect.fail(fail(`Go plugins are not supported: ${base}.so`))
    return Effect.fail(fail(`error trying load plugin at: ${base} (looked for ${exts.map((e) => name + e).join(", ")})`))
  })

const registrar = (file: string, into: PluginRegistrations, known: ReadonlySet<string>, logger: PluginLogger) => {
  const clash = (kind: string, name: string) => {
    throw new Error(`${file}: ${kind} '${name}' clashes with a built-in or already loaded ${kind}`)
  }
  const cache: PluginCache = {
    logger,
    addProcessor: (name, factory) => {
      if (known.has(name) || into.processors.has(name)) clash("processor", name)
      into.processors.set(name, factory)
    },
    addDriver: (name, factory) => {
      if (known.has(name) || into.drivers.has(name)) clash("driver", name)
      into.drivers.set(name, factory)
    },
    addChannel: (type) => void into.channelTypes.add(type)
  }
  return cache
}

/** Loads the processor plugin `name` from `plugdir` and what it registers. */
export const loadProcessorPlugin = (
  plugdir: string,
  name: string,
  into: PluginRegistrations,
  builtins: ReadonlySet<string>
): Effect.Effect<void, PipelineConfigError> =>
  Effect.gen(function* () {
    const file = yield* findModule(plugdir, name, [".mjs", ".js", ".cjs"])
    const entry = yield* importEntry(file, "Plugin")
    const missing = hasMethods(entry, ["register"])
    if (missing.length > 0) return yield* fail(`${file}: export 'Plugin' must have register(pc)`)
    const logger = pluginLogger(yield* currentPlainLogger, name)
    yield* Effect.try({
      try: () => (entry as Plugin).register(registrar(file, into, builtins, logger)),
      catch: (e) => fail(`${file}: register failed: ${errorText(e)}`)
    })
    if (!into.processors.has(name)) return yield* fail(`plugin '${name}' not found in plugin cache (${file} registered ${[...into.processors.keys()].join(", ") || "no processor"})`)
    // Check the factory's product now: a wrong shape is a load error, not a crash at run time.
    const probe = yield* Effect.try({ try: () => into.processors.get(name)!(), catch: (e) => fail(`${file}: processor factory failed: ${errorText(e)}`) })
    const wrong = hasMethods(probe, ["getName", "init", "setOutChan", "process", "cleanup"])
    if (wrong.length > 0) return yield* fail(`${file}: processor '${name}' lacks ${wrong.join(", ")}`)
  })

/** Loads every driver module directly inside `driverdir` (a missing directory means none). */
export const loadDriverPlugins = (
  driverdir: string,
  into: PluginRegistrations,
  builtins: ReadonlySet<string>
): Effect.Effect<void, PipelineConfigError> =>
  Effect.gen(function* () {
    if (!fs.existsSync(driverdir) || !fs.statSync(driverdir).isDirectory()) return
    for (const name of fs.readdirSync(driverdir).sort()) {
      const file = path.join(driverdir, name)
      if (name.endsWith(".so")) return yield* fail(`Unable to load dynamic driver: Go plugins are not supported: ${file}`)
      if (!name.endsWith(".mjs") && !name.endsWith(".js")) continue
      const entry = yield* importEntry(file, "Driver").pipe(
        Effect.mapError((e) => fail(`Unable to load dynamic driver: ${e.detail}`))
      )
      const cache = registrar(file, into, builtins, pluginLogger(yield* currentPlainLogger, path.parse(name).name))
      if (typeof (entry as { register?: unknown }).register === "function") {
        yield* Effect.try({
          try: () => (entry as Plugin).register(cache),
          catch: (e) => fail(`Unable to load dynamic driver: ${file}: ${errorText(e)}`)
        })
        continue
      }
      const wrong = hasMethods(entry, ["getName", "init", "run", "cleanup"])
      if (wrong.length > 0) return yield* fail(`Unable to load dynamic driver: ${file}: export 'Driver' lacks ${wrong.join(", ")}`)
      const driver = entry as Driver
      yield* Effect.try({
        try: () => cache.addDriver(driver.getName(), () => driver),
        catch: (e) => fail(`Unable to load dynamic driver: ${errorText(e)}`)
      })
    }
  })

/** Loads the handler `name` from `handlerlibpath`; the exported instance itself is the handler. */
export const loadHandlerPlugin = (libpath: string | undefined, name: string): Effect.Effect<Handler, PipelineConfigError> =>
  Effect.gen(function* () {
    if (libpath === undefined || libpath === "") {
      return yield* fail(`handler '${name}' not found in built-in handlers, and no attribute 'handlerlibpath' names a directory to load it from`)
    }
    const file = yield* findModule(libpath, name, [".mjs", ".js"])
    const entry = yield* importEntry(file, "Handler")
    const wrong = hasMethods(entry, ["init", "isEntityEnabled", "setOutChan", "cleanup"])
    if (wrong.length > 0) return yield* fail(`${file}: export 'Handler' lacks ${wrong.join(", ")}`)
    const handler = entry as Handler
    const handlers = new Map<string, () => Handler>()
    const hc: HandlerCache = { logger: pluginLogger(yield* currentPlainLogger, name), addHandler: (n, f) => void handlers.set(n, f) }
    handler.registerHandler?.(hc)
    return handlers.get(name)?.() ?? handler
  })

export const emptyRegistrations = (): PluginRegistrations => ({
  processors: new Map(),
  drivers: new Map(),
  channelTypes: new Set()
})
