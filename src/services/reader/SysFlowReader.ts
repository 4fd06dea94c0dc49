/**
 * The `sysflowreader` processor with the built-in `flattener` handler (pipeline.md §8): SysFlow datums
 * in, flat records out. Plugin handlers (`handlerlibpath`) run in `PluginHandlerStage`.
 */
import { Effect } from "effect"
import { PipelineConfigError } from "../../domain/errors.js"
import type { FlatRecord } from "../../domain/flatRecord.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import type { Stage } from "../pipeline/Stage.js"
import { Flattener } from "./Flattener.js"
import { makeRateFilter } from "./RateFilter.js"

export const makeSysFlowReader = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<Stage<SysFlowDatum, FlatRecord, never>, PipelineConfigError> =>
  Effect.gen(function* () {
    const handler = attrs["handler"]
    if (typeof handler !== "string" || handler === "") {
      return yield* new PipelineConfigError({
        reason: "Attribute",
        detail: "attribute 'handler' missing from sysflow processor's configuration"
      })
    }
    // filter.enabled: "on" enables the rate filter; any other value means off (data-model.md §3.4).
    const maxAge = Number(attrs["filter.maxage"] ?? 86_400)
    const flattener = new Flattener(
      attrs["filter.enabled"] === "on" ? makeRateFilter((Number.isFinite(maxAge) && maxAge >= 0 ? maxAge : 86_400) * 1000) : undefined
    )
    return {
      name: "sysflowreader",
      onChunk: (chunk) =>
        Effect.sync(() => {
          const out: FlatRecord[] = []
          flattener.flatten(chunk, out)
          return out
        }),
      onEnd: Effect.suspend(() => {
        const d = flattener.diagnostics
        const parts = [
          d.missingProcess > 0 ? `${d.missingProcess} records without a known process` : "",
          d.missingContainer > 0 ? `${d.missingContainer} records whose container was never seen` : "",
          d.missingPod > 0 ? `${d.missingPod} records whose pod was never seen` : "",
          d.missingFile > 0 ? `${d.missingFile} file references never seen` : ""
        ].filter((p) => p !== "")
        const none: ReadonlyArray<FlatRecord> = []
        return parts.length === 0 ? Effect.succeed(none) : Effect.as(Effect.logWarning(`Reader: ${parts.join(", ")}`), none)
      })
    }
  })
