/**
 * Hand-built flat records and compile helpers for the policy tests.
 *
 * The default records follow policy-language.md §9: a python process (`/usr/bin/python cos-write.py x`,
 * parent `/bin/bash`) in container `node-app`, `sf.ts = 1000`: an exec (PE), a file write (FF) and a
 * connect (NF); plus FE and KE records for type-specific tests.
 */
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import { expect } from "vitest"
import { type FlatRecord, makeFlatRecord } from "../../src/domain/flatRecord.js"
import { OpFlag } from "../../src/domain/opFlags.js"
import { type PolicyError, renderDiagnostic } from "../../src/domain/policy/Diagnostic.js"
import type { Container, File, K8sEvent, Pod, Process, SFHeader } from "../../src/domain/sysflow.js"
import { compilePolicies, type CompiledPolicySet, type CompileOptions, evaluate, listPolicyFiles } from "../../src/services/policy/PolicySet.js"

/** Operation bits, under the short name the policy tests use. */
export const OP = OpFlag

export const header: SFHeader = { version: 4n, exporter: "node1", ip: "10.0.0.1", filename: "/mnt/trace.sf" }

export interface ProcInit extends Partial<Omit<Process, "oid" | "poid">> {
  readonly pid?: bigint
  readonly createTS?: bigint
  readonly parent?: Process
}

export const proc = (o: ProcInit = {}): Process => {
  const { pid, createTS, parent, ...rest } = o
  return {
    state: "CREATED",
    oid: { hpid: pid ?? 100n, createTS: createTS ?? 900n },
    poid: parent === undefined ? null : parent.oid,
    ts: 0n,
    exe: "/usr/bin/python",
    exeArgs: "cos-write.py x",
    uid: 1000,
    userName: "app",
    gid: 1000,
    groupName: "app",
    tty: false,
    containerId: "c0ffee",
    entry: false,
    ...rest
  }
}

export const bash = proc({ pid: 10n, createTS: 500n, exe: "/bin/bash", exeArgs: "", userName: "root", uid: 0, gid: 0 })
export const python = proc({ parent: bash })

export const nodeApp: Container = {
  id: "c0ffee",
  name: "node-app",
  image: "node:18",
  imageid: "sha256:abc",
  type: "CT_DOCKER",
  privileged: false,
  podId: null
}

export const file = (path: string, restype = "f"): File => ({
  state: "CREATED",
  oid: "07".repeat(20),
  ts: 0n,
  restype: restype.charCodeAt(0),
  path,
  containerId: "c0ffee"
})

export interface Ctx {
  readonly process?: Process | undefined
  readonly ptree?: ReadonlyArray<Process> | undefined
  readonly container?: Container | undefined
  readonly pod?: Pod | undefined
  readonly file?: File | undefined
  readonly newFile?: File | undefined
  readonly ts?: bigint
  readonly opFlags?: number
}

const procOf = (c: Ctx): Process | undefined => ("process" in c ? c.process : python)
const ptreeOf = (c: Ctx, p: Process | undefined): ReadonlyArray<Process> | undefined =>
  "ptree" in c ? c.ptree : p === python ? [python, bash] : p === undefined ? undefined : [p]
const containerOf = (c: Ctx): Container | undefined => ("container" in c ? c.container : nodeApp)
const oidOf = (p: Process | undefined) => p?.oid ?? { hpid: 0n, createTS: 0n }

export const pe = (c: Ctx = {}, ret = 0): FlatRecord => {
  const p = procOf(c)
  return makeFlatRecord(
    "PE",
    { procOID: oidOf(p), ts: c.ts ?? 1000n, tid: p?.oid.hpid ?? 0n, opFlags: c.opFlags ?? OP.EXEC, args: [], ret },
    header,
    p,
    ptreeOf(c, p),
    containerOf(c),
    c.pod,
    undefined,
    undefined
  )
}

export const ff = (c: Ctx = {}, openFlags = 2, counters: Partial<Record<"rb" | "wb", bigint>> = {}): FlatRecord => {
  const p = procOf(c)
  const f = "file" in c ? c.file : file("/tmp/out.txt")
  return makeFlatRecord(
    "FF",
    {
      procOID: oidOf(p),
      ts: c.ts ?? 1000n,
      tid: p?.oid.hpid ?? 0n,
      opFlags: c.opFlags ?? OP.OPEN | OP.WRITE_SEND | OP.CLOSE,
      openFlags,
      endTs: (c.ts ?? 1000n) + 10n,
      fileOID: f?.oid ?? "00".repeat(20),
      fd: 3,
      numRRecvOps: 0n,
      numWSendOps: 1n,
      numRRecvBytes: counters.rb ?? 0n,
      numWSendBytes: counters.wb ?? 42n
    },
    header,
    p,
    ptreeOf(c, p),
    containerOf(c),
    c.pod,
    f,
    undefined
  )
}

