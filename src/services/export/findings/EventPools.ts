/**
 * The occurrence encoder's core (data-model.md §5.6): every event joins its container's pool; a pool
 * decides when an event deserves an occurrence (first sighting of its semantic hash, or a change of the
 * pool's rule set or top severity) and when its pending events are written to their Avro file (on an
 * alert, when full, when aged; and, F4, at cleanup).
 *
 * Plain synchronous code (it runs inside `Encoder.encode`); time and logging are injected.
 */
import * as path from "node:path"
import { attributeTable, netDport, netDip, netSip, netSport, pprocPid, procPid, ts } from "../../../domain/attributes.js"
import type { FlatRecord } from "../../../domain/flatRecord.js"
import type { PolicyEvent } from "../../../domain/policyEvent.js"
import { h64 } from "../../../domain/xxhash.js"
import { EventFileWriter, envPath, exportPath, type FindingsEvent, touchEventFile } from "./EventFile.js"
import type { FindingsConfig } from "./FindingsConfig.js"
import { maxSeverity, noteIdOf, type Occurrence, type Severity, severityOfRules } from "./Occurrence.js"

/** MapStr of an `sf.*` attribute: the string the reference's encoder read (data-model §3.5). */
const mapStr = (name: string): ((r: FlatRecord) => string) => {
  const def = attributeTable.get(name)
  if (def === undefined) throw new Error(`unknown attribute ${name}`)
  return def.str
}

const sfType = mapStr("sf.type")
const opflagsStr = mapStr("sf.opflags")
const procCmdline = mapStr("sf.proc.cmdline")
const pprocCmdline = mapStr("sf.pproc.cmdline")
const procUid = mapStr("sf.proc.uid")
const procTty = mapStr("sf.proc.tty")
const fileOid = mapStr("sf.file.oid")
const filePath = mapStr("sf.file.path")
const containerId = mapStr("sf.container.id")
const containerName = mapStr("sf.container.name")
const containerType = mapStr("sf.container.type")
const nodeId = mapStr("sf.node.id")
const nodeIp = mapStr("sf.node.ip")
const tracename = mapStr("sf.meta.tracename")

const DIVISION_SLASH = "\u2215"
const ARROW = "\u2192"
const slashes = (s: string): string => s.replaceAll("/", DIVISION_SLASH)

/** FF/FE: the file path; NF: `<sip>:<sport>-<dip>:<dport>`; otherwise "". */
export const resourceOf = (r: FlatRecord): string => {
  switch (r.type) {
    case "FF":
    case "FE":
      return filePath(r)
    case "NF":
      return `${netSip(r)}:${netSport(r)}-${netDip(r)}:${netDport(r)}`
    default:
      return ""
  }
}

/** The `details` of the long description (before the `/` → `∕` replacement). */
const detailsOf = (r: FlatRecord): string => {
  switch (r.type) {
    case "PE":
      return `Process execution ${pprocCmdline(r)} ${ARROW} ${procCmdline(r)}`
    case "FE":
      return `Filesystem manipulation ${procCmdline(r)} ${ARROW} ${resourceOf(r)}`
    case "FF":
      return `File access ${procCmdline(r)} ${ARROW} ${resourceOf(r)}`
    case "NF":
      return `Network traffic ${procCmdline(r)} ${ARROW} ${resourceOf(r)}`
    default:
      return ""
  }
}

/** Context tags, then each rule's tags in rule order. */
const tagsOf = (ev: PolicyEvent): ReadonlyArray<string> =>
  ev.rules.length === 0 ? ev.tags : [...ev.tags, ...ev.rules.flatMap((r) => r.tags)]

/** xxhash64 over proc cmdline, uid, file oid, opflags and tty (the pool's "seen" key). */
export const semanticHash = (r: FlatRecord): bigint =>
  h64(procCmdline(r) + procUid(r) + fileOid(r) + opflagsStr(r) + procTty(r))

export interface PoolClock {
  /** Milliseconds since the epoch (fractions give the occurrence ids their microseconds). */
  readonly now: () => number
}

export type PoolLog = (level: "Error" | "Warn" | "Info", message: string) => void

interface PendingEvent {
  readonly event: FindingsEvent
  readonly exportPath: string
}

class EventPool {
  events: PendingEvent[] = []
  seen = new Set<bigint>()
  rules = new Set<string>()
  top: Severity = "LOW"
  /** ms; undefined until the first flush. */
  lastFlush: number | undefined = undefined
  readonly writer = new EventFileWriter()

  constructor(readonly cid: string) {}

  reset(now: number): void {
    this.events = []
    this.seen = new Set()
    this.rules = new Set()
    this.top = "LOW"
    this.lastFlush = now
  }
}

export interface PoolsSettings extends Pick<
  FindingsConfig,
  "path" | "poolCapacity" | "poolMaxAge" | "s3Prefix" | "s3Region" | "s3Bucket" | "clusterId"
> {}

/** All pools of one encoder, keyed by container id (`""` = the host). */
export class EventPools {
  private readonly pools = new Map<string, EventPool>()
  /** Unix seconds when the encoder was created: part of every file name. */
  readonly encTs: number
  private lastMicros = 0

  constructor(
    private readonly settings: PoolsSettings,
    private readonly clock: PoolClock,
    private readonly log: PoolLog = () => {}
  ) {
    this.encTs = Math.floor(clock.now() / 1000)
  }

