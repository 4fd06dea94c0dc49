/**
 * The `policyengine` processor (pipeline.md §8, policy-language.md §8). `mode` is `alert` when absent,
 * `enrich` for any other value (a warning for unknown ones, Q21). Enrich without `policies` forwards
 * every record untouched; alert needs policies.
 */
import { Effect } from "effect"
import { PipelineConfigError } from "../../domain/errors.js"
import type { FlatRecord } from "../../domain/flatRecord.js"
import { bareEvent, type PolicyEvent } from "../../domain/policyEvent.js"
import type { Stage } from "../pipeline/Stage.js"

export const makePolicyEngineStage = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<Stage<FlatRecord, PolicyEvent, never>, PipelineConfigError> =>
  Effect.gen(function* () {
    const modeAttr = attrs["mode"]
    const mode = modeAttr === undefined || modeAttr === "alert" ? "alert" : "enrich"
    if (modeAttr !== undefined && modeAttr !== "alert" && modeAttr !== "enrich") {
      yield* Effect.logWarning(`policyengine: unknown mode '${String(modeAttr)}', using enrich`)
    }
    const policies = attrs["policies"]
    if (policies === undefined || policies === "") {
      if (mode === "alert") {
        return yield* new PipelineConfigError({
          reason: "Attribute",
          detail: "configuration attribute 'policies' missing from policy engine plugin settings"
        })
      }
      return {
        name: "policyengine",
        onChunk: (chunk) => Effect.sync(() => chunk.map(bareEvent)),
        onEnd: Effect.succeed([])
      }
    }
    return yield* new PipelineConfigError({
      reason: "Plugin",
      detail: `policyengine: evaluating policies (${String(policies)}) is not implemented yet`
    })
  })
