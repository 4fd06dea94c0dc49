/**
 * The syslog wire format of the reference (RackSec/srslog's `RFC5424Formatter` with the default framer,
 * pipeline.md §11.4), byte for byte:
 *
 *     <25>1 2024-05-01T12:00:00-04:00 HOSTNAME APP-NAME PROCID MSGID - MSG\n
 *
 * PRI 25 = facility daemon (3) * 8 + severity alert (1); version 1; local time RFC 3339 to the second
 * (`Z` when the local offset is zero); structured data `-`; MSG = the encoded record, followed by `\n`
 * unless it already ends with one (LF framing on TCP/TLS, one datagram per message on UDP).
 */

/** `<25>`: LOG_DAEMON | LOG_ALERT. */
export const PRI = 25
/** srslog keeps the last 48 characters of the program name (RFC 5424 APP-NAME is at most 48). */
export const APP_NAME_MAX = 48

export interface HeaderFields {
  /** HOSTNAME: `syslog.source`, else the OS host name. */
  readonly hostname: string
  /** APP-NAME (already truncated, see `appNameOf`). */
  readonly appName: string
  /** PROCID: the process id. */
  readonly procId: number
  /** MSGID: `syslog.tag`. */
  readonly msgId: string
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

/**
 * Go's `time.Now().Format(time.RFC3339)`: local date and time to the second and the zone offset as
 * `±hh:mm`, or `Z` when the offset is zero. `offsetMinutes` is minutes east of UTC (the opposite sign
 * of `Date#getTimezoneOffset`); tests pass their own.
 */
export const rfc3339Local = (d: Date, offsetMinutes: number = -d.getTimezoneOffset()): string => {
  // The wall clock at that offset, read with the UTC getters.
  const w = new Date(d.getTime() + offsetMinutes * 60_000)
  const year = w.getUTCFullYear()
  const yyyy = year >= 0 && year < 10000 ? String(year).padStart(4, "0") : String(year)
  let zone = "Z"
  if (offsetMinutes !== 0) {
    const abs = Math.abs(offsetMinutes)
    zone = `${offsetMinutes < 0 ? "-" : "+"}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  }
  return (
    `${yyyy}-${pad2(w.getUTCMonth() + 1)}-${pad2(w.getUTCDate())}` +
    `T${pad2(w.getUTCHours())}:${pad2(w.getUTCMinutes())}:${pad2(w.getUTCSeconds())}${zone}`
  )
}

/**
 * The program name the reference used (`os.Args[0]`): here the script path the user ran
 * (`process.argv[1]`, e.g. `/usr/local/bin/sfprocessor` for a global install), or `sfprocessor` when
 * there is none (embedded use). Characters outside printable US-ASCII (RFC 5424 `PRINTUSASCII`, so no
 * space) are replaced by `_`, since one would break the header's fields.
 */
export const programName = (argv1: string | undefined = process.argv[1]): string => {
  const name = argv1 === undefined || argv1 === "" ? "sfprocessor" : argv1
  return name.replace(/[^\x21-\x7e]/g, "_")
}

/** APP-NAME: the last 48 characters of the program name (srslog's `truncateStartStr`). */
export const appNameOf = (program: string): string =>
  program.length > APP_NAME_MAX ? program.slice(program.length - APP_NAME_MAX) : program

/**
 * Formats messages. The timestamp is taken per message (as srslog does), cached for the current second:
 * `now` reads the transport's Clock; `offsetMinutes` (the local time zone) is injectable for tests.
 */
export const makeFormatter = (
  fields: HeaderFields,
  clock: { readonly now: () => number; readonly offsetMinutes?: (d: Date) => number }
) => {
  const tail = ` ${fields.hostname} ${fields.appName} ${fields.procId} ${fields.msgId} - `
  let second = Number.NaN
  let prefix = ""
  const header = (): string => {
    const now = clock.now()
    const s = Math.floor(now / 1000)
    if (s !== second) {
      second = s
      const d = new Date(s * 1000)
      prefix = `<${PRI}>1 ${rfc3339Local(d, clock.offsetMinutes ? clock.offsetMinutes(d) : -d.getTimezoneOffset())}${tail}`
    }
    return prefix
  }
  return {
    /** One complete message, trailing `\n` included. */
    format: (msg: string): string => header() + (msg.endsWith("\n") ? msg : msg + "\n"),
    header
  }
}

export type Formatter = ReturnType<typeof makeFormatter>
