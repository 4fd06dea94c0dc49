/**
 * The `sysflowreader` processor with the built-in `flattener` handler (pipeline.md §8): SysFlow datums
 * in, flat records out. Plugin handlers (`handlerlibpath`) run in `PluginHandlerStage`.
 */
import { Effect } from "effect"
import { OneOf, Text, WholeNumber, withDefault } from "../../domain/configValues.js"
import type { PipelineConfigError } from "../../domain/errors.js"
import type { FlatRecord } from "../../domain/flatRecord.js"
import type { SysFlowDatum } from "../../domain/sysflow.js"
import { decodeAttributes, entryError } from "../kernel/AttributeDecoder.js"
import type { ProcessorDefinition } from "../kernel/ProcessorRegistry.js"
import type { Stage } from "../kernel/Stage.js"
import { Flattener, type FlattenerDiagnostics } from "./Flattener.js"
import { makeRateFilter } from "./RateFilter.js"

/** How long an exited process stays cached by default: flows of a process can be reported a while after its exit. */
export const DEFAULT_EXIT_TTL_SECONDS = 300

/** Every key the reader reads (env overrides find camelCase spellings of these, P4). */
export const readerKeys = ["handler", "handlerlibpath", "filter.enabled", "filter.maxage", "cache.exitttl"] as const

const Keys = {
  handler: withDefault(Text, ""),
  // The rate filter (data-model.md §3.4). The reference read any value but `on` as off; a typo is an error here.
  "filter.enabled": withDefault(OneOf(["on", "off"]), "off"),
  "filter.maxage": withDefault(WholeNumber({ min: 0 }), 86_400),
  // Seconds of trace time an exited process stays cached (EntityCache, X77); 0 keeps them all, as the reference.
  "cache.exitttl": withDefault(WholeNumber({ min: 0 }), DEFAULT_EXIT_TTL_SECONDS)
}

/** The reader stage, with what its flattener could not join so far (file workers report theirs at the end). */
export interface SysFlowReaderStage extends Stage<SysFlowDatum, FlatRecord, never> {
  readonly diagnostics: FlattenerDiagnostics
}

/** The end-of-run warning about records the flattener could not join; undefined when there were none. */
export const readerWarning = (d: FlattenerDiagnostics): string | undefined => {
  const parts = [
    d.missingProcess > 0 ? `${d.missingProcess} records without a known process` : "",
    d.missingContainer > 0 ? `${d.missingContainer} records whose container was never seen` : "",
    d.missingPod > 0 ? `${d.missingPod} records whose pod was never seen` : "",
    d.missingFile > 0 ? `${d.missingFile} file references never seen` : ""
  ].filter((p) => p !== "")
  return parts.length === 0 ? undefined : `Reader: ${parts.join(", ")}`
}

export const makeSysFlowReader = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<SysFlowReaderStage, PipelineConfigError> =>
  Effect.gen(function* () {
    const keys = yield* decodeAttributes("sysflowreader", Keys, attrs)
    if (keys.handler === "") {
      return yield* entryError("sysflowreader", "attribute 'handler' missing from sysflow processor's configuration")
    }
    // The filter reads the runtime's Clock (TestClock in tests) once per record, without an Effect.
    const clock = yield* Effect.clock
    const flattener = new Flattener(
      keys["filter.enabled"] === "on" ? makeRateFilter(keys["filter.maxage"] * 1000, () => clock.unsafeCurrentTimeMillis()) : undefined,
      BigInt(keys["cache.exitttl"]) * 1_000_000_000n
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
        const warning = readerWarning(flattener.diagnostics)
        const none: ReadonlyArray<FlatRecord> = []
        return warning === undefined ? Effect.succeed(none) : Effect.as(Effect.logWarning(warning), none)
      }),
      diagnostics: flattener.diagnostics
    }
  })

/** The `sysflowreader` processor with the built-in `flattener` handler (plugin handlers: PluginHandlerStage). */
export const sysflowReaderProcessor: ProcessorDefinition<"sysflowchan", "flattenerchan"> = {
  spec: { name: "sysflowreader", accepts: ["sysflowchan"], emits: "handler", maxInputs: 1, knownKeys: readerKeys },
  make: makeSysFlowReader
}
