// The `example` processor plugin: reads flat records and logs every process event, as the reference's
// example plugin does (`[Info] ... example: Process Event: <exe>, <tid>`). A sink: it has no outputs.

/** @typedef {import("sfprocessor").Processor} Processor */
/** @typedef {import("sfprocessor").FlatRecord} FlatRecord */

let logger

/** @implements {Processor} */
class Example {
  getName() {
    return "example"
  }

  init(_conf) {}

  setOutChan(outs) {
    this.outs = outs
  }

  async process(ins) {
    for (const channel of ins) {
      // Whole chunks: cheaper than one `await` per record.
      for (let chunk = await channel.drain(); chunk !== undefined; chunk = await channel.drain()) {
        for (const /** @type {FlatRecord} */ record of chunk) {
          if (record.type === "PE") logger.info(`Process Event: ${record.process?.exe ?? ""}, ${record.event.tid}`)
        }
      }
    }
  }

  async cleanup() {
    for (const out of this.outs ?? []) await out.close()
  }
}

export const Plugin = {
  register(pc) {
    logger = pc.logger
    pc.addProcessor("example", () => new Example())
  }
}
