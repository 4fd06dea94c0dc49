/**
 * The `findings.*` keys (pipeline.md §12), decoded with Schema from the exporter's attributes. Only read
 * when `export` is `findings` (and so, F6, `format` is `occurrence`): P2.
 *
 * The API key is not here: it is a secret (`readSecret`), read by the transport alone.
 */
import { Effect, ParseResult, Schema } from "effect"
import { PipelineConfigError } from "../../../domain/errors.js"

export const DEFAULT_FINDINGS_URL = "https://us-south.secadvisor.cloud.ibm.com/findings"
export const DEFAULT_IAM_URL = "https://iam.cloud.ibm.com/identity/token"
export const DEFAULT_SQLQUERY_URL = "https://us.sql-query.cloud.ibm.com/sqlquery"
export const DEFAULT_FINDINGS_PATH = "/mnt/occurrences"
export const DEFAULT_POOL_CAPACITY = 250
export const DEFAULT_POOL_MAXAGE = 1440

/** A whole number ≥ 0 written as text (Go `Atoi` syntax without the sign games). */
const Count = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (s, _, ast) =>
    /^\+?\d+$/.test(s) && Number.isSafeInteger(Number(s))
      ? ParseResult.succeed(Number(s))
      : ParseResult.fail(new ParseResult.Type(ast, s, `must be a whole number >= 0, got '${s}'`)),
  encode: (n) => ParseResult.succeed(String(n))
})

/** An http(s) URL; a trailing `/` is dropped so paths can be appended. */
const HttpUrl = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (s, _, ast) => {
    try {
      const u = new URL(s)
      if (u.protocol === "http:" || u.protocol === "https:") return ParseResult.succeed(s.replace(/\/+$/, ""))
    } catch {
      // falls through
    }
    return ParseResult.fail(new ParseResult.Type(ast, s, `must be an http(s) URL, got '${s}'`))
  },
  encode: (s) => ParseResult.succeed(s)
})

const text = (fallback: string) => Schema.optionalWith(Schema.String, { default: () => fallback })

const Keys = Schema.Struct({
  "findings.url": Schema.optionalWith(HttpUrl, { default: () => DEFAULT_FINDINGS_URL }),
  "findings.iamurl": Schema.optionalWith(HttpUrl, { default: () => DEFAULT_IAM_URL }),
  "findings.accountid": text(""),
  "findings.provider": text(""),
  "findings.region": text(""),
  "findings.sqlqueryurl": text(DEFAULT_SQLQUERY_URL),
  "findings.sqlquerycrn": text(""),
  "findings.s3region": text(""),
  "findings.s3bucket": text(""),
  "findings.s3prefix": text(""),
  "findings.path": Schema.optionalWith(Schema.String.pipe(Schema.nonEmptyString({ message: () => "must not be empty" })), {
    default: () => DEFAULT_FINDINGS_PATH
  }),
  "findings.pool.capacity": Schema.optionalWith(Count, { default: () => DEFAULT_POOL_CAPACITY }),
  "findings.pool.maxage": Schema.optionalWith(Count, { default: () => DEFAULT_POOL_MAXAGE }),
  "cluster.id": text("")
})

export interface FindingsConfig {
  readonly url: string
  readonly iamUrl: string
  readonly accountId: string
  readonly provider: string
  readonly region: string
  readonly sqlQueryUrl: string
  readonly sqlQueryCrn: string
  readonly s3Region: string
  readonly s3Bucket: string
  readonly s3Prefix: string
  /** Local root of the Avro event files. */
  readonly path: string
  readonly poolCapacity: number
  /** Minutes. */
  readonly poolMaxAge: number
  /** Injected from `CLUSTER_ID` (pipeline.md §3). */
  readonly clusterId: string
}

const issueText = (issue: ParseResult.ArrayFormatterIssue): string => {
  const key = issue.path.map(String).join(".")
  return key === "" ? issue.message : `${key}: ${issue.message}`
}

/** One issue per key (an optional key also reports its `undefined` branch: noise). */
const firstPerKey = (issues: ReadonlyArray<ParseResult.ArrayFormatterIssue>): ReadonlyArray<ParseResult.ArrayFormatterIssue> => {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const key = i.path.map(String).join(".")
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

export const decodeFindingsConfig = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<FindingsConfig, PipelineConfigError> =>
  Schema.decodeUnknown(Keys)(attrs, { errors: "all" }).pipe(
    Effect.mapError(
      (e) =>
        new PipelineConfigError({
          reason: "Attribute",
          detail: `exporter: ${firstPerKey(ParseResult.ArrayFormatter.formatErrorSync(e)).map(issueText).join("; ")}`
        })
    ),
    Effect.map((k) => ({
      url: k["findings.url"],
      iamUrl: k["findings.iamurl"],
      accountId: k["findings.accountid"],
      provider: k["findings.provider"],
      region: k["findings.region"],
      sqlQueryUrl: k["findings.sqlqueryurl"],
      sqlQueryCrn: k["findings.sqlquerycrn"],
      s3Region: k["findings.s3region"],
      s3Bucket: k["findings.s3bucket"],
      s3Prefix: k["findings.s3prefix"],
      path: k["findings.path"],
      poolCapacity: k["findings.pool.capacity"],
      poolMaxAge: k["findings.pool.maxage"],
      clusterId: k["cluster.id"]
    }))
  )
