import { describe, expect, it } from "vitest"
import { evtTypes, OpFlag, opFlagNames, opFlagsStr } from "../../src/domain/opFlags.js"

describe("opFlagNames (data-model §4.1)", () => {
  it("renders the spec examples", () => {
    expect(opFlagNames(1408, "FF")).toEqual(["OPEN", "CLOSE", "READ"])
    expect(opFlagNames(5920, "NF")).toEqual(["ACCEPT", "CLOSE", "SEND", "RECV", "SHUTDOWN"])
    expect(opFlagNames(0, "KE")).toEqual([])
    expect(opFlagNames(2, "PE")).toEqual(["EXEC"])
  })

  it("uses the list order, not the bit order", () => {
    const all = (1 << 21) - 1
    expect(opFlagNames(all, "FF")).toEqual([
      "MKDIR", "RMDIR", "LINK", "SYMLINK", "UNLINK", "RENAME", "CLONE", "EXEC", "EXIT", "SETUID", "OPEN",
      "ACCEPT", "CONNECT", "CLOSE", "WRITE", "READ", "SETNS", "MMAP", "SHUTDOWN", "TRUNCATE", "DIGEST"
    ])
  })

  it("never renders PTRACE", () => {
    expect(opFlagNames(OpFlag.PTRACE, "PE")).toEqual([])
  })

  it("Q11: WRITE/SEND depends on the record type, whatever rendered the value first", () => {
    // 1280 = READ_RECV | CLOSE; the reference printed ["CLOSE","RECV"] for FFs after an NF.
    expect(opFlagNames(1280, "NF")).toEqual(["CLOSE", "RECV"])
    expect(opFlagNames(1280, "FF")).toEqual(["CLOSE", "READ"])
    expect(opFlagNames(1280, "NF")).toEqual(["CLOSE", "RECV"])
    expect(opFlagNames(512, "FE")).toEqual(["WRITE"])
    expect(opFlagNames(512, "NF")).toEqual(["SEND"])
  })

  it("joins with commas for policies", () => {
    expect(opFlagsStr(1408, "FF")).toBe("OPEN,CLOSE,READ")
    expect(opFlagsStr(1408, "NF")).toBe("OPEN,CLOSE,RECV")
    expect(opFlagsStr(0, "PE")).toBe("")
  })
})

describe("evtTypes", () => {
  it("gives Falco names; TRUNCATE and DIGEST have none", () => {
    expect(evtTypes(2, "PE")).toEqual(["execve"])
    expect(evtTypes(OpFlag.OPEN | OpFlag.READ_RECV | OpFlag.TRUNCATE | OpFlag.DIGEST, "FF")).toEqual(["open", "read"])
    expect(evtTypes(OpFlag.CONNECT | OpFlag.WRITE_SEND | OpFlag.READ_RECV, "NF")).toEqual(["connect", "send", "recv"])
    expect(evtTypes(OpFlag.RENAME | OpFlag.SYMLINK, "FE")).toEqual(["symlink", "rename"])
  })
})
