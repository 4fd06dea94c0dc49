/**
 * Schemas for the values of a pipeline config, and how their failures are told to the user.
 *
 * Every kind here fails with one message that says what is expected (`must be a whole number from 1 to
 * 65535`), so that `ParseResult.ArrayFormatter` gives one issue per bad key and an error reads
 * `<key> = <value as written>: <expectation>`. Values are accepted as the config holds them: text, or (P3)
 * a number or boolean meaning its JSON text.
 */
import { Either, ParseResult, Schema } from "effect"

/** A config value kind: `parse` gives the value or the expectation it failed. */
export const configValue = <A>(to: Schema.Schema<A>, parse: (value: unknown) => Either.Either<A, string>): Schema.Schema<A, unknown> =>
  Schema.transformOrFail(Schema.Unknown, Schema.typeSchema(to), {
    strict: true,
    decode: (value, _, ast) =>
      Either.match(parse(value), {
        onLeft: (expected) => ParseResult.fail(new ParseResult.Type(ast, value, expected)),
        onRight: ParseResult.succeed
      }),
    encode: ParseResult.succeed
  })

/** A value's text: a string, or a number or boolean as its JSON text (P3); undefined for anything else. */
export const asText = (value: unknown): string | undefined =>
  typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : undefined

/** A kind read from the value's text; anything that is not text fails with the same expectation. */
export const textValue = <A>(to: Schema.Schema<A>, expected: string, parse: (text: string) => A | undefined) =>
  configValue(to, (value) => {
    const text = asText(value)
    const parsed = text === undefined ? undefined : parse(text)
    return parsed === undefined ? Either.left(expected) : Either.right(parsed)
  })

export const Text = textValue(Schema.String, "must be a string", (s) => s)

export const NonEmptyText = textValue(Schema.String, "must be a non-empty string", (s) => (s === "" ? undefined : s))

const INTEGER = /^[+-]?\d+$/
// A whole number also written with a fraction or an exponent (`5e+6`, as the reference's docs spell one default).
const INTEGER_OR_EXPONENT = /^\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** A whole number in [min, max] (Go `Atoi` syntax: an optional sign, decimal digits). */
export const WholeNumber = (range: { readonly min: number; readonly max?: number; readonly exponent?: boolean }) => {
  const { min, max = Number.MAX_SAFE_INTEGER } = range
  const bounds = range.max === undefined ? `, ${min} or more` : ` from ${min} to ${max}`
  const syntax = range.exponent === true ? INTEGER_OR_EXPONENT : INTEGER
  return textValue(Schema.Number, `must be a whole number${bounds}`, (s) => {
    const n = Number(s)
    return syntax.test(s) && Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined
  })
}

const DECIMAL = /^\+?(?:\d+(?:\.\d*)?|\.\d+)$/

/** A number of seconds, 0 or more, fractions allowed. */
export const Seconds = textValue(Schema.Number, "must be a number of seconds (0 or more)", (s) =>
  DECIMAL.test(s) && Number.isFinite(Number(s)) ? Number(s) : undefined
)

/** `true`/`false` in any case, or a JSON boolean (P6). */
export const Flag = textValue(Schema.Boolean, "must be true or false", (s) => {
  const lower = s.trim().toLowerCase()
  return lower === "true" ? true : lower === "false" ? false : undefined
})

/** One of the given words, exactly as written. */
export const OneOf = <const W extends string>(words: ReadonlyArray<W>) =>
  textValue(
    Schema.Literal(...words) as unknown as Schema.Schema<W>,
    words.length === 2 ? `must be ${words[0]} or ${words[1]}` : `must be one of ${words.join(", ")}`,
    (s) => words.find((w) => w === s)
  )

/** An http(s) URL; a trailing `/` is dropped so paths can be appended. */
export const HttpUrl = textValue(Schema.String, "must be an http(s) URL", (s) => {
  try {
    const u = new URL(s)
    return u.protocol === "http:" || u.protocol === "https:" ? s.replace(/\/+$/, "") : undefined
  } catch {
    return undefined
  }
})

/** A URL with its user info (credentials) replaced by `***`. */
export const redactUrl = (address: string): string => address.replace(/^(\s*[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/@]*@/, "$1***@")

const PREVIEW_MAX = 60

/**
 * A value as an error shows it: its JSON (quotes, escaped control characters, so it cannot forge a log
 * line), URL credentials in any comma-separated part masked, at most PREVIEW_MAX characters.
 */
export const previewValue = (value: unknown): string => {
  const masked = typeof value === "string" ? value.split(",").map(redactUrl).join(",") : value
  const text = JSON.stringify(masked) ?? String(masked)
  return text.length > PREVIEW_MAX ? `${text.slice(0, PREVIEW_MAX - 3)}...` : text
}

export interface ValueIssue {
  /** The path from the decoded value to the bad one (`["buffer"]`, `["out", 1]`); empty for the value itself. */
  readonly path: ReadonlyArray<PropertyKey>
  readonly value: unknown
  readonly message: string
}

/** The issues of a failed decode of `input`, each with the value it is about; one per path. */
export const valueIssues = (error: ParseResult.ParseError, input: unknown): ReadonlyArray<ValueIssue> => {
  const seen = new Set<string>()
  const issues: Array<ValueIssue> = []
  for (const { path, message } of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const id = path.map(String).join("\u0000")
    if (seen.has(id)) continue
    seen.add(id)
    issues.push({ path, value: path.reduce<unknown>((v, key) => (v as Record<PropertyKey, unknown> | undefined)?.[key], input), message })
  }
  return issues
}

/**
 * `<subject><path> = <value><origin>: <message>`: `buffer = "-5" (from EXPORTER_BUFFER): must be ...`,
 * `pipeline[1] = "x": must be a JSON object`.
 */
export const describeIssue = (issue: ValueIssue, subject = "", origin = ""): string => {
  const key = issue.path.reduce<string>(
    (at, p) => (typeof p === "number" ? `${at}[${p}]` : at === "" ? String(p) : `${at}.${String(p)}`),
    subject
  )
  return `${key === "" ? previewValue(issue.value) : `${key} = ${previewValue(issue.value)}`}${origin}: ${issue.message}`
}

/** A struct field for an optional key (an absent key stays absent). */
export const optionalKey = <A>(schema: Schema.Schema<A, unknown>) => Schema.optionalWith(schema, { exact: true })

/** A struct field for a key with a default. */
export const withDefault = <A>(schema: Schema.Schema<A, unknown>, value: A) =>
  Schema.optionalWith(schema, { exact: true, default: () => value })
