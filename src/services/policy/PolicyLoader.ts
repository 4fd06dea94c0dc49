/**
 * Loading policy files (policy-language.md §2–§3): finding them, reading them as YAML (decision Y1) with
 * the legacy fallback (Y10), and turning each file into typed items with a position for every diagnostic.
 *
 * * A path is a file or a directory, walked recursively in Go `filepath.Walk` order (entries sorted by
 *   name bytes, depth-first), collecting `.yaml` and `.yml` files.
 * * Each file is parsed with the `yaml` package: failsafe schema (every scalar is a string), unique keys,
 *   positions counted on the text itself (lines end at LF). The document must be one sequence of
 *   mappings, one item per mapping, with exactly one item key and only the keys that item kind allows
 *   (Y11).
 * * Conditions are parsed here (so a syntax error in an unused macro still fails the load), with offsets
 *   inside the condition mapped back to file positions (§3.5).
 */
import { Effect } from "effect"
import * as fs from "node:fs/promises"
import * as nodePath from "node:path"
import { type Document, isAlias, isMap, isScalar, isSeq, Lexer, type Node, parseAllDocuments, type Scalar, visit, type YAMLMap } from "yaml"
import { trimSpace } from "../../domain/attributes.js"
import { type Diagnostic, type PolicyError, type PolicyErrorReason, policyError } from "../../domain/policy/Diagnostic.js"
import type {
  Condition,
  ConditionText,
  ExceptionSpec,
  ExceptionValue,
  ListElement,
  PatchMode,
  PolicyFile,
  PolicyItem,
  SourceLocation
} from "../../domain/policy/PolicyAst.js"
import { Priority } from "../../domain/policyEvent.js"
import { isValidName, parseCondition } from "./ConditionParser.js"
import { legacyRewrite, type RewrittenLine } from "./LegacyYaml.js"
import { parseGoBool } from "./Predicates.js"

// ---------------------------------------------------------------------------------------------------
// Finding policy files

/** The record types that reach the policy engine (`sf.type` of flat records). */
const ENGINE_RECORD_TYPES: ReadonlySet<string> = new Set(["PE", "FF", "FE", "NF", "KE"])

export const POLICY_EXTENSIONS: ReadonlyArray<string> = [".yaml", ".yml"]

const hasPolicyExtension = (p: string): boolean => POLICY_EXTENSIONS.includes(nodePath.extname(p))

/** Go's byte-wise string order (as `sort.Strings` on UTF-8). */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

const readError = (file: string, message: string): PolicyError =>
  policyError([{ severity: "error", file, line: 0, column: 0, message, reason: "Read" }])

const osMessage = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException
  return err.code === "ENOENT" ? "no such file or directory" : err.code === "EACCES" ? "permission denied" : String(err.message)
}

const walk = async (dir: string, out: Array<string>): Promise<void> => {
  const names = (await fs.readdir(dir)).sort(byteOrder)
  for (const name of names) {
    const p = nodePath.join(dir, name)
    const st = await fs.lstat(p)
    if (st.isDirectory()) await walk(p, out)
    else if (hasPolicyExtension(name)) out.push(p)
  }
}

/**
 * The policy files under `path`, in load order: the file itself, or every `.yaml`/`.yml` file below the
 * directory (recursive, sorted by name, depth-first). This is also the file set a policy monitor must
 * watch (Q22).
 */
export const listPolicyFiles = (path: string): Effect.Effect<ReadonlyArray<string>, PolicyError> =>
  Effect.tryPromise({
    try: async () => {
      const st = await fs.stat(path)
      if (!st.isDirectory()) return hasPolicyExtension(path) ? [path] : []
      const out: Array<string> = []
      await walk(path, out)
      return out
    },
    catch: (e) => readError(path, `cannot read policy path: ${osMessage(e)}`)
  }).pipe(
    Effect.filterOrFail(
      (files) => files.length > 0,
      () =>
        policyError([
          {
            severity: "error",
            file: "",
            line: 0,
            column: 0,
            message: `no policy files with extension .yaml or .yml found in path: ${path}`,
            reason: "Read"
          }
        ])
    )
  )

export interface PolicySource {
  readonly path: string
  readonly text: string
}

/** Reads every policy file under `path` (see `listPolicyFiles`). */
export const readPolicySources = (path: string): Effect.Effect<ReadonlyArray<PolicySource>, PolicyError> =>
  Effect.flatMap(listPolicyFiles(path), (files) =>
    Effect.forEach(files, (file) =>
      Effect.tryPromise({
        try: () => fs.readFile(file, "utf8"),
        catch: (e) => readError(file, `cannot read policy file: ${osMessage(e)}`)
      }).pipe(Effect.map((text): PolicySource => ({ path: file, text })))
    )
  )

// ---------------------------------------------------------------------------------------------------
// Positions

/**
 * Offsets in the parsed text → positions in the original file (they differ in legacy mode).
 *
 * Lines are counted on the text itself, at every LF, like `snippet`. (They were taken from yaml's
 * `LineCounter`, which misses line breaks the lexer meets while recovering from some errors, e.g. inside
 * an unterminated quoted scalar or after a mis-indented key: found by test/fuzz, seed 20240611, such
 * diagnostics named the previous line, with a column past its end.)
 */
