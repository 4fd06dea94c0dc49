/**
 * Open flags (data-model §4.2): sysdig PPM values, not Linux `O_*`. A name is included when
 * `value & bit == bit`, so RDWR (3) also yields RDONLY and WRONLY, as in the reference.
 */

export const OpenFlag = {
  NONE: 0,
  RDONLY: 1 << 0,
  WRONLY: 1 << 1,
  RDWR: (1 << 0) | (1 << 1),
  CREAT: 1 << 2,
  APPEND: 1 << 3,
  DSYNC: 1 << 4,
  EXCL: 1 << 5,
  NONBLOCK: 1 << 6,
  SYNC: 1 << 7,
  TRUNC: 1 << 8,
  DIRECT: 1 << 9,
  DIRECTORY: 1 << 10,
  LARGEFILE: 1 << 11,
  CLOEXEC: 1 << 12
} as const

/** Rendering order of the reference (not bit order). */
const order: ReadonlyArray<readonly [string, number]> = [
  ["RDONLY", OpenFlag.RDONLY],
  ["WRONLY", OpenFlag.WRONLY],
  ["RDWR", OpenFlag.RDWR],
  ["CREAT", OpenFlag.CREAT],
  ["EXCL", OpenFlag.EXCL],
  ["TRUNC", OpenFlag.TRUNC],
  ["APPEND", OpenFlag.APPEND],
  ["NONBLOCK", OpenFlag.NONBLOCK],
  ["DSYNC", OpenFlag.DSYNC],
  ["DIRECT", OpenFlag.DIRECT],
  ["LARGEFILE", OpenFlag.LARGEFILE],
  ["DIRECTORY", OpenFlag.DIRECTORY],
  ["CLOEXEC", OpenFlag.CLOEXEC],
  ["SYNC", OpenFlag.SYNC]
]

const cache = new Map<number, ReadonlyArray<string>>()

/** Names in the reference order; `["NONE"]` for 0. Results are shared, callers must not mutate them. */
export const openFlagNames = (value: number): ReadonlyArray<string> => {
  let v = cache.get(value)
  if (v === undefined) {
    const out: Array<string> = value === OpenFlag.NONE ? ["NONE"] : []
    for (const [name, bit] of order) if ((value & bit) === bit) out.push(name)
    v = Object.freeze(out)
    cache.set(value, v)
  }
  return v
}

/** Open for reading: RDONLY bit set (RDWR included). */
export const isOpenRead = (value: number): boolean => (value & OpenFlag.RDONLY) === OpenFlag.RDONLY

/** Open for writing: WRONLY bit set (RDWR included). */
export const isOpenWrite = (value: number): boolean => (value & OpenFlag.WRONLY) === OpenFlag.WRONLY
