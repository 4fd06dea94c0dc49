/**
 * The flattener's rate filter (data-model.md §3.4; `filter.enabled: on`, `filter.maxage` seconds,
 * default 24 h): an event or flow is dropped when a record with the same semantic hash was first seen
 * less than `maxage` ago. Seeing it again does not extend that time; first sightings expire in order.
 *
 * Semantic hash: xxHash64 over exe, exeArgs, then little-endian int64 uid, gid, opFlags, tty; then
 * for NF sip, dip, dport, proto; for FF/FE the file path. No pid, no timestamps.
 */
import type { FlatRecord } from "../../domain/flatRecord.js"
import { create64 } from "../../domain/xxhash.js"

const scratch = new DataView(new ArrayBuffer(8))
const bytes = new Uint8Array(scratch.buffer)
const encoder = new TextEncoder()

const semanticHash = (r: FlatRecord): bigint => {
  const h = create64()
  const int64 = (v: number | bigint) => {
    scratch.setBigInt64(0, BigInt.asIntN(64, BigInt(v)), true)
    h.update(bytes)
  }
  const p = r.process
  h.update(encoder.encode(p?.exe ?? ""))
  h.update(encoder.encode(p?.exeArgs ?? ""))
  int64(p?.uid ?? 0)
  int64(p?.gid ?? 0)
  int64(r.type === "KE" ? 0 : r.event.opFlags)
  int64(p?.tty === true ? 1 : 0)
  if (r.type === "NF") {
    int64(r.event.sip)
    int64(r.event.dip)
    int64(r.event.dport)
    int64(r.event.proto)
  } else if (r.type === "FF" || r.type === "FE") {
    h.update(encoder.encode(r.file?.path ?? ""))
  }
  return h.digest()
}

/**
 * A filter predicate (true = keep) over records. `now` reads the time in milliseconds: the reader passes
 * its runtime's Clock (a plain call per record, no Effect), tests a TestClock or a variable.
 */
export const makeRateFilter = (maxAgeMs: number, now: () => number): ((r: FlatRecord) => boolean) => {
  const firstSeen = new Map<bigint, number>()
  const order: Array<{ hash: bigint; at: number }> = []
  let head = 0
  return (r) => {
    const t = now()
    // Expire first sightings older than maxage, oldest first.
    while (head < order.length && t - order[head].at >= maxAgeMs) {
      firstSeen.delete(order[head].hash)
      head++
    }
    if (head > 4096 && head * 2 > order.length) {
      order.splice(0, head)
      head = 0
    }
    const hash = semanticHash(r)
    if (firstSeen.has(hash)) return false
    firstSeen.set(hash, t)
    order.push({ hash, at: t })
    return true
  }
}
