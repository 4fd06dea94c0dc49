/**
 * The reference's outputs for the shared traces (../shared/golden), and our documented fixes applied to
 * them so that they can be compared byte for byte with ours: D1/Q13 (true flow counters), D2 (FE
 * file.fd 0), D4 (no trailing space in proc.cmdline), D8 ("" for an uncached parent), D11/Q11
 * (READ/WRITE for files, RECV/SEND for network), Y8 (a multi-line plain desc is folded by YAML: a line
 * break and the next line's indentation become one space).
 */
import * as fs from "node:fs"
import * as zlib from "node:zlib"
import { sharedPath } from "./shared.js"

export const goldenLines = (name: string): string[] =>
  zlib
    .gunzipSync(fs.readFileSync(sharedPath("golden", name)))
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "")

const fileOps: Record<string, string> = { RECV: "READ", SEND: "WRITE" }
const netOps: Record<string, string> = { READ: "RECV", WRITE: "SEND" }

/** The reference's line with our fixes applied. */
export const applyFixes = (line: string): string => {
  const type = /"type":"(PE|FF|FE|NF|KE)"/.exec(line)![1]
  let out = line
    .replace(/"flow":\{"rbytes":(\d+),"rops":(\d+),"wbytes":(\d+),"wops":(\d+)\}/, (_m, rb, ro, wb, wo) =>
      `"flow":{"rbytes":${BigInt(rb) / 2n},"rops":${BigInt(ro) / 2n},"wbytes":${BigInt(wb) / 2n},"wops":${BigInt(wo) / 2n}}`)
    .replace(/"cmdline":"((?:[^"\\]|\\.)*) ","createts"/, '"cmdline":"$1","createts"')
    .replaceAll('"\\"\\""', '""')
    .replace(/"desc":"((?:[^"\\]|\\.)*)"/g, (_m, desc: string) => `"desc":"${desc.replace(/\\n */g, " ")}"`)
  const ops = type === "NF" ? netOps : type === "FF" ? fileOps : undefined
  if (ops !== undefined) {
    out = out.replace(/^(\{"version":\d+,"endts":-?\d+,"opflags":\[)([^\]]*)\]/, (_m, head, list: string) =>
      head + list.replace(/"([A-Z]+)"/g, (_n, f: string) => `"${ops[f] ?? f}"`) + "]")
  }
  if (type === "FE") out = out.replace(/("file":\{"directory":"(?:[^"\\]|\\.)*","fd":)\d+/, "$10")
  return out
}

