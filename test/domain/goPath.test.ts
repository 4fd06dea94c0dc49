import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { base, clean, dir, parseSymPath } from "../../src/domain/goPath.js"

describe("Go filepath.Base", () => {
  it.each([
    ["", "."],
    ["/", "/"],
    ["///", "/"],
    ["/etc/localtime", "localtime"],
    ["/usr/bin/", "bin"],
    ["dpkg", "dpkg"],
    ["./testing_dir", "testing_dir"],
    ["pipe:[66729332]", "pipe:[66729332]"],
    ["ffff->ffff /run/lvm/lvmetad.socket", "lvmetad.socket"]
  ])("Base(%j) = %j", (p, want) => expect(base(p)).toBe(want))
})

describe("Go filepath.Clean / Dir", () => {
  it.each([
    ["", "."],
    ["/", "/"],
    ["a/b/../c", "a/c"],
    ["/a//b/../c", "/a/c"],
    ["../../x", "../../x"],
    ["/../x", "/x"],
    ["a/..", "."],
    ["./a/./b/", "a/b"],
    ["a/../../b", "../b"]
  ])("Clean(%j) = %j", (p, want) => expect(clean(p)).toBe(want))

  it.each([
    ["", "."],
    ["./x", "."],
    ["x", "."],
    ["/x", "/"],
    ["/", "/"],
    ["/etc/localtime", "/etc"],
    ["/a//b/../c", "/a"],
    ["/data/db/", "/data/db"],
    ["pipe:[66729332]", "."]
  ])("Dir(%j) = %j", (p, want) => expect(dir(p)).toBe(want))
})

describe("parseSymPath (Sscanf %x->%x %s)", () => {
  it("splits the sysdig socket form", () => {
    expect(parseSymPath("ffff9ce02054c800->ffff9ce02054c000 /var/run/x.sock")).toEqual({
      path: "/var/run/x.sock",
      symlink: "ffff9ce02054c800->ffff9ce02054c000"
    })
  })

  it("re-renders hex lowercase without leading zeros", () => {
    expect(parseSymPath("00AB->0 /s")).toEqual({ path: "/s", symlink: "ab->0" })
  })

  it("the %s token stops at whitespace; leading spaces before verbs are skipped", () => {
    expect(parseSymPath(" a->  b   /x y")).toEqual({ path: "/x", symlink: "a->b" })
  })

  it.each([
    [""],
    ["/etc/passwd"],
    ["pipe:[66729332]"],
    ["a->b"], // %s at end of input
    ["a->b "], // only spaces left for %s
    ["a -> b /x"], // literal "->" must follow the first number directly
    ["a->b/x"], // the format space needs an input space
    ["0x1->2 /x"],
    ["g->1 /x"],
    ["10000000000000000->1 /x"], // 17 hex digits overflow uint64
    ["a->b\n/x"] // newline where a space is expected
  ])("leaves %j unparsed", (raw) => expect(parseSymPath(raw)).toEqual({ path: raw, symlink: "" }))

  it("accepts a full 64-bit value", () => {
    expect(parseSymPath("ffffffffffffffff->1 /x").symlink).toBe("ffffffffffffffff->1")
  })
})

describe("clean and dir against Go's rules (random paths)", () => {
  // Go's Clean, by its documented rules: split on "/", drop "" and ".", ".." pops a name (or stays when
  // nothing can be popped: kept in a relative path, dropped at the root).
  const goClean = (p: string): string => {
    if (p === "") return "."
    const rooted = p.startsWith("/")
    const out: string[] = []
    for (const e of p.split("/")) {
      if (e === "" || e === ".") continue
      if (e === "..") {
        if (out.length > 0 && out[out.length - 1] !== "..") out.pop()
        else if (!rooted) out.push("..")
      } else out.push(e)
    }
    const s = (rooted ? "/" : "") + out.join("/")
    return s === "" ? "." : s
  }
  const goDir = (p: string): string => goClean(p.slice(0, p.lastIndexOf("/") + 1))
  const paths = fc.array(fc.constantFrom("a", "bc", ".", "..", "...", ".x", "/", "//", ""), { maxLength: 8 }).map((xs) => xs.join(""))

  it("clean and dir equal the reference on every path", () => {
    fc.assert(fc.property(paths, (p) => clean(p) === goClean(p) && dir(p) === goDir(p)), { numRuns: 20_000 })
  })
})
