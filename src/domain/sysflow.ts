/**
 * The SysFlow data model (sf-apis v5 Avro schemas), as sfprocessor holds it in memory.
 *
 * Every datum read from a trace, whatever its schema version, is projected by field name onto these
 * shapes (data-model.md §1.5): fields missing from older layouts take their defaults. All Avro `long`
 * values are `bigint` (timestamps are nanoseconds and exceed 2^53); Avro `int` values are `number`.
 * Enums keep their symbol names.
 */

/** Record-type codes of the SysFlow union (data-model.md §1.2), fixed whatever the file's union order. */
export const RecordCode = {
  SFHeader: 0,
  Container: 1,
  Process: 2,
  File: 3,
  ProcessEvent: 4,
  NetworkFlow: 5,
  FileFlow: 6,
  FileEvent: 7,
  NetworkEvent: 8,
  ProcessFlow: 9,
  Pod: 10,
  K8sEvent: 11
} as const
export type RecordCode = (typeof RecordCode)[keyof typeof RecordCode]

/** Avro full names of the union branches, by record code. */
export const RecordFullName: Record<RecordCode, string> = {
  0: "sysflow.entity.SFHeader",
  1: "sysflow.entity.Container",
  2: "sysflow.entity.Process",
  3: "sysflow.entity.File",
  4: "sysflow.event.ProcessEvent",
  5: "sysflow.flow.NetworkFlow",
  6: "sysflow.flow.FileFlow",
  7: "sysflow.event.FileEvent",
  8: "sysflow.event.NetworkEvent",
  9: "sysflow.flow.ProcessFlow",
  10: "sysflow.entity.Pod",
  11: "sysflow.event.K8sEvent"
}

/** Short type strings (`sf.type`), by record code. */
export const RecordShortName: Record<RecordCode, string> = {
  0: "H",
  1: "C",
  2: "P",
  3: "F",
  4: "PE",
  5: "NF",
  6: "FF",
  7: "FE",
  8: "NE",
  9: "PF",
  10: "PD",
  11: "KE"
}

export const ObjectStates = ["CREATED", "MODIFIED", "REUP"] as const
export type ObjectState = (typeof ObjectStates)[number]

export const ContainerTypes = [
  "CT_DOCKER",
  "CT_LXC",
  "CT_LIBVIRT_LXC",
  "CT_MESOS",
  "CT_RKT",
  "CT_CUSTOM",
  "CT_CRI",
  "CT_CONTAINERD",
  "CT_CRIO",
  "CT_BPM"
] as const
export type ContainerType = (typeof ContainerTypes)[number]

export const K8sActions = [
  "K8S_COMPONENT_ADDED",
  "K8S_COMPONENT_MODIFIED",
  "K8S_COMPONENT_DELETED",
  "K8S_COMPONENT_ERROR",
  "K8S_COMPONENT_NONEXISTENT",
  "K8S_COMPONENT_UNKNOWN"
] as const
export type K8sAction = (typeof K8sActions)[number]

export const K8sComponents = [
  "K8S_NODES",
  "K8S_NAMESPACES",
  "K8S_PODS",
  "K8S_REPLICATIONCONTROLLERS",
  "K8S_SERVICES",
  "K8S_EVENTS",
  "K8S_REPLICASETS",
  "K8S_DAEMONSETS",
  "K8S_DEPLOYMENTS",
  "K8S_UNKNOWN"
] as const
export type K8sComponent = (typeof K8sComponents)[number]

/** Process identity: host pid plus creation time (ns). */
export interface OID {
  readonly createTS: bigint
  readonly hpid: bigint
}

export interface SFHeader {
  readonly version: bigint
  readonly exporter: string
  readonly ip: string
  readonly filename: string
}

export interface Container {
  readonly id: string
  readonly name: string
  readonly image: string
  readonly imageid: string
  readonly type: ContainerType
  readonly privileged: boolean
  readonly podId: string | null
}

export interface Process {
  readonly state: ObjectState
  readonly oid: OID
  readonly poid: OID | null
  readonly ts: bigint
  /** Trimmed when stored in the entity cache (data-model.md §2.1). */
  readonly exe: string
  readonly exeArgs: string
  readonly uid: number
  readonly userName: string
  readonly gid: number
  readonly groupName: string
  readonly tty: boolean
  readonly containerId: string | null
  readonly entry: boolean
  /** The working directory (schema v5 and later; absent in older traces). */
  readonly cwd?: string
}

