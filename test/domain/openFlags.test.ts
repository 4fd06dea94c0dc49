import { describe, expect, it } from "vitest"
import { isOpenRead, isOpenWrite, openFlagNames } from "../../src/domain/openFlags.js"

describe("openFlagNames (data-model §4.2)", () => {
  it("renders the spec examples", () => {
    expect(openFlagNames(0)).toEqual(["NONE"])
    expect(openFlagNames(4097)).toEqual(["RDONLY", "CLOEXEC"])
    expect(openFlagNames(3)).toEqual(["RDONLY", "WRONLY", "RDWR"])
    expect(openFlagNames(1)).toEqual(["RDONLY"])
  })

  it("uses the reference order", () => {
    expect(openFlagNames((1 << 13) - 1)).toEqual([
      "RDONLY", "WRONLY", "RDWR", "CREAT", "EXCL", "TRUNC", "APPEND", "NONBLOCK", "DSYNC", "DIRECT",
      "LARGEFILE", "DIRECTORY", "CLOEXEC", "SYNC"
    ])
    // WRONLY|CREAT|TRUNC|CLOEXEC
    expect(openFlagNames(2 | 4 | 256 | 4096)).toEqual(["WRONLY", "CREAT", "TRUNC", "CLOEXEC"])
  })

  it("isOpenRead / isOpenWrite (RDWR counts as both)", () => {
    expect([isOpenRead(0), isOpenWrite(0)]).toEqual([false, false])
    expect([isOpenRead(1), isOpenWrite(1)]).toEqual([true, false])
    expect([isOpenRead(2), isOpenWrite(2)]).toEqual([false, true])
    expect([isOpenRead(3), isOpenWrite(3)]).toEqual([true, true])
    expect([isOpenRead(4097), isOpenWrite(4097)]).toEqual([true, false])
  })
})