class SourceMap {
  private origLines: ReadonlyArray<string> | undefined
  /** Offset in `parsed` where each line starts. */
  private lineStarts: ReadonlyArray<number> | undefined

  constructor(
    readonly file: string,
    readonly original: string,
    readonly parsed: string,
    readonly legacy: ReadonlyMap<number, RewrittenLine> | undefined
  ) {}

  private linePos(offset: number): { line: number; col: number } {
    if (this.lineStarts === undefined) {
      const starts = [0]
      for (let i = this.parsed.indexOf("\n"); i >= 0; i = this.parsed.indexOf("\n", i + 1)) starts.push(i + 1)
      this.lineStarts = starts
    }
    const starts = this.lineStarts
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, col: offset - starts[lo] + 1 }
  }

  locate(offset: number): SourceLocation {
    const { line, col } = this.linePos(Math.max(0, Math.min(offset, this.parsed.length)))
    const rl = this.legacy?.get(line)
    const mapped = rl === undefined ? col : (rl.columnMap[Math.min(col - 1, rl.columnMap.length - 1)] ?? col - 1) + 1
    const snippet = this.snippet(line)
    // At most just past the line's text: an offset on a CR of a CRLF line end (e.g. a YAML error at the end
    // of the input) named a column past it (found by test/fuzz, seed 7).
    const column = snippet === undefined ? mapped : Math.min(mapped, snippet.length + 1)
    return { file: this.file, line, column, snippet }
  }

  snippet(line: number): string | undefined {
    this.origLines ??= this.original.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l))
    return this.origLines[line - 1]
  }
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d

/**
 * Maps offsets in a condition's value back to the file by aligning the value's non-whitespace
 * characters with the scalar's source (plain and block scalars, and quoted ones without escapes, differ
 * from their source only in whitespace). Falls back to the scalar's start.
 */
const conditionLocator = (node: Scalar, value: string, src: SourceMap): ((offset: number) => SourceLocation) => {
  const [start, end] = node.range ?? [0, 0]
  const text = src.parsed
  let from = start
  switch (node.type) {
    case "QUOTE_DOUBLE":
    case "QUOTE_SINGLE": {
      const inner = text.slice(start + 1, end - 1)
      if (node.type === "QUOTE_DOUBLE" ? inner.includes("\\") : inner.includes("''")) return () => src.locate(start)
      from = start + 1
      break
    }
    case "BLOCK_FOLDED":
    case "BLOCK_LITERAL": {
      const nl = text.indexOf("\n", start)
      from = nl < 0 ? end : nl + 1
      break
    }
    default:
      break
  }
  let table: Array<number> | undefined // value index of each non-ws char → source offset
  const build = (): Array<number> | undefined => {
    const t: Array<number> = []
    let j = from
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i)
      if (isSpace(c)) continue
      while (j < end && isSpace(text.charCodeAt(j))) j++
      if (j >= end || text.charCodeAt(j) !== c) return undefined
      t.push(j++)
    }
    return t
  }
  return (offset) => {
    table ??= build() ?? []
    if (table.length === 0) return src.locate(start)
    let k = 0 // non-ws characters before offset
    for (let i = 0; i < offset && i < value.length; i++) if (!isSpace(value.charCodeAt(i))) k++
    const atNonWs = offset < value.length && !isSpace(value.charCodeAt(offset))
    if (atNonWs && k < table.length) return src.locate(table[k])
    return k === 0 ? src.locate(table[0]) : src.locate(table[k - 1] + 1)
  }
}

// ---------------------------------------------------------------------------------------------------
// YAML → items

const YAML_OPTIONS = { schema: "failsafe", uniqueKeys: true, prettyErrors: false, strict: true } as const

const ITEM_KEYS = ["rule", "filter", "drop", "macro", "list", "required_engine_version", "required_plugin_versions"] as const
type ItemKey = (typeof ITEM_KEYS)[number]
const isItemKey = (k: string): k is ItemKey => (ITEM_KEYS as ReadonlyArray<string>).includes(k)

const ALLOWED_KEYS: Readonly<Record<ItemKey, ReadonlyArray<string>>> = {
  rule: [
    "desc",
    "condition",
    "priority",
    "tags",
    "actions",
    "prefilter",
    "enabled",
    "output",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "source",
    "exceptions",
    "append",
    "override"
  ],
  filter: ["condition", "enabled"],
  drop: ["condition", "enabled"],
  macro: ["condition", "append", "override"],
  list: ["items", "append", "override"],
  required_engine_version: [],
  required_plugin_versions: []
}

/**
 * Keys only current Falco rule files use: a file with one of them is read in the Falco dialect; so is a
 * file whose `required_engine_version` is a semantic version (`0.57.0`: Falco 0.35 and later). The old
 * integer form (`7`, the reference's tests/falco.yaml) leaves the file in our dialect.
 */
const FALCO_ONLY_KEYS: ReadonlySet<string> = new Set(["source", "exceptions", "override", "required_plugin_versions"])
const SEMVER = /^\d+\.\d+\.\d+/

