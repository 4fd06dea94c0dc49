/**
 * What an output path names on disk: the file it reaches once every symlink is followed (what `open`
 * creates when it does not exist yet), and whether that file may be rotated. Used to validate
 * `file.path` at load, to rotate the previous export, and to compare outputs with inputs by real path.
 */
import * as fs from "node:fs/promises"
import type { Stats } from "node:fs"
import * as path from "node:path"

export interface FileTarget {
  /** The path as configured (what is opened). */
  readonly path: string
  /** The file it reaches, symlinks followed; for a path that does not exist yet, its real directory and name. */
  readonly real: string
  /** The target's status (symlinks followed); undefined when it does not exist yet. */
  readonly stat: Stats | undefined
  /**
   * Reached through /proc (`/dev/stdout` is a link to /proc/self/fd/1): a file another process opened
   * for us (a shell redirection), which is written but never rotated.
   */
  readonly viaProc: boolean
}

const MAX_HOPS = 40

const absent = (e: unknown): undefined => {
  if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
  throw e
}

/**
 * Follows `p` hop by hop: each hop's directory by realpath, its last part by readlink, so a dangling
 * link resolves to the file `open` would create. Spelling is not normalised before the directory is
 * resolved (`x/../y` goes through x's real target, as the kernel does). Fails when a directory on the
 * way does not exist, or after 40 links (ELOOP).
 */
export const resolveFileTarget = async (p: string): Promise<FileTarget> => {
  const stat = await fs.stat(p).catch(absent)
  let at = path.isAbsolute(p) ? p : `${process.cwd()}/${p}`
  let viaProc = false
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const name = path.basename(at)
    if (name === "." || name === ".." || name === "") return { path: p, real: await fs.realpath(at), stat, viaProc }
    const dir = await fs.realpath(path.dirname(at))
    viaProc ||= dir === "/proc" || dir.startsWith("/proc/")
    const file = path.join(dir, name)
    const link = await fs.readlink(file).catch(() => undefined)
    if (link === undefined) return { path: p, real: file, stat, viaProc }
    at = path.isAbsolute(link) ? link : `${dir}/${link}`
  }
  throw Object.assign(new Error(`ELOOP: too many symbolic links, ${p}`), { code: "ELOOP" })
}

/** A regular file this process owns the name of: rotated at open, truncated back on a write error. */
export const isOwnRegularFile = (t: FileTarget): boolean => !t.viaProc && (t.stat === undefined || t.stat.isFile())

/**
 * Checks, without touching anything, that the target can be written: its directory writable when this
 * process creates or rotates it (a regular file), the target itself when it exists. Fails with the
 * system error (ENOENT, EACCES, EROFS, ...).
 */
export const checkWritable = async (t: FileTarget): Promise<void> => {
  if (isOwnRegularFile(t)) await fs.access(path.dirname(t.real), fs.constants.W_OK)
  if (t.stat !== undefined) await fs.access(t.path, fs.constants.W_OK)
}

/** Where the previous export goes: `<real path>.1`, beside the data (a rename cannot cross filesystems). */
export const rotatedPath = (t: FileTarget): string => `${t.real}.1`

/**
 * Keeps the previous run's output: a non-empty regular file is renamed to `<real path>.1` (an older
 * `.1` is replaced). Nothing else is ever moved. Returns where it went, if anywhere.
 */
export const rotatePrevious = async (t: FileTarget): Promise<string | undefined> => {
  if (!isOwnRegularFile(t)) return undefined
  const now = await fs.stat(t.real).catch(absent)
  if (now === undefined || !now.isFile() || now.size === 0) return undefined
  await fs.rename(t.real, rotatedPath(t))
  return rotatedPath(t)
}
