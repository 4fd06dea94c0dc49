/**
 * Whether the pipeline is being loaded for `-test`: processors then print what a user validating a
 * configuration must see even when `-log` would hide it (policy warnings, P23).
 */
import { Context } from "effect"

export class TestMode extends Context.Reference<TestMode>()("sfprocessor/TestMode", {
  defaultValue: () => false
}) {}
