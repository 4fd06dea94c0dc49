// The `printer` handler plugin for sysflowreader: logs one line per network flow, file flow, file event
// and process event, with the process's executable (as the reference's printer handler). No outputs.

let logger = { info: (...m) => console.log(...m) }

const exe = (ctx) => ctx.process?.exe ?? ""

export const Handler = {
  registerHandler(hc) {
    logger = hc.logger
  },
  init(_conf) {},
  isEntityEnabled: () => false,
  setOutChan(_outs) {},
  cleanup() {},
  handleNetFlow: (ctx, nf) => logger.info(`NetworkFlow ${exe(ctx)}, ${nf.dport}`),
  handleFileFlow: (ctx, ff) => logger.info(`FileFlow ${exe(ctx)}, ${ff.fd}`),
  handleFileEvt: (ctx, fe) => logger.info(`FileEvt ${exe(ctx)}, ${fe.tid}`),
  handleProcEvt: (ctx, pe) => logger.info(`ProcEvt ${exe(ctx)}, ${pe.tid}`)
}
