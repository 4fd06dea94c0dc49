/**
 * The built-in stages with the application's live services provided (transports and encoders for the
 * exporter, the policy engine and monitor for the policy stage), for tests that drive a stage directly.
 */
import { Effect } from "effect"
import { ExportsLive, PoliciesLive } from "../../src/layers/MainLive.js"
import { makeExporter as exporterOf } from "../../src/services/export/Exporter.js"
import { makePolicyEngineStage as policyEngineOf } from "../../src/services/policy/PolicyEngineStage.js"

export const makeExporter = (attrs: Readonly<Record<string, unknown>>) => exporterOf(attrs).pipe(Effect.provide(ExportsLive))

export const makePolicyEngineStage = (attrs: Readonly<Record<string, unknown>>) => policyEngineOf(attrs).pipe(Effect.provide(PoliciesLive))
