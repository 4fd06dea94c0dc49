/**
 * Reads the pipeline config file from the given path (P14: no viper-style name lookup) and decodes it.
 *
 * JSON is parsed by a small strict parser rather than `JSON.parse`, whose messages in Node 20 often lack
 * a position (`Unexpected token ']', "[1,]" is not valid JSON`); users need line and column.
 */
import { Effect, Either } from "effect"
import * as fs from "node:fs/promises"
import { PipelineConfigError } from "../../domain/errors.js"
import { decodePipelineConfig, type PipelineConfig } from "../../domain/pipelineConfig.js"

/** Reads, parses and decodes the config at `path`. Env overrides and manifest keys are applied separately. */
export const loadPipelineConfig = (path: string): Effect.Effect<PipelineConfig, PipelineConfigError> =>
  Effect.flatMap(readConfigText(path), (text) => parsePipelineConfig(text, path))

const readConfigText = (path: string): Effect.Effect<string, PipelineConfigError> =>
  Effect.tryPromise({
    try: () => fs.readFile(path, "utf8"),
    catch: (e) =>
      new PipelineConfigError({
        reason: "Read",
        file: path,
        detail: (e as NodeJS.ErrnoException).code === "EISDIR" ? "Pipeline config file is not a file" : osMessage(e)
      })
  })

/** Node's message without its trailing `, open '<path>'`, since the error already names the file. */
const osMessage = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException
  return err.syscall !== undefined && err.path !== undefined
    ? err.message.replace(`, ${err.syscall} '${err.path}'`, "")
    : err.message
}

/** Parses and decodes config text; `file` names the source in errors. */
export const parsePipelineConfig = (text: string, file: string): Either.Either<PipelineConfig, PipelineConfigError> =>
  Either.flatMap(
    Either.mapLeft(parseJson(text), ({ offset, message }) => {
      const { line, column } = lineColumn(text, offset)
      return new PipelineConfigError({
        reason: "Parse",
        file,
        detail: `JSON syntax error at line ${line}, column ${column}: ${message}`
      })
    }),
    (json) => decodePipelineConfig(json, file)
  )

const lineColumn = (text: string, offset: number) => {
  const before = text.slice(0, offset)
  const lastNewline = before.lastIndexOf("\n")
  return { line: before.split("\n").length, column: offset - lastNewline }
}

interface JsonSyntaxError {
  readonly offset: number
  readonly message: string
}

/** Strict RFC 8259 JSON; a repeated object key keeps the last value, like `JSON.parse` and Go. */
const parseJson = (text: string): Either.Either<unknown, JsonSyntaxError> => {
  const parser = new JsonParser(text)
  try {
    const value = parser.document()
    return Either.right(value)
  } catch (e) {
    if (e instanceof SyntaxFault) return Either.left({ offset: e.offset, message: e.message })
    throw e
  }
}

class SyntaxFault extends Error {
  constructor(readonly offset: number, message: string) {
    super(message)
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
/**
 * How deeply arrays and objects may nest. On deep input this recursive parser overflowed the stack
 * (`{"a":` x 45356: test/fuzz, seed 20240611), and so did the Schema decoding after it (2000 levels
 * inside an attribute); the RangeError escaped as an untyped exception. Real configs nest a few levels.
 */
const MAX_DEPTH = 512
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }

class JsonParser {
  private pos = 0
  private depth = 0

  constructor(private readonly text: string) {}

  document(): unknown {
    const value = this.value()
    this.skipSpace()
    if (this.pos < this.text.length) this.fail("unexpected content after the JSON value")
    return value
  }

  private value(): unknown {
    this.skipSpace()
    const c = this.text[this.pos]
    if (c === "{") return this.object()
    if (c === "[") return this.array()
    if (c === '"') return this.string()
    if (c === "t") return this.literal("true", true)
    if (c === "f") return this.literal("false", false)
    if (c === "n") return this.literal("null", null)
    if (c === "-" || (c >= "0" && c <= "9")) return this.number()
    return this.fail("expected a JSON value")
  }

  private object(): Record<string, unknown> {
    const entries: Array<[string, unknown]> = []
    this.enter()
    this.pos++
    this.skipSpace()
    if (this.text[this.pos] === "}") {
      this.pos++
      this.depth--
      return {}
    }
    for (;;) {
      this.skipSpace()
      if (this.text[this.pos] !== '"') this.fail("expected a double-quoted property name")
      const key = this.string()
      this.skipSpace()
      if (this.text[this.pos] !== ":") this.fail("expected ':' after a property name")
      this.pos++
      entries.push([key, this.value()])
      this.skipSpace()
      const c = this.text[this.pos]
      this.pos++
      if (c === "}") {
        this.depth--
        return Object.fromEntries(entries)
      }
      if (c !== ",") this.fail("expected ',' or '}' after a property value", this.pos - 1)
    }
  }

  private array(): Array<unknown> {
    const items: Array<unknown> = []
    this.enter()
    this.pos++
    this.skipSpace()
    if (this.text[this.pos] === "]") {
      this.pos++
      this.depth--
      return items
    }
    for (;;) {
      items.push(this.value())
      this.skipSpace()
      const c = this.text[this.pos]
      this.pos++
      if (c === "]") {
        this.depth--
        return items
      }
      if (c !== ",") this.fail("expected ',' or ']' after an array element", this.pos - 1)
    }
  }

  /** At an opening bracket: one level deeper, failing there beyond MAX_DEPTH. */
  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail(`JSON nested too deeply (more than ${MAX_DEPTH} levels)`)
  }

  private string(): string {
    let out = ""
    let start = ++this.pos
    for (;;) {
      const c = this.text[this.pos]
      if (c === undefined) this.fail("unterminated string")
      if (c === '"') break
      if (c < " ") this.fail("control character in a string (escape it)")
      if (c === "\\") {
        out += this.text.slice(start, this.pos)
        out += this.escape()
        start = this.pos
      } else {
        this.pos++
      }
    }
    out += this.text.slice(start, this.pos)
    this.pos++
    return out
  }

  private escape(): string {
    const c = this.text[this.pos + 1]
    if (c === "u") {
      const hex = this.text.slice(this.pos + 2, this.pos + 6)
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape")
      this.pos += 6
      return String.fromCharCode(parseInt(hex, 16))
    }
    const decoded = c === undefined ? undefined : ESCAPES[c]
    if (decoded === undefined) this.fail("bad escape sequence")
    this.pos += 2
    return decoded
  }

  private number(): number {
    NUMBER.lastIndex = this.pos
    const m = NUMBER.exec(this.text)
    if (m === null) this.fail("bad number")
    this.pos += m[0].length
    return Number(m[0])
  }

  private literal<A>(word: string, value: A): A {
    if (!this.text.startsWith(word, this.pos)) this.fail("expected a JSON value")
    this.pos += word.length
    return value
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.text[this.pos]
      if (c !== " " && c !== "\t" && c !== "\n" && c !== "\r") return
      this.pos++
    }
  }

  private fail(message: string, offset = this.pos): never {
    const found = this.text[offset]
    throw new SyntaxFault(offset, found === undefined ? `${message}, found the end of the file` : `${message}, found ${JSON.stringify(found)}`)
  }
}
