/**
 * The legacy v1000 layout of pre-2020 traces such as tcp.sf (data-model.md §1.5), for writing legacy
 * fixtures in tests: a 9-branch union, SFHeader {version, exporter}, Container without podId, Process
 * without entry, a 6-symbol ContainerType, and nanosecond longs annotated `timestamp-millis`.
 */
import type { AvroComplexSchema } from "../../src/domain/avroSchema.js"
import { SysFlowSchemaV4 } from "../../src/domain/avroSchema.js"

interface Field {
  name: string
  type: unknown
  default?: unknown
}
interface Rec {
  name: string
  fields: Field[]
}

const MISLABELLED = new Set(["ts", "createTS", "endTs"])

const annotate = (node: unknown): void => {
  if (Array.isArray(node)) return node.forEach(annotate)
  if (typeof node !== "object" || node === null) return
  const fields = (node as Partial<Rec>).fields
  for (const f of fields ?? []) {
    if (MISLABELLED.has(f.name) && f.type === "long") f.type = { type: "long", logicalType: "timestamp-millis" }
    else annotate(f.type)
  }
}

export const legacySchema = (): AvroComplexSchema => {
  const root = JSON.parse(JSON.stringify(SysFlowSchemaV4)) as Rec
  const union = (root.fields[0].type as Rec[]).slice(0, 9)
  root.fields[0].type = union
  const branch = (name: string): Rec => union.find((b) => b.name === name)!
  branch("SFHeader").fields = [
    { name: "version", type: "long" },
    { name: "exporter", type: "string" }
  ]
  const container = branch("Container")
  container.fields = container.fields.filter((f) => f.name !== "podId")
  const ctype = container.fields.find((f) => f.name === "type")!.type as { symbols: string[] }
  ctype.symbols = ctype.symbols.slice(0, 6)
  const process = branch("Process")
  process.fields = process.fields.filter((f) => f.name !== "entry")
  annotate(union)
  return root as unknown as AvroComplexSchema
}
