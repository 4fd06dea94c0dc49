/**
 * Locates ../shared (the specs, real traces and reference outputs). Tests that need it skip with a
 * clear message when it is absent, so a fresh clone still passes `npm test`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

export const sharedDir = path.resolve(projectRoot, "..", "shared")
export const hasShared = fs.existsSync(path.join(sharedDir, "traces"))
export const sharedPath = (...parts: string[]): string => path.join(sharedDir, ...parts)

/** Every `.yaml`/`.yml` file under `dir`, recursively, in name order (as the policy loader reads them). */
export const yamlFilesUnder = (dir: string): Array<string> =>
  fs
    .readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = path.join(dir, n)
      return fs.statSync(p).isDirectory() ? yamlFilesUnder(p) : /\.ya?ml$/.test(n) ? [p] : []
    })

if (!hasShared && process.env.SF_REQUIRE_SHARED === "1") {
  throw new Error(`SF_REQUIRE_SHARED=1 but ${sharedDir} is absent`)
}
if (!hasShared) {
  console.warn(`[skip] ${sharedDir} is absent: conformance tests against the shared traces are skipped`)
}

/** The five shared traces with their record counts per short type (data-model.md §6). */
export const sharedTraces: ReadonlyArray<{ readonly name: string; readonly counts: Readonly<Record<string, number>> }> = [
  { name: "1621959914", counts: { H: 1, C: 1, P: 68, F: 2905, PE: 127, FF: 5609, FE: 83, NF: 3 } },
  { name: "httpd.sf", counts: { H: 1, C: 1, P: 5, F: 4, FF: 4, NF: 1 } },
  { name: "k8s_small.sf", counts: { H: 1, PD: 19, C: 23, P: 217, F: 666, PE: 341, FF: 3383, NF: 1511, FE: 8, KE: 4 } },
  { name: "shellshock.sf", counts: { H: 1, C: 1, P: 13, F: 19, PE: 9, FF: 47 } },
  { name: "tcp.sf", counts: { H: 1, P: 10, F: 2, PE: 4, FF: 4, NF: 2 } }
]