  /** Adds an event to its pool; returns the occurrence it raises, if any. */
  add(ev: PolicyEvent): Occurrence | undefined {
    const r = ev.record
    const cid = containerId(r)
    let pool = this.pools.get(cid)
    if (pool === undefined) {
      pool = new EventPool(cid)
      this.pools.set(cid, pool)
    }

    // 1. pool state before; append; rule names and top severity.
    const rulesBefore = pool.rules.size
    const topBefore = pool.top
    const severity = severityOfRules(ev.rules)
    const tags = tagsOf(ev)
    const env = envPath(this.settings.s3Prefix, this.settings.clusterId, nodeId(r), nodeIp(r))
    const event = this.eventOf(ev, severity, tags)
    const file = exportPath(env, event.ts, cid, this.encTs)
    pool.events.push({ event, exportPath: file })
    for (const rule of ev.rules) pool.rules.add(rule.name)
    pool.top = maxSeverity(pool.top, severity)

    // 2. first sighting, or a changed pool state.
    let alert = false
    const h = semanticHash(r)
    if (!pool.seen.has(h)) {
      pool.seen.add(h)
      alert = true
    }
    if (pool.rules.size !== rulesBefore || pool.top !== topBefore) alert = true

    // 3. flush on alert, when full or aged; an aged pool also starts over.
    const now = this.clock.now()
    const full = pool.events.length >= this.settings.poolCapacity
    const aged = pool.lastFlush === undefined || now - pool.lastFlush > this.settings.poolMaxAge * 60_000
    if (alert || full || aged) {
      this.flushPool(pool, now, !aged)
      if (aged) pool.reset(now)
    }

    // 4. the occurrence.
    return alert ? this.occurrenceOf(ev, pool, severity, tags, env, file, now) : undefined
  }

  /** F4: writes every pool's pending events (at cleanup). */
  flushAll(): void {
    const now = this.clock.now()
    for (const pool of this.pools.values()) if (pool.events.length > 0) this.flushPool(pool, now, false)
  }

  /** Closes every pool's file. */
  close(): void {
    for (const pool of this.pools.values()) {
      try {
        pool.writer.close()
      } catch (e) {
        this.log("Error", `Findings: cannot close event file of pool '${pool.cid || "host"}': ${(e as Error).message}`)
      }
    }
  }

  /** Pending (not yet written) events of the pool for a container id; for tests and diagnostics. */
  pending(cid: string): number {
    return this.pools.get(cid)?.events.length ?? 0
  }

  /**
   * Appends the pool's pending events to the file of the last one (the files of the others are created,
   * empty, as the reference did). A failure is logged; with `keep` the events stay for the next flush
   * unless the pool is already at capacity (so a broken disk cannot grow memory without bound); otherwise
   * (the pool is about to be reset, or this is the final flush) they are dropped.
   */
  private flushPool(pool: EventPool, now: number, keep: boolean): void {
    const events = pool.events
    if (events.length === 0) {
      pool.lastFlush = now
      return
    }
    const last = events[events.length - 1].exportPath
    let target = last
    try {
      for (const p of new Set(events.map((e) => e.exportPath))) {
        if (p === last) continue
        target = p
        touchEventFile(path.join(this.settings.path, p))
      }
      target = last
      pool.writer.append(path.join(this.settings.path, last), events.map((e) => e.event))
      pool.events = []
      pool.lastFlush = now
    } catch (e) {
      const file = path.join(this.settings.path, target)
      const kept = keep && events.length < this.settings.poolCapacity
      if (!kept) pool.events = []
      this.log(
        "Error",
        `Findings: cannot write ${events.length} events to ${file}: ${(e as Error).message}; ${kept ? "retrying at the next flush" : "events dropped"}`
      )
    }
  }

  private eventOf(ev: PolicyEvent, severity: Severity, tags: ReadonlyArray<string>): FindingsEvent {
    const r = ev.record
    return {
      ts: ts(r),
      description: ev.rules.map((x) => x.name).join(","),
      severity,
      clusterID: this.settings.clusterId,
      nodeID: nodeId(r),
      nodeIP: nodeIp(r),
      containerID: containerId(r),
      recordType: sfType(r),
      opFlags: opflagsStr(r),
      pProcCmd: pprocCmdline(r),
      pProcPID: pprocPid(r),
      procCmd: procCmdline(r),
      procPID: procPid(r),
      Resource: resourceOf(r),
      Tags: tags.join(","),
      Trace: tracename(r)
    }
  }

  /** Microseconds since the epoch, strictly increasing within this encoder (ids stay unique). */
  private micros(now: number): number {
    const us = Math.max(Math.floor(now * 1000), this.lastMicros + 1)
    this.lastMicros = us
    return us
  }

  private occurrenceOf(
    ev: PolicyEvent,
    pool: EventPool,
    severity: Severity,
    tags: ReadonlyArray<string>,
    env: string,
    file: string,
    now: number
  ): Occurrence {
    const r = ev.record
    const names = ev.rules.map((x) => x.name)
    const envName = env.replaceAll("/", "|")
    const s = this.settings
    return {
      id: `${pool.cid}-${this.micros(now)}`,
      noteID: noteIdOf(severity),
      severity,
      certainty: "MEDIUM",
      resourceType: pool.cid === "" ? "host" : containerType(r),
      resourceName: pool.cid === "" ? `host [${envName}]` : `${pool.cid}:${containerName(r)} [${envName}]`,
      shortDescription:
        names.length === 0 ? "telemetry event" : slashes(names[0]) + (names.length > 1 ? " (+)" : ""),
      longDescription:
        `${slashes(detailsOf(r))}<br><br><b>Policies</b><br>${names.join(",")}` + `<br><br><b>Tags</b><br>${tags.join(",")}`,
      alertQuery:
        `SELECT * FROM cos://${s.s3Region}/${s.s3Bucket}/${file} STORED AS AVRO LIMIT 500 ` +
        `INTO cos://${s.s3Region}/${s.s3Bucket}/sql-query`
    }
  }
}
