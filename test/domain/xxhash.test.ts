import { describe, expect, it } from "vitest"
import { zeroOid } from "../../src/domain/attributes.js"
import { create64, h64, h64Raw, hex16, oidHex } from "../../src/domain/xxhash.js"

describe("xxhash64", () => {
  it("process OID vectors (data-model §7, policy-language §7.2)", () => {
    expect(oidHex(1922n, 1602100326664000000n)).toBe("e45be0d56c59a390")
    expect(oidHex(10n, 900n)).toBe("f1611af57091caeb")
  })

  it("the zero pair's OID, a literal in attributes.ts because hashing is not ready at module load", () => {
    expect(zeroOid).toBe(oidHex(0n, 0n))
  })

  it("known digests of the empty input and 'abc' (seed 0)", () => {
    expect(hex16(h64(""))).toBe("ef46db3751d8e999")
    expect(hex16(h64Raw(new Uint8Array()))).toBe("ef46db3751d8e999")
    expect(hex16(h64("abc"))).toBe("44bc2cf5ad770999")
  })

  it("streaming equals one-shot", () => {
    expect(create64().update("19").update("22").digest()).toBe(h64("1922"))
  })

  it("hex16 pads to 16 digits", () => {
    expect(hex16(0xabcn)).toBe("0000000000000abc")
  })
})