export const fe = (c: Ctx = {}): FlatRecord => {
  const p = procOf(c)
  const f = "file" in c ? c.file : file("/tmp/a")
  return makeFlatRecord(
    "FE",
    {
      procOID: oidOf(p),
      ts: c.ts ?? 1000n,
      tid: p?.oid.hpid ?? 0n,
      opFlags: c.opFlags ?? OP.RENAME,
      fileOID: f?.oid ?? "00".repeat(20),
      ret: 0,
      newFileOID: c.newFile?.oid ?? null
    },
    header,
    p,
    ptreeOf(c, p),
    containerOf(c),
    c.pod,
    f,
    c.newFile
  )
}

/** Little-endian IPv4 as SysFlow stores it. */
export const ip = (a: number, b: number, c: number, d: number): number => (a | (b << 8) | (c << 16) | (d << 24)) | 0

export const nf = (c: Ctx = {}, dport = 443): FlatRecord => {
  const p = procOf(c)
  return makeFlatRecord(
    "NF",
    {
      procOID: oidOf(p),
      ts: c.ts ?? 1000n,
      tid: p?.oid.hpid ?? 0n,
      opFlags: c.opFlags ?? OP.CONNECT,
      endTs: (c.ts ?? 1000n) + 10n,
      sip: ip(172, 17, 0, 2),
      sport: 40000,
      dip: ip(10, 1, 2, 3),
      dport,
      proto: 6,
      fd: 5,
      numRRecvOps: 1n,
      numWSendOps: 1n,
      numRRecvBytes: 100n,
      numWSendBytes: 200n
    },
    header,
    p,
    ptreeOf(c, p),
    containerOf(c),
    c.pod,
    undefined,
    undefined
  )
}

export const ke = (message: string, o: Partial<K8sEvent> = {}): FlatRecord =>
  makeFlatRecord(
    "KE",
    { kind: "K8S_PODS", action: "K8S_COMPONENT_ADDED", ts: 1000n, message, ...o },
    header,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined
  )

// ---------------------------------------------------------------------------------------------------
// Compiling

export const compile = (text: string, file = "test.yaml", options: CompileOptions = {}) =>
  compilePolicies([{ path: file, text }], options)

/** The compiled set; fails the test with the rendered diagnostics otherwise. */
export const compiled = (text: string, file = "test.yaml", options: CompileOptions = {}): CompiledPolicySet => {
  const r = compile(text, file, options)
  if (Either.isLeft(r)) throw new Error(`expected the policy to compile:\n${r.left.message}`)
  return r.right
}

/** The policy files of `paths` (files or directories, in that order) compiled as one set; throws the load error. */
export const compileFiles = async (paths: ReadonlyArray<string>): Promise<CompiledPolicySet> => {
  const files: Array<string> = []
  for (const p of paths) files.push(...(await Effect.runPromise(listPolicyFiles(p))))
  const r = compilePolicies(files.map((f) => ({ path: f, text: fs.readFileSync(f, "utf8") })))
  if (Either.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

/** The load error; fails the test if the policy compiles. */
export const failure = (text: string, file = "test.yaml"): PolicyError => {
  const r = compile(text, file)
  if (Either.isRight(r)) throw new Error("expected a compile error")
  return r.left
}

/** The rendered error diagnostics of a policy that must fail. */
export const errorsOf = (text: string, file = "test.yaml"): ReadonlyArray<string> => failure(text, file).diagnostics.map(renderDiagnostic)

/** The rendered warnings of a policy that must compile. */
export const warningsOf = (text: string, file = "test.yaml"): ReadonlyArray<string> =>
  compiled(text, file).warnings.map(renderDiagnostic)

/** A rule `r` with the given condition (a YAML literal block, so any text goes), after `prelude`. */
export const ruleText = (condition: string, prelude = ""): string =>
  `${prelude}\n- rule: r\n  desc: d\n  condition: |-\n${condition
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n")}\n`

/**
 * Whether `condition` holds for `record`: evaluated through the per-type index, and checked against the
 * generic compile of the same condition (they must agree).
 */
export const holds = (condition: string, record: FlatRecord, prelude = ""): boolean => {
  const set = compiled(ruleText(condition, prelude))
  const viaIndex = evaluate(set, record).matches.length > 0
  const rule = set.rules[set.rules.length - 1]
  expect(rule.condition(record), `generic and per-type compiles disagree on ${condition}`).toBe(viaIndex)
  return viaIndex
}

/** Names of the rules matching `record`, in match order. */
export const matchNames = (set: CompiledPolicySet, record: FlatRecord): ReadonlyArray<string> =>
  evaluate(set, record).matches.map((r) => r.name)
