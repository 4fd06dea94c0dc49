/**
 * The ECS document id (data-model.md §5.4): the Elasticsearch `_id` of a record's document (`es` bulk
 * action `create`), never serialised in the document. 16 lowercase hex digits of the xxHash64 (seed 0,
 * big-endian digest) of, in order:
 *
 * 1. `sf.node.id` bytes, `sf.container.id` bytes (UTF-8, as the attributes render them);
 * 2. little-endian int64: ts, tid, the process's createTS, opflags (0 where the record type has none);
 * 3. FF/FE: the file OID hex string (`sf.file.oid`, `""` without a file);
 *    NF: little-endian int64 sip, sport, dip, dport, proto (sign-extended int32s);
 *    KE: little-endian int64 action, kind (their enum ordinals), then the message bytes (`sf.ke.message`);
 *    PE: nothing more.
 */
import * as A from "../../../../domain/attributes.js"
import type { FlatRecord } from "../../../../domain/flatRecord.js"
import { K8sActions, K8sComponents } from "../../../../domain/sysflow.js"
import { h64Raw, hex16 } from "../../../../domain/xxhash.js"

// One scratch buffer, grown on demand (single-threaded; the hash reads it before the next call).
let buf = new Uint8Array(1024)
let view = new DataView(buf.buffer)
const utf8 = new TextEncoder()

const ensure = (n: number): void => {
  if (n <= buf.length) return
  let size = buf.length
  while (size < n) size *= 2
  const next = new Uint8Array(size)
  next.set(buf)
  buf = next
  view = new DataView(buf.buffer)
}

/** Writes a string's UTF-8 bytes at `o`; returns the new offset. */
const putString = (o: number, s: string): number => {
  if (s.length === 0) return o
  ensure(o + s.length * 3)
  return o + utf8.encodeInto(s, buf.subarray(o)).written
}

const putInt64 = (o: number, v: bigint): number => {
  ensure(o + 8)
  view.setBigInt64(o, v, true)
  return o + 8
}

/** A sign-extended int32 (or any safe integer) as a little-endian int64. */
const putInt = (o: number, v: number): number => {
  ensure(o + 8)
  view.setInt32(o, v | 0, true)
  view.setInt32(o + 4, v < 0 ? -1 : 0, true)
  return o + 8
}

export const ecsDocumentId = (r: FlatRecord): string => {
  let o = putString(0, A.nodeId(r))
  o = putString(o, A.containerId(r))
  o = putInt64(o, r.event.ts)
  o = putInt64(o, A.procTid(r))
  o = putInt64(o, A.procCreatets(r))
  switch (r.type) {
    case "PE":
      o = putInt(o, r.event.opFlags)
      break
    case "FF":
    case "FE":
      o = putInt(o, r.event.opFlags)
      o = putString(o, A.fileOid(r))
      break
    case "NF": {
      const e = r.event
      o = putInt(o, e.opFlags)
      o = putInt(o, e.sip)
      o = putInt(o, e.sport)
      o = putInt(o, e.dip)
      o = putInt(o, e.dport)
      o = putInt(o, e.proto)
      break
    }
    case "KE":
      o = putInt(o, 0) // no opflags
      o = putInt(o, K8sActions.indexOf(r.event.action))
      o = putInt(o, K8sComponents.indexOf(r.event.kind))
      o = putString(o, A.keMessage(r))
      break
  }
  return hex16(h64Raw(buf.subarray(0, o)))
}