/**
 * FOID: SHA-1 of path + container id (20 bytes on the wire), held as its 40-character lowercase hex text:
 * a value that compares and hashes as a map key, and is what every output shows.
 */
export type FOID = string

export interface File {
  readonly state: ObjectState
  readonly oid: FOID
  readonly ts: bigint
  /** ASCII code of the sysdig fd type character. */
  readonly restype: number
  readonly path: string
  readonly containerId: string | null
}

export interface Port {
  readonly port: number
  readonly targetPort: number
  readonly nodePort: number
  readonly proto: string
}

export interface Service {
  readonly name: string
  readonly id: string
  readonly namespace: string
  readonly portList: ReadonlyArray<Port>
  readonly clusterIP: ReadonlyArray<bigint>
}

export interface Pod {
  readonly ts: bigint
  readonly id: string
  readonly name: string
  readonly nodeName: string
  readonly hostIP: ReadonlyArray<bigint>
  readonly internalIP: ReadonlyArray<bigint>
  readonly namespace: string
  readonly restartCount: bigint
  readonly labels: Readonly<Record<string, string>>
  readonly selectors: Readonly<Record<string, string>>
  readonly services: ReadonlyArray<Service>
}

export interface K8sEvent {
  readonly kind: K8sComponent
  readonly action: K8sAction
  readonly ts: bigint
  readonly message: string
}

export interface ProcessEvent {
  readonly procOID: OID
  readonly ts: bigint
  readonly tid: bigint
  readonly opFlags: number
  readonly args: ReadonlyArray<string>
  readonly ret: number
}

export interface FileEvent {
  readonly procOID: OID
  readonly ts: bigint
  readonly tid: bigint
  readonly opFlags: number
  readonly fileOID: FOID
  readonly ret: number
  readonly newFileOID: FOID | null
}

export interface NetworkEvent {
  readonly procOID: OID
  readonly ts: bigint
  readonly tid: bigint
  readonly opFlags: number
  readonly sip: number
  readonly sport: number
  readonly dip: number
  readonly dport: number
  readonly proto: number
  readonly ret: number
}

export interface FileFlow {
  readonly procOID: OID
  readonly ts: bigint
  readonly tid: bigint
  readonly opFlags: number
  readonly openFlags: number
  readonly endTs: bigint
  readonly fileOID: FOID
  readonly fd: number
  readonly numRRecvOps: bigint
  readonly numWSendOps: bigint
  readonly numRRecvBytes: bigint
  readonly numWSendBytes: bigint
}

export interface NetworkFlow {
  readonly procOID: OID
  readonly ts: bigint
  readonly tid: bigint
  readonly opFlags: number
  readonly endTs: bigint
  readonly sip: number
  readonly sport: number
  readonly dip: number
  readonly dport: number
  readonly proto: number
  readonly fd: number
  readonly numRRecvOps: bigint
  readonly numWSendOps: bigint
  readonly numRRecvBytes: bigint
  readonly numWSendBytes: bigint
}

export interface ProcessFlow {
  readonly procOID: OID
  readonly ts: bigint
  readonly numThreadsCloned: bigint
  readonly opFlags: number
  readonly endTs: bigint
  readonly numThreadsExited: bigint
  readonly numCloneErrors: bigint
}

/** One decoded SysFlow datum: the union branch, tagged with its record code. */
export type SysFlowDatum =
  | { readonly code: 0; readonly rec: SFHeader }
  | { readonly code: 1; readonly rec: Container }
  | { readonly code: 2; readonly rec: Process }
  | { readonly code: 3; readonly rec: File }
  | { readonly code: 4; readonly rec: ProcessEvent }
  | { readonly code: 5; readonly rec: NetworkFlow }
  | { readonly code: 6; readonly rec: FileFlow }
  | { readonly code: 7; readonly rec: FileEvent }
  | { readonly code: 8; readonly rec: NetworkEvent }
  | { readonly code: 9; readonly rec: ProcessFlow }
  | { readonly code: 10; readonly rec: Pod }
  | { readonly code: 11; readonly rec: K8sEvent }
