/**
 * The `findings.*` keys (pipeline.md §12), decoded with Schema from the exporter's attributes. Only read
 * when `export` is `findings` (and so, F6, `format` is `occurrence`): P2.
 *
 * The API key is not here: it is a secret (`readSecret`), read by the transport alone.
 */
import { Effect } from "effect"
import { HttpUrl, NonEmptyText, Text, WholeNumber, withDefault } from "../../../domain/configValues.js"
import type { PipelineConfigError } from "../../../domain/errors.js"
import { decodeAttributes } from "../../kernel/AttributeDecoder.js"

export const DEFAULT_FINDINGS_URL = "https://us-south.secadvisor.cloud.ibm.com/findings"
export const DEFAULT_IAM_URL = "https://iam.cloud.ibm.com/identity/token"
export const DEFAULT_SQLQUERY_URL = "https://us.sql-query.cloud.ibm.com/sqlquery"
export const DEFAULT_FINDINGS_PATH = "/mnt/occurrences"
export const DEFAULT_POOL_CAPACITY = 250
export const DEFAULT_POOL_MAXAGE = 1440

const Keys = {
  "findings.url": withDefault(HttpUrl, DEFAULT_FINDINGS_URL),
  "findings.iamurl": withDefault(HttpUrl, DEFAULT_IAM_URL),
  "findings.accountid": withDefault(Text, ""),
  "findings.provider": withDefault(Text, ""),
  "findings.region": withDefault(Text, ""),
  "findings.sqlqueryurl": withDefault(Text, DEFAULT_SQLQUERY_URL),
  "findings.sqlquerycrn": withDefault(Text, ""),
  "findings.s3region": withDefault(Text, ""),
  "findings.s3bucket": withDefault(Text, ""),
  "findings.s3prefix": withDefault(Text, ""),
  "findings.path": withDefault(NonEmptyText, DEFAULT_FINDINGS_PATH),
  "findings.pool.capacity": withDefault(WholeNumber({ min: 0 }), DEFAULT_POOL_CAPACITY),
  "findings.pool.maxage": withDefault(WholeNumber({ min: 0 }), DEFAULT_POOL_MAXAGE),
  "cluster.id": withDefault(Text, "")
}

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

export const decodeFindingsConfig = (
  attrs: Readonly<Record<string, unknown>>
): Effect.Effect<FindingsConfig, PipelineConfigError> =>
  decodeAttributes("exporter", Keys, attrs).pipe(
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
