// The physical floor: decode every datum of a trace file, or of every file of a directory in name
// order, with avsc alone (its own OCF reader, deflate, the same bigint long type), doing nothing with
// them. Prints the datum count.
import avro from "avsc"
import * as fs from "node:fs"
import * as path from "node:path"
import { BigIntLong } from "../dist/services/avro/BigIntLong.js"
import { stripLogicalTypes } from "../dist/services/avro/CompiledReader.js"

const input = process.argv[2]
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
console.log(count)
