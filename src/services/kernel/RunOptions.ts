/**
 * Command-line options that processors need while loading: `-test` (print what a user validating a
 * configuration must see even when `-log` hides it, P23) and `-perflog` (enables the policy engine's
 * `bench.*` keys, as in the reference).
 */
import { Context } from "effect"

export class RunOptions extends Context.Reference<RunOptions>()("sfprocessor/RunOptions", {
  defaultValue: () => ({ test: false, perflog: false })
}) {}
