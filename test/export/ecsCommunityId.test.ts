/**
 * Community ID v1 (data-model.md §5.4, ECS `network.community_id`): seed 0, SHA-1, base64 with the `1:`
 * prefix, ordered endpoints, ICMP type/code port equivalents, ports always hashed (gommunityid).
 * The expected values are the Community ID spec's published baseline vectors where they exist; the
 * others were computed with an independent Python implementation of the spec (hashlib.sha1 over the
 * packed tuple) and pinned here.
 */
import { describe, expect, it } from "vitest"
import { communityIdV1, communityIdV1Ipv4, ipv4Bytes } from "../../src/domain/communityId.js"
import { ipInt } from "../domain/fixtures.js"

const ip = (s: string): Uint8Array => Uint8Array.from(s.split(".").map(Number))
const ipN = (s: string): number => {
  const [a, b, c, d] = s.split(".").map(Number)
  return ipInt(a, b, c, d)
}

describe("Community ID v1", () => {
  it("the spec's test vector (TCP), both directions", () => {
    expect(communityIdV1(ip("128.232.110.120"), ip("66.35.250.204"), 34855, 80, 6)).toBe("1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
    expect(communityIdV1(ip("66.35.250.204"), ip("128.232.110.120"), 80, 34855, 6)).toBe("1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
  })

  it("UDP baseline vector", () => {
    expect(communityIdV1(ip("192.168.1.52"), ip("8.8.8.8"), 54585, 53, 17)).toBe("1:d/FP5EW3wiY1vCndhwleRRKHowQ=")
  })

  it("ICMP echo request and its reply map to the same id (type 8 <-> 0)", () => {
    expect(communityIdV1(ip("192.168.0.89"), ip("192.168.0.1"), 8, 0, 1)).toBe("1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
    expect(communityIdV1(ip("192.168.0.1"), ip("192.168.0.89"), 0, 8, 1)).toBe("1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
  })

  it("ICMP without a counterpart type is one-way: endpoints keep their order", () => {
    // type 3 (destination unreachable), code 1
    const fwd = communityIdV1(ip("192.168.0.89"), ip("192.168.0.1"), 3, 1, 1)
    expect(fwd).toBe("1:LXCfhMUFbYXe+CEMrQuZCbiLY3o=")
    expect(communityIdV1(ip("192.168.0.1"), ip("192.168.0.89"), 1, 3, 1)).not.toBe(fwd)
  })

  it("ICMP ports are the low 8 bits (Go uint8 conversion)", () => {
    expect(communityIdV1(ip("192.168.0.89"), ip("192.168.0.1"), 0x108, 0x200, 1)).toBe("1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
  })

  it("protocol -1 hashes as 255 (uint8)", () => {
    const want = "1:K9fRwqwkAZxjZbVyLPlSqmDueXE="
    expect(communityIdV1(ip("10.0.0.2"), ip("10.0.0.1"), 5, 6, -1)).toBe(want)
    expect(communityIdV1(ip("10.0.0.2"), ip("10.0.0.1"), 5, 6, 255)).toBe(want)
  })

  it("equal addresses: ordered by port", () => {
    expect(communityIdV1(ip("10.0.0.1"), ip("10.0.0.1"), 9, 3, 6)).toBe("1:vvFvMTqSt+jmu4tpuIXgYvJu9xE=")
    expect(communityIdV1(ip("10.0.0.1"), ip("10.0.0.1"), 3, 9, 6)).toBe("1:vvFvMTqSt+jmu4tpuIXgYvJu9xE=")
  })

  it("a different seed gives a different id", () => {
    expect(communityIdV1(ip("128.232.110.120"), ip("66.35.250.204"), 34855, 80, 6, 1)).not.toBe("1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
  })

  it("SysFlow ints: least significant byte first (data-model §4.4)", () => {
    expect([...ipv4Bytes(16781740)]).toEqual([172, 17, 0, 1])
    expect([...ipv4Bytes(ipN("255.1.2.3"))]).toEqual([255, 1, 2, 3])
    expect(communityIdV1Ipv4(ipN("128.232.110.120"), ipN("66.35.250.204"), 34855, 80, 6)).toBe("1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
    // The httpd.sf NF of data-model §5.4 (172.17.0.1:47200 -> 172.17.0.2:80/tcp).
    expect(communityIdV1Ipv4(16781740, 33558956, 47200, 80, 6)).toBe("1:FyCYNj7ieXUf/6MVFQOoxgLvd/Q=")
  })
})
