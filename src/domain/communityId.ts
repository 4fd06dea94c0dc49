/**
 * Community ID flow hashing, version 1 (https://github.com/corelight/community-id-spec), as the reference
 * computes it for ECS `network.community_id` (data-model.md §5.4; Go `satta/gommunityid`):
 *
 *   "1:" + base64(SHA-1(seed (u16 BE) ‖ src addr ‖ dst addr ‖ proto (u8) ‖ 0 ‖ src port (u16 BE) ‖ dst port (u16 BE)))
 *
 * with the endpoints in order (the smaller address first; on equal addresses the smaller port first)
 * unless the flow is one-way, and ICMP/ICMPv6 type/code mapped to port equivalents. As in gommunityid,
 * the two ports are always hashed, whatever the protocol (the spec's Python reference omits them for
 * protocols without ports). Plain functions, no Effect.
 */
import { createHash } from "node:crypto"

export const ProtoICMP = 1
export const ProtoTCP = 6
export const ProtoUDP = 17
export const ProtoICMP6 = 58
export const ProtoSCTP = 132

// ICMP message types whose counterpart is known (request <-> reply): such flows are two-way.
const icmp4Pairs: ReadonlyMap<number, number> = new Map([
  [8, 0], // echo request -> echo reply
  [0, 8],
  [13, 14], // timestamp
  [14, 13],
  [15, 16], // information
  [16, 15],
  [10, 9], // router solicitation -> advertisement
  [9, 10],
  [17, 18], // address mask
  [18, 17]
])

const icmp6Pairs: ReadonlyMap<number, number> = new Map([
  [128, 129], // echo request -> echo reply
  [129, 128],
  [133, 134], // router solicitation -> advertisement
  [134, 133],
  [135, 136], // neighbour solicitation -> advertisement
  [136, 135],
  [130, 131], // MLDv1 query -> report
  [131, 130],
  [144, 145], // home agent address discovery
  [145, 144]
])

/** Negative when `a` sorts before `b` (bytewise, shorter first on a common prefix). */
const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i]
  }
  return a.length - b.length
}

/**
 * The Community ID v1 of a flow. `src`/`dst` are the address bytes in network order (4 for IPv4, 16 for
 * IPv6); ports are truncated to 16 bits and the protocol to 8 bits like the Go conversions `uint16(p)`
 * and `uint8(proto)` (so protocol −1 hashes as 255). For ICMP (1) and ICMPv6 (58) the ports carry the
 * message type and code (their low 8 bits).
 */
export const communityIdV1 = (
  src: Uint8Array,
  dst: Uint8Array,
  sport: number,
  dport: number,
  proto: number,
  seed = 0
): string => {
  const p = proto & 0xff
  let sp = sport & 0xffff
  let dp = dport & 0xffff
  let oneWay = false
  const pairs = p === ProtoICMP ? icmp4Pairs : p === ProtoICMP6 ? icmp6Pairs : undefined
  if (pairs !== undefined) {
    sp &= 0xff
    dp &= 0xff
    const counterpart = pairs.get(sp)
    if (counterpart === undefined) oneWay = true
    else dp = counterpart
  }
  let a = src
  let b = dst
  if (!oneWay) {
    const c = compareBytes(src, dst)
    if (c > 0 || (c === 0 && sp > dp)) {
      a = dst
      b = src
      const t = sp
      sp = dp
      dp = t
    }
  }
  const buf = Buffer.allocUnsafe(2 + a.length + b.length + 6)
  let o = buf.writeUInt16BE(seed & 0xffff, 0)
  buf.set(a, o)
  o += a.length
  buf.set(b, o)
  o += b.length
  buf[o++] = p
  buf[o++] = 0
  o = buf.writeUInt16BE(sp, o)
  buf.writeUInt16BE(dp, o)
  return "1:" + createHash("sha1").update(buf).digest("base64")
}

/** The 4 address bytes of a SysFlow IPv4 int (first octet in the least significant byte, data-model §4.4). */
export const ipv4Bytes = (ip: number): Uint8Array =>
  Uint8Array.of(ip & 0xff, (ip >>> 8) & 0xff, (ip >>> 16) & 0xff, (ip >>> 24) & 0xff)

/** Community ID v1 of an IPv4 flow given as SysFlow ints (`sip`, `dip` as stored in a NetworkFlow). */
export const communityIdV1Ipv4 = (sip: number, dip: number, sport: number, dport: number, proto: number, seed = 0): string =>
  communityIdV1(ipv4Bytes(sip), ipv4Bytes(dip), sport, dport, proto, seed)
