/**
 * The shape of a rule's specification: its priority and tags, the activity it must report (each case
 * builds a small trace) and the benign twins it must leave alone. `runtimeIntegrityRules.test.ts` turns
 * every case into a test named "<rule> fires for <title>" / "<rule> stays quiet for <title>".
 */
import type { RecordType } from "../../src/domain/flatRecord.js"
import type { ContainerHandle, Image, Scene } from "./support.js"
import { img } from "./support.js"
import type { TraceProcess } from "../../src/services/trace/TraceWriter.js"

export interface Case {
  /** Completes "<rule> fires for …" or "<rule> stays quiet for …". */
  readonly title: string
  readonly build: (s: Scene) => void
  /** How many alerts of the rule the trace must give (default 1). */
  readonly alerts?: number
  /** Record type of the alerts, or of each alert in order (default: the rule's `on`). */
  readonly on?: RecordType | ReadonlyArray<RecordType>
}

export interface RuleSpec {
  readonly rule: string
  readonly priority: "Low" | "Medium" | "High"
  /** The rule's exact tags. */
  readonly tags: ReadonlyArray<string>
  /** The record type its alerts are usually on. */
  readonly on: RecordType
  readonly fires: ReadonlyArray<Case>
  readonly quiet: ReadonlyArray<Case>
}

// ---------------------------------------------------------------------------------------------------
// Scene fragments shared by the specifications

export const run = img.run

/** An nginx container: the master is the entry point, a worker (user nginx) serves requests. */
export const webContainer = (s: Scene): { readonly c: ContainerHandle; readonly worker: TraceProcess } => {
  const c = s.container({ name: "web", image: "docker.io/library/nginx:1.25.3", entry: img.nginx() })
  const worker = s.running(img.nginxWorker(), c.entry, { containerId: c.id })
  return { c, worker }
}

/** An application container whose entry point is a Node.js server (or `entry`). */
export const appContainer = (s: Scene, entry: Image = run("/usr/local/bin/node", "/srv/app/server.js")): ContainerHandle =>
  s.container({ name: "app", image: "registry.local/shop/app:2.4.1", entry })

/** `kubectl exec -it <app> -- sh`: an interactive shell in an application container. */
export const containerShell = (s: Scene): { readonly c: ContainerHandle; readonly sh: TraceProcess } => {
  const c = appContainer(s)
  return { c, sh: s.execInto(c, { exe: "/bin/sh", tty: true }) }
}

/** A shell started by nginx's worker in a web container (command injection). */
export const webShell = (s: Scene, args = "-c id"): TraceProcess => {
  const { worker } = webContainer(s)
  return s.spawn(worker, img.sh(args))
}

/** A host web server that runs PHP. */
export const hostPhpFpm = (s: Scene): TraceProcess =>
  s.hostService(run("/usr/sbin/php-fpm8.2", "--nodaemonize --fpm-config /etc/php/8.2/fpm/php-fpm.conf", { uid: 33, user: "www-data" }))

/** root's login shell on the host. */
export const rootShell = (s: Scene): TraceProcess => s.loginShell("root", 0)

/** dpkg unpacking a package (already running when the capture started), in the host or a container. */
export const runningDpkg = (s: Scene, containerId: string | null = null): TraceProcess =>
  s.running(run("/usr/bin/dpkg", "--unpack /var/cache/apt/archives/pkg.deb"), s.systemd, { containerId })
