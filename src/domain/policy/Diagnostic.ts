/**
 * Policy diagnostics (policy-language.md §3.5, decision Y12): every error and warning names the file,
 * the 1-based line and column of the offending node or token, and renders as
 * `<file>:<line>:<col>: error|warning: <message>`, each diagnostic once.
 *
 * A failed load is one `PolicyError` value carrying every error diagnostic (and the warnings found before
 * the load was abandoned); `message` is the rendered error diagnostics, one per line.
 */
import { Data } from "effect"

/** A position in a policy file: 1-based line and column (UTF-16 code units, as JavaScript counts). */
export interface SourcePos {
  readonly file: string
  readonly line: number
  readonly column: number
}

/** What went wrong, for errors. Warnings have no reason. */
export type PolicyErrorReason =
  /** The path cannot be read, or holds no policy file. */
  | "Read"
  /** The file is not valid YAML (also: more than one YAML document). */
  | "Yaml"
  /** A condition does not follow the grammar (§4.2). */
  | "Syntax"
  /** A key the item kind does not allow (Y11). */
  | "UnknownKey"
  /** A list or macro that reaches itself (Q16). */
  | "Cycle"
  /** A key repeated in one mapping, or two item keys in one item. */
  | "Duplicate"
  /** Anything else that is well-formed YAML but not a valid policy (shapes, names, priorities, …). */
  | "Semantic"
  /** A feature the engine does not implement (e.g. `language: sigma`). */
  | "NotImplemented"

export interface Diagnostic {
  readonly severity: "error" | "warning"
  /** The path as found by the loader; `""` for diagnostics about no file in particular. */
  readonly file: string
  /** 1-based; 0 when the diagnostic has no position (e.g. an unreadable path). */
  readonly line: number
  /** 1-based; 0 when the diagnostic has no position. */
  readonly column: number
  readonly message: string
  /** The source line the position points into, when there is one. */
  readonly snippet?: string
  /** Errors only. */
  readonly reason?: PolicyErrorReason
}

/**
 * `<file>:<line>:<col>: error|warning: <message>`. Without a position: `<file>: error: <message>`; without
 * a file: `error: <message>`.
 */
export const renderDiagnostic = (d: Diagnostic): string => {
  const where = d.file === "" ? "" : d.line > 0 ? `${d.file}:${d.line}:${d.column}: ` : `${d.file}: `
  return `${where}${d.severity}: ${d.message}`
}

/** The rendered diagnostic, followed by its source line and a caret under the column (for terminals). */
export const renderDiagnosticWithSnippet = (d: Diagnostic): string => {
  const head = renderDiagnostic(d)
  if (d.snippet === undefined || d.line === 0) return head
  const caretPad = d.snippet.slice(0, Math.max(0, d.column - 1)).replace(/[^\t]/g, " ")
  return `${head}\n  ${d.snippet}\n  ${caretPad}^`
}

/** A policy set that cannot be loaded: every error diagnostic of the load. */
export class PolicyError extends Data.TaggedError("PolicyError")<{
  /** The reason of the first error. */
  readonly reason: PolicyErrorReason
  /** Position of the first error. */
  readonly file: string
  readonly line: number
  readonly column: number
  readonly snippet: string | undefined
  /** Every error diagnostic, in discovery order (at least one). */
  readonly diagnostics: ReadonlyArray<Diagnostic>
  /** Warnings found before the load failed (for `-test`, which prints every warning). */
  readonly warnings: ReadonlyArray<Diagnostic>
}> {
  override get message(): string {
    return this.diagnostics.map(renderDiagnostic).join("\n")
  }
}

/** Builds a `PolicyError` from the error diagnostics (the first one gives reason and position). */
export const policyError = (
  errors: ReadonlyArray<Diagnostic>,
  warnings: ReadonlyArray<Diagnostic> = []
): PolicyError => {
  const first = errors[0]
  return new PolicyError({
    reason: first?.reason ?? "Semantic",
    file: first?.file ?? "",
    line: first?.line ?? 0,
    column: first?.column ?? 0,
    snippet: first?.snippet,
    diagnostics: errors,
    warnings
  })
}

/** A diagnostic at a position of a policy file (errors carry the Semantic reason): the YAML readers' and compilers'. */
export const diagnosticAt = (severity: "error" | "warning", loc: SourcePos & { readonly snippet?: string }, message: string): Diagnostic => ({
  severity,
  file: loc.file,
  line: loc.line,
  column: loc.column,
  message,
  snippet: loc.snippet,
  ...(severity === "error" ? { reason: "Semantic" as const } : {})
})
