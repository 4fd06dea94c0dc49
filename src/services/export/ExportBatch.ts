/**
 * Encoded records on their way to a transport: one document per record, in order. The JSON encoder
 * writes bytes (`text`): the file and terminal transports write them as they are, and the documents are
 * decoded to strings only for transports that frame each one (syslog, Elasticsearch).
 */

import type { PolicyEvent } from "../../domain/policyEvent.js"

/** JSON lines as UTF-8: every document followed by "\n". */
export interface JsonLinesText {
  readonly bytes: Uint8Array
  /** Offset just past each document's "\n" (so document i spans `ends[i-1]` to `ends[i] - 1`). */
  readonly ends: Uint32Array
}

export interface ExportBatch {
  /** The documents (JSON text, no trailing newline). */
  readonly lines: ReadonlyArray<string>
  /** Per-document ids (the ECS `_id`), when the format defines them; one per document. */
  readonly ids?: ReadonlyArray<string>
  /** The same documents as bytes, when the encoder wrote bytes. */
  readonly text?: JsonLinesText
  /** The events the documents were encoded from, one per document, for transports that ask (`Transport.wantsRecords`). */
  readonly records?: ReadonlyArray<PolicyEvent>
}

/** A batch held as bytes; its `lines` are decoded on first use. */
export class TextBatch implements ExportBatch {
  private decoded: ReadonlyArray<string> | undefined

  constructor(
    readonly text: JsonLinesText,
    readonly ids?: ReadonlyArray<string>,
    readonly records?: ReadonlyArray<PolicyEvent>
  ) {}

  get lines(): ReadonlyArray<string> {
    if (this.decoded === undefined) {
      const { bytes, ends } = this.text
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
      const lines = new Array<string>(ends.length)
      for (let i = 0, start = 0; i < ends.length; start = ends[i++]) lines[i] = buf.toString("utf8", start, ends[i] - 1)
      this.decoded = lines
    }
    return this.decoded
  }
}

/** Documents in a batch. */
export const batchSize = (b: ExportBatch): number => (b.text !== undefined ? b.text.ends.length : b.lines.length)

/** The batch as JSON lines, each document followed by "\n" (bytes when the encoder wrote bytes). */
export const jsonLinesOf = (b: ExportBatch): Uint8Array | string =>
  b.text !== undefined ? b.text.bytes : b.lines.length === 0 ? "" : b.lines.join("\n") + "\n"

/** The batch as JSON lines with each document's end offset (line batches are encoded here). */
export const textOf = (b: ExportBatch): JsonLinesText => {
  if (b.text !== undefined) return b.text
  const ends = new Uint32Array(b.lines.length)
  let at = 0
  for (let i = 0; i < b.lines.length; i++) ends[i] = at += Buffer.byteLength(b.lines[i]) + 1
  return { bytes: Buffer.from(jsonLinesOf(b) as string), ends }
}

/** Bytes the batch holds (a line batch's characters, close enough for a memory bound). */
export const bytesOf = (b: ExportBatch): number => {
  if (b.text !== undefined) return b.text.bytes.length
  let n = 0
  for (const l of b.lines) n += l.length + 1
  return n
}

/** Documents `start` to `end` (exclusive) of a batch. */
export const sliceBatch = (b: ExportBatch, start: number, end: number): ExportBatch => {
  const ids = b.ids?.slice(start, end)
  const records = b.records?.slice(start, end)
  if (b.text === undefined) return { lines: b.lines.slice(start, end), ids, records }
  const { bytes, ends } = b.text
  const from = start === 0 ? 0 : ends[start - 1]
  const to = end === 0 ? 0 : ends[end - 1]
  const shifted = ends.slice(start, end)
  for (let i = 0; i < shifted.length; i++) shifted[i] -= from
  return new TextBatch({ bytes: bytes.subarray(from, to), ends: shifted }, ids, records)
}

/**
 * One batch of all the documents of `bs`, in order (ids kept when every batch has them). Byte batches
 * are copied into a block from `alloc` (a pool's, so joining does not allocate per batch).
 */
export const concatBatches = (bs: ReadonlyArray<ExportBatch>, alloc: (n: number) => Uint8Array = Buffer.allocUnsafe): ExportBatch => {
  if (bs.length === 1) return bs[0]
  const ids = bs.every((b) => b.ids !== undefined) ? bs.flatMap((b) => b.ids!) : undefined
  const records = bs.every((b) => b.records !== undefined) ? bs.flatMap((b) => b.records!) : undefined
  if (!bs.every((b) => b.text !== undefined)) return { lines: bs.flatMap((b) => b.lines), ids, records }
  const texts = bs.map((b) => b.text!)
  const ends = new Uint32Array(texts.reduce((n, t) => n + t.ends.length, 0))
  const bytes = alloc(texts.reduce((n, t) => n + t.bytes.length, 0))
  let at = 0
  let offset = 0
  for (const t of texts) {
    for (let i = 0; i < t.ends.length; i++) ends[at++] = t.ends[i] + offset
    bytes.set(t.bytes, offset)
    offset += t.bytes.length
  }
  return new TextBatch({ bytes, ends }, ids, records)
}

/** The same documents with the events they were encoded from. */
export const withRecords = (b: ExportBatch, records: ReadonlyArray<PolicyEvent>): ExportBatch =>
  b.text !== undefined ? new TextBatch(b.text, b.ids, records) : { lines: b.lines, ids: b.ids, records }
