/**
 * Falco's `getopt(argv, optstring)` field transformer (libs' multi-value transformers): argv read with
 * getopt(3)'s rules for short options, as libs describes them:
 * * scanning stops at `--`, at the first argument that is not an option (or is `-`), and long options
 *   (`--exec`) are skipped;
 * * clustered options are split (`-nt` is `-n -t`); an option that takes an argument (`t:` in the
 *   optstring) takes the rest of its argument or the next one (`-tvalue`, `-t value`);
 * * the result is the list of option characters, each followed by its argument when it takes one; an
 *   unknown option gives `?`, a missing argument an empty value;
 * * with a selector (`getopt(…)[t]`): only the last value of that option (its argument, or the option
 *   character for an option without one); undefined when the option is absent.
 */

/** The optstring's options, and which take an argument (a leading `:` only changes getopt(3)'s error value). */
const parseOptstring = (optstring: string): ReadonlyMap<string, boolean> => {
  const opts = new Map<string, boolean>()
  for (let i = optstring.startsWith(":") ? 1 : 0; i < optstring.length; i++) {
    const c = optstring[i]
    if (c === ":") continue
    const takesArg = optstring[i + 1] === ":"
    opts.set(c, takesArg)
    if (takesArg) i++
  }
  return opts
}

/** A getopt over `optstring` (and a selected option): argv → values, or the selected value. */
export const getoptOf = (optstring: string, selector?: string): ((argv: ReadonlyArray<string>) => ReadonlyArray<string> | string | undefined) => {
  const opts = parseOptstring(optstring)
  return (argv) => {
    const out: Array<string> = []
    let selected: string | undefined
    const emit = (option: string, value: string | undefined) => {
      if (selector === undefined) out.push(option, ...(value === undefined ? [] : [value]))
      else if (option === selector) selected = value ?? option
    }
    scan: for (let a = 0; a < argv.length; a++) {
      const arg = argv[a]
      if (arg === "--") break
      if (arg.startsWith("--")) continue
      if (!arg.startsWith("-") || arg.length === 1) break
      for (let i = 1; i < arg.length; i++) {
        const c = arg[i]
        const takesArg = c === ":" ? undefined : opts.get(c)
        if (takesArg === undefined) {
          if (selector === undefined) out.push("?")
          continue
        }
        if (!takesArg) {
          emit(c, undefined)
          continue
        }
        const value = i + 1 < arg.length ? arg.slice(i + 1) : a + 1 < argv.length ? argv[++a] : undefined
        if (value === undefined) {
          // A missing argument is an empty value (libs: the option's result is "").
          if (selector === undefined) out.push("")
          else if (c === selector) selected = ""
          break scan
        }
        emit(c, value)
        break
      }
    }
    return selector === undefined ? out : selected
  }
}
