// The physical floor: decode every datum of a trace file with avsc alone (its own OCF reader, deflate,
// the same bigint long type), doing nothing with them. Prints the datum count.
import avro from "avsc"
import { BigIntLong } from "../dist/services/avro/BigIntLong.js"

const file = process.argv[2]
let count = 0
avro
  .createFileDecoder(file, {
    parseHook: (schema) => avro.Type.forSchema(schema, { registry: { long: BigIntLong }, wrapUnions: "auto" })
  })
  .on("data", () => count++)
  .on("end", () => console.log(count))