/** The keys `override` may name, per item kind, and the modes each accepts (Falco's rule-file format). */
const OVERRIDABLE: Readonly<Record<"rule" | "macro" | "list", ReadonlyMap<string, ReadonlyArray<PatchMode>>>> = {
  rule: new Map<string, ReadonlyArray<PatchMode>>([
    ["condition", ["append", "replace"]],
    ["exceptions", ["append", "replace"]],
    ["output", ["append", "replace"]],
    ["desc", ["append", "replace"]],
    ["tags", ["append", "replace"]],
    ["priority", ["replace"]],
    ["enabled", ["replace"]],
    ["actions", ["append", "replace"]],
    ["prefilter", ["replace"]]
  ]),
  macro: new Map<string, ReadonlyArray<PatchMode>>([["condition", ["append", "replace"]]]),
  list: new Map<string, ReadonlyArray<PatchMode>>([["items", ["append", "replace"]]])
}

/** Priority words, lowercased (§3.2, Q14). */
const PRIORITIES: ReadonlyMap<string, Priority> = new Map([
  ["emergency", Priority.High],
  ["critical", Priority.High],
  ["error", Priority.High],
  ["high", Priority.High],
  ["warning", Priority.Medium],
  ["medium", Priority.Medium],
  ["notice", Priority.Low],
  ["info", Priority.Low],
  ["informational", Priority.Low],
  ["low", Priority.Low],
  ["debug", Priority.Low],
  ["alert", Priority.Low]
])

const nodeKind = (n: unknown): string =>
  n === null || n === undefined ? "nothing" : isMap(n) ? "a mapping" : isSeq(n) ? "a sequence" : isScalar(n) ? "a scalar" : "an alias"

export interface ReadResult {
  readonly file: PolicyFile
  readonly errors: ReadonlyArray<Diagnostic>
  readonly warnings: ReadonlyArray<Diagnostic>
}

interface Parsed {
  readonly docs: ReadonlyArray<Document.Parsed>
}

const parseYaml = (text: string): Parsed => {
  const docs = parseAllDocuments(text, YAML_OPTIONS)
  return { docs: Array.from(docs as Iterable<Document.Parsed>) }
}

/** The text of the mapping key whose node starts at `offset` (for duplicate-key messages). */
const keyAt = (doc: Document.Parsed, offset: number): string | undefined => {
  let found: string | undefined
  visit(doc, {
    Pair(_, pair) {
      const k = pair.key
      if (isScalar(k) && k.range?.[0] === offset) {
        found = String(k.value)
        return visit.BREAK
      }
      return undefined
    }
  })
  return found
}

/**
 * How deeply YAML flow collections may nest. yaml's composer is recursive and overflows the stack
 * somewhere past 1000 levels, at a depth that depends on the stack left when it runs, so near that depth
 * the same file loaded twice could fail once and pass once (test/fuzz, seed 20240611). A fixed limit far
 * below it (and far above any real policy) makes the answer the same every time.
 */
const MAX_YAML_NESTING = 256

/**
 * Flow-collection nesting of `text`, with yaml's lexer (iterative): the offset of the first `[` / `{`
 * deeper than `limit` (undefined if none), and of the first one at the deepest level.
 */
