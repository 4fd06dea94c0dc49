/** The exporter's encoders (`format`, pipeline.md §11): the application's encoder registry. */
import { EncoderRegistry, type EncoderFactory } from "../services/export/Encoder.js"
import { makeEcsEncoder } from "../services/export/encoders/EcsEncoder.js"
import { makeJsonEncoder } from "../services/export/encoders/JsonEncoder.js"
import { makeOccurrenceEncoder } from "../services/export/encoders/OccurrenceEncoder.js"
import { unsupported } from "./Transports.js"

export const builtinEncoders: ReadonlyArray<readonly [string, EncoderFactory]> = [
  ["json", makeJsonEncoder],
  ["ecs", makeEcsEncoder],
  ["occurrence", makeOccurrenceEncoder],
  ["otel", unsupported("format 'otel'")]
]

export const EncodersLive = EncoderRegistry.layer(builtinEncoders)
