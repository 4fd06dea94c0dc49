/**
 * User actions for the policy engine (policy-language.md §8.5): ES modules in `actiondir` (every `*.mjs`
 * and `*.js`, not recursive, in name order) exporting `Action` (or `default`) with `getName()` and
 * `getFunc()`. A module that fails to load is logged and skipped; a re-declared name warns and the later
 * one wins. Loaded each time a rule set is built.
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import type { Action, ActionContext } from "../../domain/plugins.js"
import { errorText } from "../../domain/errors.js"
import { importModule } from "../importModule.js"

export type ActionFunc = (ctx: ActionContext) => void | Promise<void>

const isAction = (x: unknown): x is Action =>
  typeof x === "object" && x !== null && typeof (x as Action).getName === "function" && typeof (x as Action).getFunc === "function"

const loadModule = (file: string): Effect.Effect<Action, string> =>
  Effect.tryPromise({
    try: () => importModule(pathToFileURL(path.resolve(file)).href),
    catch: (e) => `cannot load ${file}: ${errorText(e)}`
  }).pipe(
    Effect.flatMap((mod) => {
      const candidate = mod.Action ?? mod.default
      return isAction(candidate)
        ? Effect.succeed(candidate)
        : Effect.fail(`${file}: no export 'Action' (or default) with getName() and getFunc()`)
    })
  )

/** The actions of `dir` by name; a missing directory means no actions. */
/** Whether a file of `actiondir` is an action module (loaded by `loadActions`). */
export const isActionModule = (name: string): boolean => name.endsWith(".mjs") || name.endsWith(".js")

export const loadActions = (dir: string): Effect.Effect<ReadonlyMap<string, ActionFunc>> =>
  Effect.gen(function* () {
    const names = yield* Effect.promise(() => fs.readdir(dir).catch(() => [] as string[]))
    const actions = new Map<string, ActionFunc>()
    for (const name of names.sort()) {
      const file = path.join(dir, name)
      if (name.endsWith(".so")) {
        yield* Effect.logError(`Go plugins are not supported: ${file}`)
        continue
      }
      if (!isActionModule(name)) continue
      const loaded = yield* Effect.either(loadModule(file))
      if (loaded._tag === "Left") {
        yield* Effect.logError(`Unable to load action: ${loaded.left}`)
        continue
      }
      const actionName = loaded.right.getName()
      if (actions.has(actionName)) yield* Effect.logWarning(`Re-declaration of action '${actionName}'`)
      actions.set(actionName, loaded.right.getFunc() as ActionFunc)
    }
    return actions
  })
