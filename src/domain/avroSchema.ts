/**
 * The SysFlow Avro writer schemas (data-model.md §1.2–§1.5), as plain JSON values.
 *
 * These are the interoperability contract with sf-apis: field names, types, defaults and order match the
 * sf-apis `.avsc` files exactly (they decide the binary layout). v5 is sf-apis master; v4 is the layout of
 * the reference's Go bindings and of the collector's socket stream (Process without `cwd`/`env`).
 *
 * Key order follows what the collector embeds in its traces (`type`, `namespace`, `name`, then the rest),
 * and every named type is spelled out once, at its first use, then referenced by full name.
 */
import { ContainerTypes, K8sActions, K8sComponents, ObjectStates } from "./sysflow.js"

/** A complex Avro type as JSON (record, enum, fixed, array, map, or an annotated primitive). */
export interface AvroComplexSchema {
  readonly type: string
  readonly [key: string]: unknown
}

/** An Avro schema as JSON: a type name, a union (array) or a complex type. */
export type AvroSchema = string | ReadonlyArray<AvroSchema> | AvroComplexSchema

interface AvroField {
  readonly name: string
  readonly type: AvroSchema
  readonly default?: unknown
}

export type SysFlowSchemaVersion = 4 | 5

const record = (namespace: string, name: string, fields: ReadonlyArray<AvroField>): AvroComplexSchema => ({
  type: "record",
  namespace,
  name,
  fields
})
const enumOf = (namespace: string, name: string, symbols: ReadonlyArray<string>): AvroSchema => ({
  type: "enum",
  namespace,
  name,
  symbols
})
const field = (name: string, type: AvroSchema): AvroField => ({ name, type })
const withDefault = (name: string, type: AvroSchema, value: unknown): AvroField => ({ name, type, default: value })
const arrayOf = (items: AvroSchema): AvroSchema => ({ type: "array", items })
const mapOf = (values: AvroSchema): AvroSchema => ({ type: "map", values })
/** IPv4 addresses held as longs; the annotation is informative only (readers ignore logical types). */
const ipList: AvroSchema = { type: "array", items: "long", logicalType: "ipaddr" }
const nullable = (type: AvroSchema): AvroSchema => ["null", type]

const ENTITY = "sysflow.entity"
const EVENT = "sysflow.event"
const FLOW = "sysflow.flow"
const TYPE = "sysflow.type"

// Named types after their first definition.
const OID_REF = "sysflow.type.OID"
const FOID_REF = "sysflow.type.FOID"
const STATE_REF = "sysflow.type.SFObjectState"

/** The four fields every event and flow starts with (ProcessFlow excepted). */
const eventHead: ReadonlyArray<AvroField> = [
  field("procOID", OID_REF),
  field("ts", "long"),
  field("tid", "long"),
  field("opFlags", "int")
]

const flowCounters: ReadonlyArray<AvroField> = [
  field("numRRecvOps", "long"),
  field("numWSendOps", "long"),
  field("numRRecvBytes", "long"),
  field("numWSendBytes", "long")
]

