/**
 * resources/mappings/ecs_mapping.json (docs/ecs.md): our explicit Elasticsearch index mapping for the
 * documents `format: ecs` produces. Every field of every document shape is mapped with a type that
 * accepts its JSON value, every mapped field occurs in some document, and `@timestamp` is `date_nanos`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { FlatRecord } from "../../src/domain/flatRecord.js"
import type { PolicyEvent } from "../../src/domain/policyEvent.js"
import { agentAndEcs, encodeEcsEvent } from "../../src/services/export/encoders/EcsEncoder.js"
import { projectRoot } from "../support/cli.js"
import { container, exampleA, exampleB, exampleC, fe, ff, file, header, httpdEntities, ke, pod } from "../domain/fixtures.js"

interface FieldMapping {
  readonly type?: string
  readonly properties?: Record<string, FieldMapping>
}

const mapping = JSON.parse(fs.readFileSync(path.join(projectRoot, "resources", "mappings", "ecs_mapping.json"), "utf8")) as {
  mappings: { dynamic: unknown; properties: Record<string, FieldMapping> }
}

/** Leaf field paths of the mapping with their types. */
const mappedLeaves = (props: Record<string, FieldMapping>, prefix = ""): Map<string, string> => {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(props)) {
    if (v.properties !== undefined) for (const [p, t] of mappedLeaves(v.properties, prefix + k + ".")) out.set(p, t)
    else out.set(prefix + k, v.type!)
  }
  return out
}

/** Leaf values of a document (arrays: their elements, arrays of objects: their fields). */
const docLeaves = (v: unknown, prefix: string, out: Map<string, unknown[]>): void => {
  if (Array.isArray(v)) {
    for (const x of v) docLeaves(x, prefix, out)
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) docLeaves(x, prefix === "" ? k : prefix + "." + k, out)
  } else {
    const list = out.get(prefix) ?? []
    list.push(v)
    out.set(prefix, list)
  }
}

const head = agentAndEcs({ agentVersion: "0.7.0", ecsVersion: "8.2" })
const p = pod({ services: [{ name: "s", id: "i", namespace: "n", portList: [{ port: 1, targetPort: 2, nodePort: 3, proto: "TCP" }], clusterIP: [1n] }] })
const withPod = { ...httpdEntities, container: container({ podId: p.id }), pod: p }
const rule = { name: "R", desc: "d", priority: 2 as const, tags: ["t"] }
const records: FlatRecord[] = [
  exampleA(),
  exampleB(),
  exampleC(),
  ff({ ...withPod, file: file("/var/lib", { restype: 100 }) }),
  fe({ ...withPod, file: file("/a"), newFile: file("/b") }, { opFlags: 1 << 20 }),
  ke(header(), { message: '{"kind":"Pod","items":[{"name":"a","namespace":"b"}]}' })
]
// One rule with an output template (a Falco rule's `output`), for the document's `message`.
const withOutput = { ...rule, name: "O", renderOutput: (r: FlatRecord) => `output for ${r.type}` }
const events: PolicyEvent[] = records.map((record) => ({ record, rules: [rule, withOutput], tags: ["ctx"] }))
const leaves = new Map<string, unknown[]>()
for (const ev of events) docLeaves(JSON.parse(encodeEcsEvent(ev, head)), "", leaves)

const accepts = (type: string, v: unknown): boolean => {
  switch (type) {
    case "keyword":
      return typeof v === "string" || typeof v === "number"
    case "match_only_text":
      return typeof v === "string"
    case "long":
      return typeof v === "number" && Number.isInteger(v)
    case "boolean":
      return typeof v === "boolean"
    case "ip":
      return typeof v === "string" && /^\d+\.\d+\.\d+\.\d+$/.test(v)
    case "date_nanos":
      return typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(v)
    default:
      return false
  }
}

describe("ECS index mapping", () => {
  const mapped = mappedLeaves(mapping.mappings.properties)

  it("@timestamp (and every ECS timestamp) is date_nanos", () => {
    for (const f of ["@timestamp", "event.start", "event.end", "process.start", "process.parent.start", "pod.ts"]) expect(mapped.get(f)).toBe("date_nanos")
  })

  it("every document field is mapped with a type that accepts its value", () => {
    for (const [field, values] of leaves) {
      const type = mapped.get(field)
      expect({ field, type }).toEqual({ field, type: expect.any(String) })
      for (const v of values) expect({ field, type, v, ok: accepts(type!, v) }).toEqual({ field, type, v, ok: true })
    }
  })

  it("every mapped field occurs in a document (no stale entries)", () => {
    expect([...mapped.keys()].filter((f) => !leaves.has(f))).toEqual([])
  })

  it("top-level sections in the document order; unknown fields are kept but not indexed", () => {
    expect(Object.keys(mapping.mappings.properties)).toEqual([
      "@timestamp",
      "agent",
      "ecs",
      "event",
      "host",
      "container",
      "orchestrator",
      "pod",
      "service",
      "file",
      "sf_file_action",
      "network",
      "source",
      "destination",
      "process",
      "user",
      "message",
      "tags"
    ])
    expect(mapping.mappings.dynamic).toBe(false)
  })
})
