/**
 * IPv4 rendering (data-model §4.4): SysFlow stores addresses as little-endian int32s, so the first octet
 * is the least significant byte. Values may be negative (sign-extended), hence masking, not shifting
 * a sign.
 */

/** Dotted quad of an Avro `int` address (`sip`, `dip`). */
export const ipv4 = (ip: number): string =>
  `${ip & 0xff}.${(ip >>> 8) & 0xff}.${(ip >>> 16) & 0xff}.${(ip >>> 24) & 0xff}`

/** Dotted quad of an Avro `long` "ipaddr" (pod and service IPs): only the low 32 bits carry the address. */
export const ipv4FromLong = (ip: bigint): string => ipv4(Number(BigInt.asIntN(32, ip)))