const flowNesting = (text: string, limit: number): { readonly beyond: number | undefined; readonly deepest: number } => {
  let brackets = 0
  for (let i = 0; i < text.length && brackets <= limit; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x5b || c === 0x7b) brackets++
  }
  if (brackets <= limit) return { beyond: undefined, deepest: Math.max(0, text.search(/[[{]/)) } // cannot nest deeper
  let offset = 0
  let depth = 0
  let max = 0
  let deepest = 0
  let beyond: number | undefined
  for (const tok of new Lexer().lex(text)) {
    if (tok === "[" || tok === "{") {
      if (++depth > max) {
        max = depth
        deepest = offset
      }
      if (depth > limit && beyond === undefined) beyond = offset
    } else if (tok === "]" || tok === "}") depth--
    // Control tokens (document start, flow error end, scalar) are not source text.
    if (tok !== "\x02" && tok !== "\x18" && tok !== "\x1f") offset += tok.length
  }
  return { beyond, deepest }
}

const hasErrors = (p: Parsed): boolean => p.docs.some((d) => d.errors.length > 0)

/**
 * Parses one policy file into items. Pure: `path` is only used to name the file in diagnostics.
 * Errors mean the file (and so the whole load) is rejected.
 */
export const readPolicyFile = (path: string, text: string): ReadResult => {
  const errors: Array<Diagnostic> = []
  const warnings: Array<Diagnostic> = []
  let src = new SourceMap(path, text, text, undefined)
  const tooDeep = flowNesting(text, MAX_YAML_NESTING).beyond
  if (tooDeep !== undefined) {
    const message = `invalid YAML: collections nested too deeply (more than ${MAX_YAML_NESTING} levels)`
    errors.push({ severity: "error", ...src.locate(tooDeep), message, reason: "Yaml" })
    return { file: { path, items: [] }, errors, warnings }
  }
  let parsed = parseYaml(text)

  if (hasErrors(parsed)) {
    const rewrite = legacyRewrite(text)
    const retry = rewrite === undefined ? undefined : parseYaml(rewrite.text)
    if (rewrite === undefined || retry === undefined || hasErrors(retry)) {
      let exhausted = false
      for (const d of parsed.docs) {
        for (const e of d.errors) {
          if (e.code === "RESOURCE_EXHAUSTION") {
            // yaml turns a stack overflow into one error per level it unwinds, at positions that depend
            // on the stack left: hundreds of diagnostics, a different set on each load (test/fuzz, seed
            // 20240611). Flow nesting is capped above; anything else that gets here is reported once.
            if (!exhausted) {
              const at = flowNesting(text, MAX_YAML_NESTING).deepest
              errors.push({ severity: "error", ...src.locate(at), message: "invalid YAML: collections nested too deeply", reason: "Yaml" })
            }
            exhausted = true
            continue
          }
          const loc = src.locate(e.pos[0])
          const dup = e.code === "DUPLICATE_KEY"
          errors.push({
            severity: "error",
            ...loc,
            message: dup ? `duplicate key '${keyAt(d, e.pos[0]) ?? text.slice(e.pos[0], e.pos[1])}'` : `invalid YAML: ${e.message.split("\n")[0]}`,
            reason: dup ? "Duplicate" : "Yaml"
          })
        }
      }
      return { file: { path, items: [] }, errors, warnings }
    }
    parsed = retry
    src = new SourceMap(path, text, rewrite.text, rewrite.lines)
    for (const rl of rewrite.lines.values()) {
      warnings.push({
        severity: "warning",
        file: path,
        line: rl.line,
        column: rl.column,
        message: `not valid YAML, accepted in legacy mode (${rl.rules.join(", ")})`,
        snippet: src.snippet(rl.line)
      })
    }
  }

  const r = new ItemReader(src, errors, warnings)
  for (const d of parsed.docs) for (const w of d.warnings) r.warn(w.pos[0], w.message.split("\n")[0])
  const items = r.document(parsed.docs)
  return { file: { path, items, dialect: r.falco ? "falco" : "sysflow" }, errors, warnings }
}

class ItemReader {
  constructor(
    private readonly src: SourceMap,
    private readonly errors: Array<Diagnostic>,
    private readonly warnings: Array<Diagnostic>
  ) {}

  private doc: Document.Parsed | undefined
  /** Set when an item uses a key only Falco files have (see `Dialect`). */
  falco = false

  at(offset: number): SourceLocation {
    return this.src.locate(offset)
  }

  posOf(node: Node | null | undefined, fallback: number): SourceLocation {
    return this.at(node?.range?.[0] ?? fallback)
  }

  error(loc: SourceLocation, message: string, reason: PolicyErrorReason = "Semantic"): void {
    this.errors.push({ severity: "error", ...loc, message, reason })
  }

  warn(offset: number, message: string): void {
    this.warnings.push({ severity: "warning", ...this.at(offset), message })
  }

  resolve(n: unknown): unknown {
    return isAlias(n) && this.doc !== undefined ? n.resolve(this.doc) : n
  }

  document(docs: ReadonlyArray<Document.Parsed>): ReadonlyArray<PolicyItem> {
    if (docs.length > 1) {
      this.error(this.at(docs[1].range[0]), "more than one YAML document in a policy file", "Yaml")
      return []
    }
    const doc = docs[0]
    this.doc = doc
    const contents = doc === undefined ? null : this.resolve(doc.contents)
    if (contents === null || contents === undefined) {
      this.warn(0, "policy file has no items")
      return []
    }
    if (!isSeq(contents)) {
      this.error(this.posOf(contents as Node, 0), `a policy file must be a sequence of items, found ${nodeKind(contents)}`)
      return []
    }
    // The dialect is the file's, known before any condition is read.
    this.falco = contents.items.some((raw) => {
      const node = this.resolve(raw)
      return isMap(node) && this.marksFalco(node)
    })
    const items: Array<PolicyItem> = []
    for (const raw of contents.items) {
      const node = this.resolve(raw)
      if (!isMap(node)) {
        this.error(this.posOf(raw as Node, contents.range?.[0] ?? 0), `a policy item must be a mapping, found ${nodeKind(node)}`)
        continue
      }
      const item = this.item(node)
      if (item !== undefined) items.push(item)
    }
    if (items.length === 0 && contents.items.length === 0) this.warn(contents.range?.[0] ?? 0, "policy file has no items")
    return items
  }

  /** Whether an item marks its file as a Falco file (see FALCO_ONLY_KEYS). */
  private marksFalco(map: YAMLMap): boolean {
    const pairs = map.items.flatMap((pair) => {
      const key = this.resolve(pair.key)
      return isScalar(key) ? [{ name: String(key.value ?? ""), value: pair.value }] : []
    })
    const kind = pairs.find((p) => isItemKey(p.name))?.name
    if (pairs.some((p) => FALCO_ONLY_KEYS.has(p.name) || (p.name === "append" && kind !== "macro"))) return true
    const version = this.resolve(pairs.find((p) => p.name === "required_engine_version")?.value)
    return isScalar(version) && SEMVER.test(trimSpace(String(version.value ?? "")))
  }

  /** One item mapping. */
  item(map: YAMLMap): PolicyItem | undefined {
    const fields = new Map<string, { key: Scalar; value: unknown }>()
    let itemKey: { name: ItemKey; key: Scalar; value: unknown } | undefined
    const mapStart = map.range?.[0] ?? 0
    const others: Array<{ name: string; key: Scalar }> = []
    let ok = true
    for (const pair of map.items) {
      const key = this.resolve(pair.key)
      if (!isScalar(key)) {
        this.error(this.posOf(pair.key as Node, mapStart), `item keys must be scalars, found ${nodeKind(key)}`)
        ok = false
        continue
      }
      const name = String(key.value ?? "")
      const value = this.resolve(pair.value)
      if (isItemKey(name)) {
        if (itemKey !== undefined) {
          this.error(this.posOf(key, mapStart), `an item has exactly one item key, found '${itemKey.name}' and '${name}'`, "Duplicate")
          ok = false
          continue
        }
        itemKey = { name, key, value }
      } else {
        fields.set(name, { key, value })
        others.push({ name, key })
      }
    }
    if (itemKey === undefined) {
      if (ok) this.error(this.at(mapStart), `an item needs one of the keys ${ITEM_KEYS.join(", ")}`)
      return undefined
    }
    const allowed = ALLOWED_KEYS[itemKey.name]
    for (const o of others) {
      if (!allowed.includes(o.name)) {
        this.error(
          this.posOf(o.key, mapStart),
          `key '${o.name}' is not allowed in a ${itemKey.name} item (allowed: ${allowed.length === 0 ? "none" : allowed.join(", ")})`,
          "UnknownKey"
        )
        ok = false
      }
    }
    if (!ok) return undefined
    const pos = this.posOf(itemKey.key, mapStart)
    const keyOffset = itemKey.key.range?.[0] ?? mapStart
    const f = new Fields(this, fields, itemKey.name, keyOffset)
    switch (itemKey.name) {
      case "required_engine_version": {
        const value = this.scalar(itemKey.value, itemKey.name, keyOffset)
        return value === undefined ? undefined : { kind: "required_engine_version", pos, value }
      }
      case "required_plugin_versions":
        return this.pluginVersions(itemKey.value, pos, keyOffset)
      case "rule": {
        const name = this.name(itemKey.value, "rule", keyOffset)
        const modes = f.patchModes("rule", others.map((o) => o.name))
        // Falco's short form `- rule: x` / `enabled: false` changes only whether an earlier rule is enabled.
        const enabledOnly = others.length === 1 && others[0].name === "enabled"
        if (modes !== undefined || enabledOnly) {
          const enabled = f.enabled()
          const m = modes ?? new Map<string, PatchMode>([["enabled", "replace"]])
          if (name === undefined || !f.ok) return undefined
          return {
            kind: "patch",
            target: "rule",
            pos,
            name,
            via: modes === undefined ? "enabled" : fields.has("override") ? "override" : "append",
            modes: m,
            condition: f.conditionText(),
            exceptions: f.exceptions(),
            desc: f.scalar("desc"),
            output: f.scalar("output"),
            priority: f.priority(),
            tags: f.sequence("tags")?.values,
            enabled
          }
        }
        const desc = f.scalar("desc", name ?? null)
        const condition = f.condition(name)
        const priority = f.priority()
        const tags = f.sequence("tags")
        const actions = f.sequence("actions")
        const prefilter = f.sequence("prefilter")
        prefilter?.values.forEach((t, i) => {
          // A typo (`pe`) would silently disable the rule; `[]` (Q6) is deliberate and stays quiet.
          if (t !== "" && !ENGINE_RECORD_TYPES.has(t)) {
            this.warnings.push({
              severity: "warning",
              ...prefilter.positions[i],
              message: `prefilter entry '${t}' is not a record type the engine sees (PE, FF, FE, NF, KE): the rule never applies to it`
            })
          }
        })
        const enabled = f.enabled()
        const output = f.scalar("output")
        const source = f.scalar("source")
        const exceptions = f.exceptions()
        const skip = f.scalar("skip-if-unknown-filter")
        if (name === undefined || desc === undefined || condition === undefined || !f.ok) return undefined
        return {
          kind: "rule",
          pos,
          name,
          desc: trimSpace(desc),
          condition,
          priority: priority ?? Priority.Low,
          tags: tags?.values ?? [],
          actions: actions?.values ?? [],
          actionPos: actions?.positions ?? [],
          prefilter: prefilter?.values,
          enabled: enabled ?? true,
          ...(output === undefined ? {} : { output: trimSpace(output) }),
          ...(source === undefined ? {} : { source: trimSpace(source) }),
          ...(exceptions === undefined ? {} : { exceptions }),
          ...(skip !== undefined && parseGoBool(trimSpace(skip)) === true ? { skipIfUnknownFilter: true } : {})
        }
      }
      case "filter":
      case "drop": {
        const name = this.name(itemKey.value, itemKey.name, keyOffset)
        const condition = f.condition(name)
        const enabled = f.enabled()
        if (name === undefined || condition === undefined || !f.ok) return undefined
        return { kind: "filter", keyword: itemKey.name, pos, name, condition, enabled: enabled ?? true }
      }
      case "macro": {
        const name = this.name(itemKey.value, "macro", keyOffset)
        const modes = f.patchModes("macro", others.map((o) => o.name))
        if (modes !== undefined) {
          const condition = f.conditionText(name ?? null)
          if (name === undefined || condition === undefined || !f.ok) return undefined
          return { kind: "patch", target: "macro", pos, name, via: fields.has("override") ? "override" : "append", modes, condition }
        }
        const condition = f.condition(name)
        if (name === undefined || condition === undefined || !f.ok) return undefined
        return { kind: "macro", pos, name, condition }
      }
      case "list": {
        const name = this.name(itemKey.value, "list", keyOffset)
        const modes = f.patchModes("list", others.map((o) => o.name))
        const items = f.sequence("items", name ?? null)
        if (name === undefined || items === undefined || !f.ok) return undefined
        const elements: Array<ListElement> = items.values.map((text, i) => ({ text, pos: items.positions[i] }))
        if (modes !== undefined) return { kind: "patch", target: "list", pos, name, via: fields.has("override") ? "override" : "append", modes, items: elements }
        return { kind: "list", pos, name, items: elements }
      }
    }
  }

  /** `required_plugin_versions`: a sequence of mappings with `name` and `version` (other keys ignored). */
  pluginVersions(value: unknown, pos: SourceLocation, keyOffset: number): PolicyItem | undefined {
    if (!isSeq(value)) {
      this.error(this.posOf(value as Node, keyOffset), `'required_plugin_versions' must be a sequence of mappings, found ${nodeKind(value)}`)
      return undefined
    }
    const plugins: Array<{ name: string; version: string; pos: SourceLocation }> = []
    for (const raw of value.items) {
      const m = this.resolve(raw)
      if (!isMap(m)) {
        this.error(this.posOf(raw as Node, keyOffset), `'required_plugin_versions' entries must be mappings, found ${nodeKind(m)}`)
        return undefined
      }
      const get = (k: string): string | undefined => {
        const v = this.resolve(m.get(k, true))
        return isScalar(v) ? trimSpace(String(v.value ?? "")) : undefined
      }
      const name = get("name")
      if (name === undefined || name === "") {
        this.error(this.posOf(m, keyOffset), "a 'required_plugin_versions' entry needs a 'name'")
        return undefined
      }
      plugins.push({ name, version: get("version") ?? "", pos: this.posOf(m, keyOffset) })
    }
    return { kind: "required_plugin_versions", pos, plugins }
  }

  /** A YAML node as an exception value: scalars are strings, sequences arrays (nested). */
  exceptionValue(node: unknown, keyOffset: number): ExceptionValue | undefined {
    const n = this.resolve(node)
    if (n === null || n === undefined) return ""
    if (isScalar(n)) return String(n.value ?? "")
    if (isSeq(n)) {
      const out: Array<ExceptionValue> = []
      for (const el of n.items) {
        const v = this.exceptionValue(el, keyOffset)
        if (v === undefined) return undefined
        out.push(v)
      }
      return out
    }
    this.error(this.posOf(n as Node, keyOffset), `exception values must be scalars or sequences, found ${nodeKind(n)}`)
    return undefined
  }

  /** A scalar value's text; error (and undefined) for any other shape. */
  scalar(value: unknown, key: string, keyOffset: number): string | undefined {
    if (value === null || value === undefined) return ""
    if (!isScalar(value)) {
      this.error(this.posOf(value as Node, keyOffset), `'${key}' must be a scalar, found ${nodeKind(value)}`)
      return undefined
    }
    return String(value.value ?? "")
  }

  /** The item's name: trimmed; non-empty; macros and lists need a valid bare word. */
  name(value: unknown, kind: "rule" | "filter" | "drop" | "macro" | "list", keyOffset: number): string | undefined {
    const raw = this.scalar(value, `${kind} name`, keyOffset)
    if (raw === undefined) return undefined
    const name = trimSpace(raw)
    const loc = this.posOf(value as Node, keyOffset)
    if (name === "") {
      this.error(loc, `empty ${kind} name`)
      return undefined
    }
    if ((kind === "macro" || kind === "list") && !isValidName(name)) {
      this.error(loc, `invalid ${kind} name '${name}': a ${kind} name must be a bare word that is not a reserved word`)
      return undefined
    }
    return name
  }

  /** A condition scalar's text and locator, not parsed (a Falco append is a fragment). */
  conditionText(value: unknown, owner: string, keyOffset: number): ConditionText | undefined {
    const text = this.scalar(value, "condition", keyOffset)
    if (text === undefined) return undefined
    const node = value as Scalar | null
    if (node === null || trimSpace(text) === "") {
      this.error(this.posOf(node, keyOffset), `empty condition in ${owner}`)
      return undefined
    }
    return { text, locate: conditionLocator(node, text, this.src) }
  }

  /** Parses a condition scalar (errors at their position in the file). */
  condition(value: unknown, owner: string, keyOffset: number): Condition | undefined {
    const ct = this.conditionText(value, owner, keyOffset)
    if (ct === undefined) return undefined
    const { text, locate } = ct
    const parsed = parseCondition(text, { falco: this.falco })
    if (parsed._tag === "Left") {
      this.error(locate(parsed.left.offset), parsed.left.message, "Syntax")
      return undefined
    }
    return { text, expr: parsed.right, locate }
  }
}

/** The non-item keys of one item. */
class Fields {
  ok = true

  constructor(
    private readonly r: ItemReader,
    private readonly fields: ReadonlyMap<string, { key: Scalar; value: unknown }>,
    private readonly kind: ItemKey,
    private readonly keyOffset: number
  ) {}

  private missing(key: string, owner: string): void {
    this.r.error(this.r.at(this.keyOffset), `missing '${key}' in ${owner}`)
    this.ok = false
  }

  private owner(name: string | undefined): string {
    return name === undefined ? `${this.kind} item` : `${this.kind} '${name}'`
  }

  /** A scalar field; `requiredBy` (the item's name, if known) makes it required. */
  scalar(key: string, requiredBy?: string | null): string | undefined {
    const f = this.fields.get(key)
    if (f === undefined) {
      if (requiredBy !== undefined) this.missing(key, this.owner(requiredBy ?? undefined))
      return undefined
    }
    const v = this.r.scalar(f.value, key, f.key.range?.[0] ?? this.keyOffset)
    if (v === undefined) this.ok = false
    return v
  }

  condition(name: string | undefined): Condition | undefined {
    const owner = this.owner(name)
    const f = this.fields.get("condition")
    if (f === undefined) {
      this.missing("condition", owner)
      return undefined
    }
    const c = this.r.condition(f.value, owner, f.key.range?.[0] ?? this.keyOffset)
    if (c === undefined) this.ok = false
    return c
  }

  /** A sequence of scalars; `[]` gives `[""]` (Q6). */
  sequence(key: string, requiredBy?: string | null): { values: Array<string>; positions: Array<SourceLocation> } | undefined {
    const f = this.fields.get(key)
    if (f === undefined) {
      if (requiredBy !== undefined) this.missing(key, this.owner(requiredBy ?? undefined))
      return undefined
    }
    const keyOffset = f.key.range?.[0] ?? this.keyOffset
    const seq = f.value
    if (!isSeq(seq)) {
      this.r.error(this.r.posOf(seq as Node, keyOffset), `'${key}' must be a sequence of scalars, found ${nodeKind(seq)}`)
      this.ok = false
      return undefined
    }
    const values: Array<string> = []
    const positions: Array<SourceLocation> = []
    for (const raw of seq.items) {
      const el = this.r.resolve(raw)
      if (!isScalar(el)) {
        this.r.error(this.r.posOf(raw as Node, keyOffset), `'${key}' elements must be scalars, found ${nodeKind(el)}`)
        this.ok = false
        continue
      }
      values.push(String(el.value ?? ""))
      positions.push(this.r.posOf(el, keyOffset))
    }
    if (seq.items.length === 0) {
      values.push("")
      positions.push(this.r.posOf(seq, keyOffset))
    }
    return { values, positions }
  }

  /** An unparsed condition (for `append`/`override` items); required when `requiredBy` is given. */
  conditionText(requiredBy?: string | null): ConditionText | undefined {
    const f = this.fields.get("condition")
    if (f === undefined) {
      if (requiredBy !== undefined) this.missing("condition", this.owner(requiredBy ?? undefined))
      return undefined
    }
    const c = this.r.conditionText(f.value, this.owner(requiredBy ?? undefined), f.key.range?.[0] ?? this.keyOffset)
    if (c === undefined) this.ok = false
    return c
  }

  /**
   * Falco's `append: true` / `override: {key: append|replace}`: the keys this item changes in an earlier
   * definition, or undefined for a plain definition. `present`: the item's other keys.
   */
  patchModes(kind: "rule" | "macro" | "list", present: ReadonlyArray<string>): Map<string, PatchMode> | undefined {
    const allowed = OVERRIDABLE[kind]
    const keys = present.filter((k) => k !== "append" && k !== "override")
    const append = this.fields.get("append")
    const override = this.fields.get("override")
    const appending = append !== undefined && parseGoBool(trimSpace(this.scalar("append") ?? "")) === true
    if (appending && override !== undefined) {
      this.r.error(this.r.posOf(override.key, this.keyOffset), `a ${kind} cannot have both 'append' and 'override'`)
      this.ok = false
      return undefined
    }
    if (appending) {
      const modes = new Map<string, PatchMode>()
      for (const k of keys) {
        if (!(allowed.get(k) ?? []).includes("append")) {
          const f = this.fields.get(k)!
          this.r.error(this.r.posOf(f.key, this.keyOffset), `'${k}' cannot be appended to a ${kind} (with 'append: true' only ${[...allowed].filter(([, m]) => m.includes("append")).map(([n]) => n).slice(0, 2).join(" and ")} can be)`)
          this.ok = false
          continue
        }
        modes.set(k, "append")
      }
      return modes
    }
    if (override === undefined) return undefined
    const map = override.value
    if (!isMap(map)) {
      this.r.error(this.r.posOf(map as Node, override.key.range?.[0] ?? this.keyOffset), `'override' must be a mapping of keys to append or replace, found ${nodeKind(map)}`)
      this.ok = false
      return undefined
    }
    const modes = new Map<string, PatchMode>()
    for (const pair of map.items) {
      const k = this.r.resolve(pair.key)
      const v = this.r.resolve(pair.value)
      const key = isScalar(k) ? String(k.value ?? "") : ""
      const mode = isScalar(v) ? String(v.value ?? "") : ""
      const at = this.r.posOf((isScalar(v) ? v : k) as Node, this.keyOffset)
      const modesOf = allowed.get(key)
      if (modesOf === undefined) {
        this.r.error(at, `'${key}' cannot be overridden in a ${kind} (keys: ${[...allowed.keys()].join(", ")})`)
        this.ok = false
      } else if (mode !== "append" && mode !== "replace") {
        this.r.error(at, `override of '${key}' must be append or replace, found '${mode}'`)
        this.ok = false
      } else if (!modesOf.includes(mode)) {
        this.r.error(at, `'${key}' of a ${kind} can only be replaced, not appended`)
        this.ok = false
      } else if (!keys.includes(key)) {
        this.r.error(at, `override names '${key}', which this ${kind} item does not define`)
        this.ok = false
      } else modes.set(key, mode)
    }
    for (const k of keys) {
      if (!modes.has(k) && allowed.has(k) && this.ok) {
        this.r.error(this.r.posOf(this.fields.get(k)!.key, this.keyOffset), `'${k}' is defined but not named in 'override' (append or replace)`)
        this.ok = false
      }
    }
    return modes
  }

  /** Falco's `exceptions`: a sequence of mappings with `name`, `fields`, `comps`, `values`. */
  exceptions(): Array<ExceptionSpec> | undefined {
    const f = this.fields.get("exceptions")
    if (f === undefined) return undefined
    const keyOffset = f.key.range?.[0] ?? this.keyOffset
    const seq = f.value
    if (seq === null || seq === undefined || (isScalar(seq) && String(seq.value ?? "") === "")) return []
    if (!isSeq(seq)) {
      this.r.error(this.r.posOf(seq as Node, keyOffset), `'exceptions' must be a sequence of mappings, found ${nodeKind(seq)}`)
      this.ok = false
      return undefined
    }
    const out: Array<ExceptionSpec> = []
    for (const raw of seq.items) {
      const m = this.r.resolve(raw)
      if (!isMap(m)) {
        this.r.error(this.r.posOf(raw as Node, keyOffset), `'exceptions' entries must be mappings, found ${nodeKind(m)}`)
        this.ok = false
        continue
      }
      const pos = this.r.posOf(m, keyOffset)
      const entry = new Map<string, unknown>()
      for (const pair of m.items) {
        const k = this.r.resolve(pair.key)
        const key = isScalar(k) ? String(k.value ?? "") : ""
        if (!["name", "fields", "comps", "values"].includes(key)) {
          this.r.error(this.r.posOf(k as Node, keyOffset), `key '${key}' is not allowed in an exception (allowed: name, fields, comps, values)`, "UnknownKey")
          this.ok = false
        }
        entry.set(key, pair.value)
      }
      const value = (k: string): ExceptionValue | undefined => (entry.has(k) ? this.r.exceptionValue(entry.get(k), keyOffset) : undefined)
      const name = value("name")
      if (typeof name !== "string" || trimSpace(name) === "") {
        this.r.error(pos, "an exception needs a 'name'")
        this.ok = false
        continue
      }
      const fieldsV = value("fields")
      const compsV = value("comps")
      const valuesV = value("values")
      const strings = (v: ExceptionValue | undefined, what: string): ReadonlyArray<string> | string | undefined => {
        if (v === undefined || typeof v === "string") return v
        if (v.every((x) => typeof x === "string")) return v as ReadonlyArray<string>
        this.r.error(pos, `exception '${name}': '${what}' must be a scalar or a sequence of scalars`)
        this.ok = false
        return undefined
      }
      out.push({
        name: trimSpace(name),
        fields: strings(fieldsV, "fields"),
        comps: strings(compsV, "comps"),
        values: valuesV === undefined ? [] : typeof valuesV === "string" ? (valuesV === "" ? [] : [valuesV]) : valuesV,
        pos
      })
    }
    return out
  }

  priority(): Priority | undefined {
    const f = this.fields.get("priority")
    if (f === undefined) return undefined
    const text = this.scalar("priority")
    if (text === undefined) return undefined
    const word = trimSpace(text).toLowerCase()
    const p = PRIORITIES.get(word)
    const at = (f.value as Node | null)?.range?.[0] ?? f.key.range?.[0] ?? this.keyOffset
    if (p === undefined) {
      this.r.error(
        this.r.at(at),
        `unknown priority '${text}' (expected one of emergency, critical, error, high, warning, medium, notice, info, informational, low, debug)`
      )
      this.ok = false
      return undefined
    }
    if (word === "alert") {
      // Falco ranks alert between emergency and critical; the reference did not know it (Q14, kept for our dialect).
      if (this.r.falco) return Priority.High
      this.r.warn(at, `Unrecognized priority value '${text}' (using low)`)
    }
    return p
  }

  /** Go `ParseBool`; anything else warns and means true (Q15). */
  enabled(): boolean | undefined {
    const f = this.fields.get("enabled")
    if (f === undefined) return undefined
    const text = this.scalar("enabled")
    if (text === undefined) return undefined
    const b = parseGoBool(text)
    if (b === undefined) {
      const at = (f.value as Node | null)?.range?.[0] ?? f.key.range?.[0] ?? this.keyOffset
      this.r.warn(at, `unrecognized 'enabled' value '${text}' (expected true or false); the ${this.kind} stays enabled`)
      return true
    }
    return b
  }
}