const build = (version: SysFlowSchemaVersion): AvroComplexSchema => {
  const header = record(ENTITY, "SFHeader", [
    withDefault("version", "long", version),
    field("exporter", "string"),
    withDefault("ip", "string", "NA"),
    field("filename", "string")
  ])

  const container = record(ENTITY, "Container", [
    field("id", "string"),
    field("name", "string"),
    field("image", "string"),
    field("imageid", "string"),
    field("type", enumOf(TYPE, "ContainerType", ContainerTypes)),
    field("privileged", "boolean"),
    field("podId", nullable("string"))
  ])

  const process = record(ENTITY, "Process", [
    field("state", enumOf(TYPE, "SFObjectState", ObjectStates)),
    field("oid", record(TYPE, "OID", [field("createTS", "long"), field("hpid", "long")])),
    field("poid", nullable(OID_REF)),
    field("ts", "long"),
    field("exe", "string"),
    field("exeArgs", "string"),
    field("uid", "int"),
    field("userName", "string"),
    field("gid", "int"),
    field("groupName", "string"),
    field("tty", "boolean"),
    field("containerId", nullable("string")),
    withDefault("entry", "boolean", false),
    // v5 appends these, without defaults (so v≤4 data cannot be resolved against v5).
    ...(version >= 5 ? [field("cwd", "string"), field("env", arrayOf("string"))] : [])
  ])

  const file = record(ENTITY, "File", [
    field("state", STATE_REF),
    field("oid", { type: "fixed", namespace: TYPE, name: "FOID", size: 20 }),
    field("ts", "long"),
    field("restype", "int"),
    field("path", "string"),
    field("containerId", nullable("string"))
  ])

  const processEvent = record(EVENT, "ProcessEvent", [
    ...eventHead,
    field("args", arrayOf("string")),
    field("ret", "int")
  ])

  const networkFlow = record(FLOW, "NetworkFlow", [
    ...eventHead,
    field("endTs", "long"),
    field("sip", "int"),
    field("sport", "int"),
    field("dip", "int"),
    field("dport", "int"),
    field("proto", "int"),
    field("fd", "int"),
    ...flowCounters
  ])

  const fileFlow = record(FLOW, "FileFlow", [
    ...eventHead,
    field("openFlags", "int"),
    field("endTs", "long"),
    field("fileOID", FOID_REF),
    field("fd", "int"),
    ...flowCounters
  ])

  const fileEvent = record(EVENT, "FileEvent", [
    ...eventHead,
    field("fileOID", FOID_REF),
    field("ret", "int"),
    field("newFileOID", nullable(FOID_REF))
  ])

  const networkEvent = record(EVENT, "NetworkEvent", [
    ...eventHead,
    field("sip", "int"),
    field("sport", "int"),
    field("dip", "int"),
    field("dport", "int"),
    field("proto", "int"),
    field("ret", "int")
  ])

  const processFlow = record(FLOW, "ProcessFlow", [
    field("procOID", OID_REF),
    field("ts", "long"),
    field("numThreadsCloned", "long"),
    field("opFlags", "int"),
    field("endTs", "long"),
    field("numThreadsExited", "long"),
    field("numCloneErrors", "long")
  ])

  const port = record(ENTITY, "Port", [
    field("port", "int"),
    field("targetPort", "int"),
    field("nodePort", "int"),
    field("proto", "string")
  ])
  const service = record(ENTITY, "Service", [
    field("name", "string"),
    field("id", "string"),
    field("namespace", "string"),
    field("portList", arrayOf(port)),
    field("clusterIP", ipList)
  ])
  const pod = record(ENTITY, "Pod", [
    field("ts", "long"),
    field("id", "string"),
    field("name", "string"),
    field("nodeName", "string"),
    field("hostIP", ipList),
    field("internalIP", ipList),
    field("namespace", "string"),
    field("restartCount", "long"),
    field("labels", mapOf("string")),
    field("selectors", mapOf("string")),
    field("services", arrayOf(service))
  ])

  const k8sEvent = record(EVENT, "K8sEvent", [
    field("kind", enumOf(TYPE, "K8sComponent", K8sComponents)),
    field("action", enumOf(TYPE, "K8sAction", K8sActions)),
    field("ts", "long"),
    field("message", "string")
  ])

  // Branch order = record code (data-model.md §1.2).
  const branches = [
    header,
    container,
    process,
    file,
    processEvent,
    networkFlow,
    fileFlow,
    fileEvent,
    networkEvent,
    processFlow,
    pod,
    k8sEvent
  ]
  return record("sysflow", "SysFlow", [field("rec", branches)])
}

/** sf-apis master (v5): what trace files are written with. */
export const SysFlowSchemaV5: AvroComplexSchema = build(5)

/** The v4 layout: the reference's Go bindings and the collector's socket datums. */
export const SysFlowSchemaV4: AvroComplexSchema = build(4)

export const sysflowSchema = (version: SysFlowSchemaVersion): AvroComplexSchema =>
  version === 5 ? SysFlowSchemaV5 : SysFlowSchemaV4
