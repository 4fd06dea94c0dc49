/**
 * Refuses, at load, an exporter `file.path` that would destroy or pollute an input of the `file`
 * driver (the command-line path, or the `path` of a `file` entry in `drivers`): the input file itself
 * (compared by real path, so another spelling or a symlink is caught, and by inode, for a hard link),
 * the input as the rotation target `<output>.1`, or any file inside an input directory (it would be
 * overwritten or read back as a trace). Paths that do not resolve are left to the driver and the
 * transport, which report them.
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { PipelineConfigError } from "../../domain/errors.js"
import { describeDriverEntry, describeEntry, textAttribute } from "../../domain/pipelineConfig.js"
import { decodeExporterConfig } from "../export/ExporterConfig.js"
import { type FileTarget, isOwnRegularFile, resolveFileTarget, rotatedPath } from "../export/transports/FileTarget.js"
import type { PipelineGraph } from "./PipelineGraph.js"

interface Input {
  readonly path: string
  /** Where it was configured, for the error. */
  readonly source: string
}

interface Output {
  readonly path: string
  readonly entry: string
}

const inputsOf = (graph: PipelineGraph, cliInput: string): ReadonlyArray<Input> =>
  graph.drivers.flatMap((d) => {
    if (d.spec.name !== "file") return []
    const configured = d.config === undefined ? undefined : textAttribute(d.config.attributes, "path")
    return [
      ...(cliInput !== "" ? [{ path: cliInput, source: "the command-line input" }] : []),
      ...(configured !== undefined && configured !== "" && d.config !== undefined ? [{ path: configured, source: `${describeDriverEntry(d.config)} path` }] : [])
    ]
  })

const outputsOf = (graph: PipelineGraph): Effect.Effect<ReadonlyArray<Output>> =>
  Effect.forEach(graph.stages, (s) =>
    s.entry.processor !== "exporter"
      ? Effect.succeed([])
      : // Decoded as a file exporter: any other export (or an invalid config, which already failed its
        // own initialisation) writes no file here.
        decodeExporterConfig(Object.fromEntries(s.entry.attributes), ["file"], ["json"]).pipe(
          Effect.map((c) => [{ path: c.filePath, entry: describeEntry(s.entry) }]),
          Effect.orElseSucceed(() => [])
        )
  ).pipe(Effect.map((os) => os.flat()))

const isInside = (dir: string, file: string): boolean => {
  const rel = path.relative(dir, file)
  return rel === "" || (rel.split(path.sep)[0] !== ".." && !path.isAbsolute(rel))
}

/** Why writing `out` would harm `input`, if it would. */
const conflict = async (out: FileTarget, input: Input): Promise<string | undefined> => {
  const real = await fs.realpath(input.path).catch(() => undefined)
  const stat = real === undefined ? undefined : await fs.stat(real).catch(() => undefined)
  if (real === undefined || stat === undefined) return undefined
  const named = `'${input.path}' (${input.source}`
  if (stat.isDirectory()) {
    return isInside(real, out.real) ? `is inside the input directory ${named}; ${out.real} is under ${real}): the export would be read back as a trace` : undefined
  }
  if (out.real === real) {
    return `is the input trace ${named}${out.path === input.path ? "" : `; both are ${real}`}): the export would overwrite it`
  }
  if (out.stat !== undefined && out.stat.dev === stat.dev && out.stat.ino === stat.ino) {
    return `is the input trace ${named}; ${out.real} is a hard link to ${real}): the export would overwrite it`
  }
  if (isOwnRegularFile(out) && rotatedPath(out) === real) {
    return `would move its previous export onto the input trace ${named}; ${real}): keeping the previous export as <file>.1 would overwrite it`
  }
  return undefined
}

export const refuseOutputsOverInputs = (
  graph: PipelineGraph,
  cliInput: string,
  configFile: string
): Effect.Effect<void, PipelineConfigError> =>
  Effect.gen(function* () {
    const inputs = inputsOf(graph, cliInput)
    if (inputs.length === 0) return
    for (const output of yield* outputsOf(graph)) {
      const target = yield* Effect.promise(() => resolveFileTarget(output.path).catch(() => undefined))
      if (target === undefined) continue
      for (const input of inputs) {
        const why = yield* Effect.promise(() => conflict(target, input))
        if (why !== undefined) {
          return yield* new PipelineConfigError({ reason: "Attribute", file: configFile, detail: `${output.entry}: file.path '${output.path}' ${why}` })
        }
      }
    }
  })
