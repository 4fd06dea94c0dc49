/** `export: findings` (pipeline.md §11). */
import { Effect } from "effect"
import { ExportError } from "../../../domain/errors.js"
import type { TransportFactory } from "../Transport.js"

export const makeFindingsTransport: TransportFactory = () =>
  Effect.fail(new ExportError({ reason: "NotImplemented", transport: "exporter", detail: "export 'findings' is not implemented yet in sfprocessor" }))
