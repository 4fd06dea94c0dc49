/** `format: ecs` (data-model.md §5). */
import { Effect } from "effect"
import { ExportError } from "../../../domain/errors.js"
import type { EncoderFactory } from "../Encoder.js"

export const makeEcsEncoder: EncoderFactory = () =>
  Effect.fail(new ExportError({ reason: "NotImplemented", transport: "exporter", detail: "format 'ecs' is not implemented yet in sfprocessor" }))
