/**
 * Build manifest reported by `-version` (pipeline.md §1). sfprocessor reports the reference's manifest
 * (sf-processor 0.7.0, `makefile.manifest.inc`) because it reads and writes the same formats.
 */

export const SYSFLOW_VERSION = "0.7.0"
export const BUILD_NUMBER = "1"
/** Default of `SFHeader.version`: the Avro schema version of the SysFlow records. */
export const AVRO_SCHEMA_VERSION = 4
export const JSON_SCHEMA_VERSION = 5
export const ECS_VERSION = "8.2"

/** The exact `-version` line, without the trailing newline. */
export const VERSION_LINE =
  `Version: ${SYSFLOW_VERSION}+${BUILD_NUMBER}, Avro Schema Version: ${AVRO_SCHEMA_VERSION}, ` +
  `Export Schema Version: ${JSON_SCHEMA_VERSION} (JSON), ${ECS_VERSION} (ECS)`
