/**
 * `-list` (Falco's `-L`): the rules of every `policyengine` of the pipeline, each with its state (active,
 * disabled, inactive or skipped, and why), where it is defined, its priority and tags, as a table on
 * stdout. Only the configuration and the policies are read: no processor, driver or output is started.
 * Exit 0; 1 when the pipeline or a policy set does not load (each error logged).
 */
import { Console, Effect } from "effect"
import { errorText } from "../domain/errors.js"
import { describeEntry } from "../domain/pipelineConfig.js"
import { PolicyError, renderDiagnostic } from "../domain/policy/Diagnostic.js"
import { pluginEntryOrigin, withAttributeOrigin } from "../services/kernel/AttributeDecoder.js"
import type { Stage } from "../services/pipeline/PipelineGraph.js"
import { loadGraph, type PipelineServices } from "../services/pipeline/PipelineLoader.js"
import { PolicyEngine } from "../services/policy/PolicyEngine.js"
import { decodePolicyEngineConfig } from "../services/policy/PolicyEngineConfig.js"
import { formatRuleListing, listRules } from "../services/policy/RuleListing.js"
import type { CliArgs } from "./Flags.js"

/** The listing of one policy engine: its heading and table. */
const engineListing = (stage: Stage) =>
  Effect.gen(function* () {
    const config = yield* decodePolicyEngineConfig(Object.fromEntries(stage.entry.attributes)).pipe(withAttributeOrigin(pluginEntryOrigin(stage.entry)))
    const heading = describeEntry(stage.entry)
    if (config.policies === undefined) return `${heading}: no policies`
    const engine = yield* PolicyEngine
    const set = yield* engine.compile(config, config.policies, false)
    return `${heading}: ${config.policies} (${config.language})\n${formatRuleListing(listRules(set.policies))}`
  })

export const listPipelineRules = (args: CliArgs, env: Readonly<Record<string, string | undefined>>): Effect.Effect<number, never, PipelineServices> =>
  Effect.gen(function* () {
    // Drivers are not started: without -driver any name the graph accepts will do.
    const options = { configPath: args.config, driver: args.driver === "" ? "file" : args.driver, env, plugdir: args.plugdir, driverdir: args.driverdir, input: "" }
    const loaded = yield* Effect.either(loadGraph(options))
    if (loaded._tag === "Left") {
      yield* Effect.logError(`Unable to load pipeline error:  ${errorText(loaded.left)}`)
      return 1
    }
    const engines = loaded.right.graph.stages.filter((s) => s.entry.processor === "policyengine")
    if (engines.length === 0) {
      yield* Effect.logError(`${args.config}: the pipeline has no policyengine: no rules to list`)
      return 1
    }
    for (const stage of engines) {
      const listing = yield* Effect.either(engineListing(stage).pipe(Effect.provide(PolicyEngine.Live)))
      if (listing._tag === "Left") {
        const e = listing.left
        const lines = e instanceof PolicyError ? e.diagnostics.map(renderDiagnostic) : [errorText(e)]
        yield* Effect.forEach(lines, (l) => Effect.logError(l), { discard: true })
        return 1
      }
      yield* Console.log(listing.right)
    }
    return 0
  })
