/**
 * Tagged errors carried in the Effect error channel. Each has a `reason` union and the location a user
 * needs to fix the input (file, byte offset, line/column, entry), and a `message` that says it in words.
 */
import { Data } from "effect"

/** A SysFlow trace that cannot be read: names the file and the byte offset of the fault. */
export class TraceError extends Data.TaggedError("TraceError")<{
  readonly reason: "Open" | "Header" | "Codec" | "Schema" | "Block" | "Datum"
  readonly file: string
  /** Byte offset in the file where the fault was found. */
  readonly offset: number
  readonly detail: string
}> {
  override get message(): string {
    return `${this.file}: ${reasonText[this.reason]} at byte offset ${this.offset}: ${this.detail}`
  }
}

const reasonText: Record<TraceError["reason"], string> = {
  Open: "cannot open trace",
  Header: "bad Avro container header",
  Codec: "unsupported codec",
  Schema: "unsupported writer schema",
  Block: "corrupt or truncated block",
  Datum: "corrupt datum"
}

/** A pipeline configuration that cannot be loaded or does not form a valid pipeline. */
export class PipelineConfigError extends Data.TaggedError("PipelineConfigError")<{
  readonly reason: "Read" | "Parse" | "Schema" | "Graph" | "Plugin" | "Attribute"
  /** The config file path, when known. */
  readonly file?: string
  readonly detail: string
}> {
  override get message(): string {
    return this.file === undefined ? this.detail : `${this.file}: ${this.detail}`
  }
}

/** A driver that cannot start or fails while running. */
export class DriverError extends Data.TaggedError("DriverError")<{
  readonly reason: "Init" | "Input" | "Run"
  readonly driver: string
  readonly detail: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return this.detail
  }
}

/** An exporter transport or encoder that cannot be set up or fails to deliver. */
export class ExportError extends Data.TaggedError("ExportError")<{
  readonly reason: "Config" | "Open" | "Write" | "Encode" | "Health" | "NotImplemented"
  readonly transport: string
  readonly detail: string
  readonly cause?: unknown
  /** Records of the failed batch that reached the target whole before the failure (counted as exported). */
  readonly delivered?: number
}> {
  override get message(): string {
    return `${this.transport}: ${this.detail}`
  }
}

/** An error's message for a log line or a wrapping error's detail (anything thrown, not only Errors). */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** What a driver or a stage can fail with while a pipeline runs (the runner's error channel). */
export type PipelineError = TraceError | PipelineConfigError | DriverError | ExportError
