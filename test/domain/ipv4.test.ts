import { describe, expect, it } from "vitest"
import { ipv4, ipv4FromLong } from "../../src/domain/ipv4.js"

describe("ipv4 (data-model §4.4)", () => {
  it("reads the int32 little-endian", () => {
    expect(ipv4(16781740)).toBe("172.17.0.1")
    expect(ipv4(33558956)).toBe("172.17.0.2")
    expect(ipv4(0)).toBe("0.0.0.0")
  })

  it("masks negative (sign-extended) values", () => {
    // 192.168.59.100: high byte 100 < 128, positive; 10.0.0.200 has high byte 200: negative as int32.
    expect(ipv4(-939524086)).toBe("10.0.0.200")
    expect(ipv4(-1)).toBe("255.255.255.255")
  })

  it("pod longs use the low 32 bits", () => {
    expect(ipv4FromLong(1681631424n)).toBe("192.168.59.100")
    expect(ipv4FromLong(3355443210n)).toBe("10.0.0.200")
    expect(ipv4FromLong(-939524086n)).toBe("10.0.0.200")
  })
})
