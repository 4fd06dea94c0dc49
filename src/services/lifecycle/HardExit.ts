/**
 * What must happen, synchronously, when the process exits without draining (a second SIGINT/SIGTERM:
 * exit 130). Outputs register a hook that leaves their target consistent (for example, a file
 * truncated back to its last complete line); the signal handler runs every hook, then exits.
 * Plain functions on purpose: they run inside a signal handler, outside any fiber.
 */
const hooks = new Set<() => void>()

/** Registers a hook; the returned function removes it (call it when the output closes). */
export const onHardExit = (hook: () => void): (() => void) => {
  hooks.add(hook)
  return () => void hooks.delete(hook)
}

/** Runs every registered hook once (a hook that throws does not stop the others). */
export const runHardExitHooks = (): void => {
  for (const hook of [...hooks]) {
    try {
      hook()
    } catch {
      // exiting anyway: a failed hook must not keep the process alive
    }
  }
  hooks.clear()
}
