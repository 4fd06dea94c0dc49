// The physical floor: decode every datum of a trace file, or of every file of a directory in name
// order, with avsc alone (its own OCF reader, deflate, the same bigint long type), doing nothing with
// them. Run as a script, it prints the datum count; bench/policy-engine.js times `decodeFloor` in its own
// process, beside the policy engine.
import avro from "avsc"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { BigIntLong } from "../dist/services/avro/BigIntLong.js"
import { stripLogicalTypes } from "../dist/services/avro/CompiledReader.js"

/** Decodes every datum of `input` (a file or a directory); resolves to the datum count. */
export const decodeFloor = async (input) => {
  const files = fs.statSync(input).isDirectory() ? fs.readdirSync(input).sort().map((n) => path.join(input, n)) : [input]
  // Old traces annotate nanosecond longs as timestamp-millis: logical types are stripped, as sfprocessor does.
  let count = 0
  for (const file of files) {
    await new Promise((resolve, reject) =>
      avro
        .createFileDecoder(file, { parseHook: (schema) => avro.Type.forSchema(stripLogicalTypes(schema), { registry: { long: BigIntLong }, wrapUnions: "auto" }) })
        .on("data", () => count++)
        .on("error", reject)
        .on("end", resolve)
    )
  }
  return count
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await decodeFloor(process.argv[2]))
