// The `now` action: tags every record that matches a rule using it with the time it was processed,
// `now_in_nanos:<unix time in ns>` (the reference's example action, as an ES module).
export const Action = {
  getName: () => "now",
  getFunc: () => (ctx) => {
    ctx.tags.push(`now_in_nanos:${process.hrtime.bigint() - hrtimeAtLoad + unixNanosAtLoad}`)
  }
}

// hrtime is monotonic; anchor it to the wall clock once so successive tags never go backwards.
const hrtimeAtLoad = process.hrtime.bigint()
const unixNanosAtLoad = BigInt(Date.now()) * 1_000_000n
