/**
 * The names of Falco's fields, to tell a field SysFlow data cannot answer (a real Falco field: the rule
 * stays listed, inactive) from a name that is no field at all (a typo such as `proc.nmae`: a compile
 * error, or the rule skipped under `skip-if-unknown-filter`, as Falco does).
 *
 * Facts read from falcosecurity/libs at 48dfd53cd23f95720521d41b89883bbc35c8567f, the field tables of
 * userspace/libsinsp/sinsp_filtercheck_*.cpp (names and whether a field takes an argument). Per class
 * (the name's first component), space-separated names without the class; a suffix says the argument:
 * `[]` an optional one (`proc.aname[2]`, `proc.env[HOME]`), `.*` a required one, written `.arg` or
 * `[arg]` (`evt.arg.flags`, `evt.arg[0]`). libs matches a field as the longest known name the text
 * starts with, then reads the rest as the argument; so do we.
 */
import { editDistance } from "./ListNameCheck.js"

const LIBS_FIELDS: Readonly<Record<string, string>> = {
  evt: [
    "latency latency.s latency.ns latency.quantized latency.human deltatime deltatime.s deltatime.ns",
    "outputtime dir type type.is.* category cpu args arg.* rawarg.* info buffer buflen res rawres failed",
    "is_io is_io_read is_io_write io_dir is_wait wait_latency is_syslog count count.error",
    "count.error.file count.error.net count.error.memory count.error.other count.exit count.procinfo",
    "count.threadinfo abspath.* buflen.in buflen.out buflen.file buflen.file.in buflen.file.out",
    "buflen.net buflen.net.in buflen.net.out is_open_read is_open_write infra.docker.name",
    "infra.docker.container.id infra.docker.container.name infra.docker.container.image is_open_exec",
    "is_open_create num time time.s time.iso8601 datetime datetime.s rawtime rawtime.s rawtime.ns reltime",
    "reltime.s reltime.ns pluginname plugininfo source is_async asynctype hostname"
  ].join(" "),
  syscall: "type",
  fd: [
    "num type typechar name directory filename ip cip sip lip rip port cport sport lport rport l4proto",
    "sockfamily is_server uid containername containerdirectory proto cproto sproto lproto rproto net cnet",
    "snet lnet rnet connected name_changed cip.name sip.name lip.name rip.name dev dev.major dev.minor",
    "ino nameraw types[] is_upper_layer is_lower_layer"
  ].join(" "),
  fdlist: "nums names cips sips cports sports",
  fs: "path.name path.nameraw path.source path.sourceraw path.target path.targetraw",
  group: "gid name",
  proc: [
    "exe pexe aexe[] exepath pexepath aexepath[] name pname aname[] args[] aargs[] cmdline pcmdline",
    "acmdline[] cmdnargs cmdlenargs exeline env[] aenv[] cwd loginshellid tty pid ppid apid[] vpid pvpid",
    "sid sname sid.exe sid.exepath vpgid vpgid.name vpgid.exe vpgid.exepath pgid pgid.name pgid.exe",
    "pgid.exepath duration ppid.duration pid.ts ppid.ts is_exe_writable is_exe_upper_layer",
    "is_exe_lower_layer is_exe_from_memfd is_sid_leader is_vpgid_leader is_pgid_leader exe_ino",
    "exe_ino.ctime exe_ino.mtime exe_ino.ctime_duration_proc_start exe_ino.ctime_duration_pidns_start",
    "pidns_init_start_ts fdopencount fdlimit fdusage vmsize vmrss vmswap nthreads nchilds stdin.type",
    "stdout.type stderr.type stdin.name stdout.name stderr.name"
  ].join(" "),
  thread: [
    "cap_permitted cap_inheritable cap_effective pfmajor pfminor tid ismain vtid nametid exectime",
    "totexectime cgroups cgroup.* cpu cpu.user cpu.system vmsize vmrss vmsize.b vmrss.b"
  ].join(" "),
  user: "uid name homedir shell loginuid loginname",
  util: "cnt"
}

/**
 * Field classes that plugins provide, not libs (Falco loads them with the plugin): any name under them
 * is taken as a field of that plugin. `container` (also `k8s.pod.*`, `k8s.ns.name` and the
 * `proc.is_container_*` probes) is the container plugin's, which falcosecurity/rules requires; the
 * others belong to event sources other than syscalls.
 */
const PLUGIN_CLASSES: ReadonlyMap<string, string> = new Map([
  ["container", "container"],
  ["k8s", "container"],
  ["k8smeta", "k8smeta"],
  ["ka", "k8saudit"],
  ["ct", "cloudtrail"],
  ["json", "json"],
  ["okta", "okta"],
  ["github", "github"],
  ["gcp", "gcpaudit"]
])
const PLUGIN_FIELDS: ReadonlyMap<string, string> = new Map([
  ["proc.is_container_healthcheck", "container"],
  ["proc.is_container_liveness_probe", "container"],
  ["proc.is_container_readiness_probe", "container"]
])

type Argument = "none" | "optional" | "required"

const FIELDS: ReadonlyMap<string, Argument> = new Map(
  Object.entries(LIBS_FIELDS).flatMap(([cls, names]) =>
    names.split(" ").map((n): [string, Argument] =>
      n.endsWith("[]") ? [`${cls}.${n.slice(0, -2)}`, "optional"] : n.endsWith(".*") ? [`${cls}.${n.slice(0, -2)}`, "required"] : [`${cls}.${n}`, "none"]
    )
  )
)

/** Where a Falco field comes from: libs, or the plugin that provides it. */
export type FalcoFieldSource = { readonly source: "libs" } | { readonly source: "plugin"; readonly plugin: string }

const LIBS: FalcoFieldSource = { source: "libs" }

/**
 * `name` as written in a condition (with its argument, if any: `proc.aname[2]`, `evt.arg.flags`) when it
 * is a Falco field, with where it comes from; undefined when it is no Falco field.
 */
export const falcoFieldSource = (name: string): FalcoFieldSource | undefined => {
  const bracket = name.indexOf("[")
  const base = bracket < 0 ? name : name.slice(0, bracket)
  const hasBracketArg = bracket >= 0 && name.endsWith("]") && bracket + 1 < name.length - 1
  const plugin = PLUGIN_FIELDS.get(base) ?? PLUGIN_CLASSES.get(base.split(".")[0])
  if (plugin !== undefined && base.includes(".")) return { source: "plugin", plugin }
  if (bracket >= 0 && !hasBracketArg) return undefined
  // The longest known name the text starts with; the rest is its argument.
  for (let end = base.length; end > 0; end = base.lastIndexOf(".", end - 1)) {
    const arg = FIELDS.get(base.slice(0, end))
    if (arg === undefined) continue
    // A dotted argument (`evt.arg.flags`): only where one is required, and not with a bracket one too.
    if (end < base.length) return arg === "required" && !hasBracketArg ? LIBS : undefined
    if (hasBracketArg) return arg === "none" ? undefined : LIBS
    return arg === "required" ? undefined : LIBS
  }
  return undefined
}

/** ` (did you mean 'proc.name'?)` when a libs field is within two edits of `name` (without its argument); else "". */
export const didYouMean = (name: string): string => {
  const base = name.replace(/\[.*$/, "")
  let best: string | undefined
  let bestDistance = 3
  for (const field of FIELDS.keys()) {
    const d = editDistance(base, field, bestDistance)
    if (d < bestDistance) [best, bestDistance] = [field, d]
  }
  return best === undefined ? "" : ` (did you mean '${best}'?)`
}
