/**
 * `import()` for modules loaded on first use (plugins, actions, the socket binding, the Elasticsearch
 * client). The CLI runs its bundle from V8's code cache (bin/sfprocessor.js), and a cached script's own
 * `import()` has lost Node's callback for it ("A dynamic import callback was not specified"): there the
 * loader provides the import, an ES module's, under this symbol (and `require.resolve` from the bundle's
 * place, which a CommonJS bundle cannot read off `import.meta`). Everywhere else (the library, tests) it is
 * the module's own.
 */
import { createRequire } from "node:module"

const LOADER_IMPORT = Symbol.for("sfprocessor.import")

type Importer = (specifier: string) => Promise<unknown>

export const importModule = <A = Record<string, unknown>>(specifier: string): Promise<A> => {
  const loaderImport = (globalThis as { [LOADER_IMPORT]?: Importer })[LOADER_IMPORT]
  return (loaderImport === undefined ? import(specifier) : loaderImport(specifier)) as Promise<A>
}

const LOADER_RESOLVE = Symbol.for("sfprocessor.resolve")

/** The file `require(specifier)` would load (for code that must load it elsewhere, e.g. in a worker thread). */
export const resolveModule = (specifier: string): string => {
  const loaderResolve = (globalThis as { [LOADER_RESOLVE]?: (specifier: string) => string })[LOADER_RESOLVE]
  return loaderResolve === undefined ? createRequire(import.meta.url).resolve(specifier) : loaderResolve(specifier)
}

const LOADER_ENTRY = Symbol.for("sfprocessor.entry")

/** The script that started the CLI (bin/sfprocessor.js), which file workers run too; undefined outside the CLI. */
export const loaderEntry = (): string | undefined => (globalThis as { [LOADER_ENTRY]?: string })[LOADER_ENTRY]
