/**
 * The occurrence encoder's event files (data-model.md §5.6): Avro `event.Event` records in snappy Object
 * Container Files under `<findings.path>/<env path>/<Y>/<M>/<D>/<containerID or host>_<encTs>.avro`,
 * appended to across flushes and runs (an existing file keeps its header and sync marker).
 */
import avro from "avsc"
import * as fs from "node:fs"
import * as path from "node:path"
import { BigIntLong } from "../../avro/BigIntLong.js"
import { type ByteSink, type DatumEncoder, OcfWriter, readOcfHeader, syncMarker } from "../../avro/OcfWriter.js"

/** One `event.Event` (field names as the schema spells them). */
export interface FindingsEvent {
  readonly ts: bigint
  readonly description: string
  readonly severity: string
  readonly clusterID: string
  readonly nodeID: string
  readonly nodeIP: string
  readonly containerID: string
  readonly recordType: string
  readonly opFlags: string
  readonly pProcCmd: string
  readonly pProcPID: bigint
  readonly procCmd: string
  readonly procPID: bigint
  readonly Resource: string
  readonly Tags: string
  readonly Trace: string
}

const str = (name: string) => ({ name, type: "string" })
const long = (name: string) => ({ name, type: "long" })

export const EVENT_SCHEMA = {
  type: "record",
  name: "Event",
  namespace: "event",
  fields: [
    long("ts"),
    str("description"),
    str("severity"),
    str("clusterID"),
    str("nodeID"),
    str("nodeIP"),
    str("containerID"),
    str("recordType"),
    str("opFlags"),
    str("pProcCmd"),
    long("pProcPID"),
    str("procCmd"),
    long("procPID"),
    str("Resource"),
    str("Tags"),
    str("Trace")
  ]
} as const

export const eventType = (): avro.Type =>
  avro.Type.forSchema(EVENT_SCHEMA as unknown as avro.Schema, { registry: { long: BigIntLong } })

const eventEncoder: DatumEncoder<FindingsEvent> = eventType()

/**
 * The env path: `findings.s3prefix`, `cluster.id`, node id, node ip joined with `/`, outermost first,
 * each skipped when empty; the ip also when `NA`; the id also when `NA` or equal to the ip.
 */
export const envPath = (s3prefix: string, clusterId: string, nodeId: string, nodeIp: string): string => {
  const parts: string[] = []
  if (s3prefix !== "") parts.push(s3prefix)
  if (clusterId !== "") parts.push(clusterId)
  if (nodeId !== "" && nodeId !== "NA" && nodeId !== nodeIp) parts.push(safeSegment(nodeId))
  if (nodeIp !== "" && nodeIp !== "NA") parts.push(safeSegment(nodeIp))
  return parts.join("/")
}

/**
 * A value from the input (node id or ip, container id) as one path segment: separators and NULs become
 * `_`, and `.`/`..` cannot climb out of `findings.path`.
 */
export const safeSegment = (s: string): string => {
  const v = s.replace(/[/\\\0]/g, "_")
  return v === "." || v === ".." ? v.replace(/\./g, "_") : v
}

/** `<env>/<Y>/<M>/<D>/<containerID or host>_<encTs>.avro`: the date of `ts` (ns) in local time, not padded. */
export const exportPath = (env: string, ts: bigint, containerId: string, encTs: number): string => {
  const d = new Date(Number(ts / 1_000_000n))
  const file = `${containerId === "" ? "host" : safeSegment(containerId)}_${encTs}.avro`
  const rel = `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()}/${file}`
  return env === "" ? rel : `${env}/${rel}`
}

/** An append-mode file that can be synced. */
class SyncedFile implements ByteSink {
  private readonly fd: number
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "a", 0o644)
  }
  write(chunk: Uint8Array): void {
    let off = 0
    while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off)
  }
  sync(): void {
    fs.fsyncSync(this.fd)
  }
  size(): number {
    return fs.fstatSync(this.fd).size
  }
  /** Cuts a partly written block off again. */
  truncate(size: number): void {
    fs.ftruncateSync(this.fd, size)
  }
  close(): void {
    fs.closeSync(this.fd)
  }
}

const sameSchema = (schema: unknown): boolean => {
  const s = schema as { name?: unknown; namespace?: unknown }
  return typeof s === "object" && s !== null && (s.name === "event.Event" || (s.name === "Event" && s.namespace === "event"))
}

/** Opens (creating directories 0755 and the file 0644) for appending; an empty file gets a header. */
const openEventFile = (file: string): { readonly writer: OcfWriter<FindingsEvent>; readonly sink: SyncedFile } => {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 })
  const existing = fs.existsSync(file) ? fs.statSync(file).size : 0
  const header = existing > 0 ? readOcfHeader(file) : undefined
  if (header !== undefined && !sameSchema(header.schema)) throw new Error(`${file} is an Avro file of another schema`)
  const sink = new SyncedFile(file)
  try {
    const writer =
      header === undefined
        ? OcfWriter.create(sink, eventEncoder, { schema: EVENT_SCHEMA, codec: "snappy", sync: syncMarker() }, { blockSize: 100_000 })
        : new OcfWriter(sink, eventEncoder, header.codec, header.sync, 100_000)
    return { writer, sink }
  } catch (e) {
    sink.close()
    throw e
  }
}

/** Creates `file` (and its directories) if missing, without writing to it. */
export const touchEventFile = (file: string): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 })
  fs.closeSync(fs.openSync(file, "a", 0o644))
}

/** The writer a pool keeps: re-opened when the flush goes to another file. */
export class EventFileWriter {
  private current: { readonly file: string; readonly writer: OcfWriter<FindingsEvent>; readonly sink: SyncedFile } | undefined

  /** The file written last (undefined before the first write or after close). */
  get file(): string | undefined {
    return this.current?.file
  }

  /**
   * Appends `events` to `file` as one block, then syncs the file. On a failure the file is cut back to
   * its previous size (no partial block stays behind) and closed; the next append re-opens it.
   */
  append(file: string, events: ReadonlyArray<FindingsEvent>): void {
    if (this.current?.file !== file) {
      this.close()
      this.current = { file, ...openEventFile(file) }
    }
    const { writer, sink } = this.current
    const before = sink.size()
    try {
      for (const e of events) writer.write(e)
      writer.flush()
      sink.sync()
    } catch (e) {
      this.current = undefined
      try {
        sink.truncate(before)
      } catch {
        // the original error is the one to report
      }
      try {
        sink.close()
      } catch {
        // idem
      }
      throw e
    }
  }

  close(): void {
    const c = this.current
    this.current = undefined
    c?.writer.close()
  }
}
