/**
 * `format: ecs` (data-model.md §5.4): each event becomes one Elastic Common Schema document (compact
 * JSON; `lines`) and its document id (`ids`, the Elasticsearch `_id` the `es` transport indexes it under
 * with action `create`). `agent.version` and `ecs.version` come from the injected manifest attributes
 * `version` and `ecsversion` (0.7.0 and 8.2); when an attribute is absent (only possible when the
 * exporter is built without the pipeline loader) the key is dropped, as in the reference.
 *
 * The document builder is in `ecs/EcsDocument.ts`, the id in `ecs/ecsId.ts`, Community ID v1 in
 * `domain/communityId.ts`; the layout is documented in docs/ecs.md.
 */
import { Effect } from "effect"
import type { PolicyEvent } from "../../../domain/policyEvent.js"
import type { EncoderFactory } from "../Encoder.js"
import type { ExportBatch } from "../ExportBatch.js"
import { agentAndEcs, encodeEcsEvent, type EcsOptions } from "./ecs/EcsDocument.js"
import { ecsDocumentId } from "./ecs/ecsId.js"

export { agentAndEcs, encodeEcsEvent, type EcsOptions } from "./ecs/EcsDocument.js"
export { ecsDocumentId } from "./ecs/ecsId.js"

/** The documents and ids of a batch, in order. `head` = `agentAndEcs(options)`. */
export const encodeEcsBatch = (events: ReadonlyArray<PolicyEvent>, head: string): ExportBatch => {
  const n = events.length
  const lines = new Array<string>(n)
  const ids = new Array<string>(n)
  for (let i = 0; i < n; i++) {
    const ev = events[i]
    const line = encodeEcsEvent(ev, head)
    // Flatten the rope now so its pieces die young (see JsonEncoder).
    line.charCodeAt(0)
    lines[i] = line
    ids[i] = ecsDocumentId(ev.record)
  }
  return { lines, ids }
}

const stringAttr = (attrs: Readonly<Record<string, unknown>>, key: string): string => {
  const v = attrs[key]
  return v === undefined || v === null ? "" : String(v)
}

/** The ECS options from the exporter's attributes (`version`, `ecsversion`). */
export const ecsOptionsFromAttrs = (attrs: Readonly<Record<string, unknown>>): EcsOptions => ({
  agentVersion: stringAttr(attrs, "version"),
  ecsVersion: stringAttr(attrs, "ecsversion")
})

export const makeEcsEncoder: EncoderFactory = (attrs) =>
  Effect.sync(() => {
    const head = agentAndEcs(ecsOptionsFromAttrs(attrs))
    return { encode: (events) => encodeEcsBatch(events, head) }
  })
