/**
 * V8's allocation-site pretenuring, off for live streams. Once most objects of an allocation site (an
 * object literal in optimised code) have survived two scavenges, V8 allocates that site's later objects
 * straight into the old generation, where only a full collection frees them. On the socket driver's stream
 * that is wrong: records live a few milliseconds, yet the decoder's and flattener's sites got pretenured,
 * and every record after that was garbage in the old generation. Flat out (`npm run bench:live`, 1 M
 * datums) with pretenuring: 13 full collections, 145–160k datums/s, 8.8–10.0 µs of CPU per datum, peak RSS
 * 205–215 MiB; without: 5, 175–177k, 7.5–7.9 µs, 173–184 MiB; paced at 100k datums/s the collector's sends
 * over 10 ms went from 6–7 to 1–2 (docs/performance.md, item 19).
 *
 * Trace files gain nothing from it (runtimeintegrity → file, turned off as the file driver starts: 0.94–1.03×
 * the wall time in pairs; off from the process's start, 7% slower and 19 MiB more), so only the socket
 * driver turns it off, when it starts listening, before any record arrives: the flag is the process's (V8
 * reads it at each scavenge). A value given on node's command line wins.
 */
import * as v8 from "node:v8"

const FLAG = "allocation-site-pretenuring"

/** Turns V8's allocation-site pretenuring off for the rest of the process (unless node's command line set it). */
export const stopPretenuring = (): void => {
  if (process.execArgv.some((a) => a.replace(/_/g, "-").endsWith(FLAG))) return
  v8.setFlagsFromString(`--no-${FLAG}`)
}
