/**
 * Checks decoded SysFlow datums against a writer schema (the JSON value from a trace header): every
 * field of the datum's branch has the JavaScript shape the decoder promises — `long` a bigint in the
 * int64 range, `int` an integer in the int32 range, `fixed` the hex text of its size, enums one of their
 * symbols, and so on. Used by the fuzz tests to show that whatever a corrupt input yields is well-formed.
 */
import { ContainerTypes, RecordFullName, type SysFlowDatum } from "../../src/domain/sysflow.js"

type Json = unknown

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Named types of a schema, by full name (namespaces inherited as Avro says). */
const collectNames = (schema: Json, ns: string | undefined, out: Map<string, Record<string, unknown>>): void => {
  if (Array.isArray(schema)) {
    for (const s of schema) collectNames(s, ns, out)
    return
  }
  if (!isObject(schema)) return
  const t = schema.type
  if ((t === "record" || t === "error" || t === "enum" || t === "fixed") && typeof schema.name === "string") {
    const space = typeof schema.namespace === "string" ? schema.namespace : ns
    const full = schema.name.includes(".") || space === undefined || space === "" ? schema.name : `${space}.${schema.name}`
    out.set(full, schema)
    const inner = full.includes(".") ? full.slice(0, full.lastIndexOf(".")) : undefined
    if (t === "record" || t === "error") {
      for (const f of (schema.fields as ReadonlyArray<Record<string, unknown>>) ?? []) collectNames(f.type, inner, out)
    }
    return
  }
  if (t === "array") collectNames(schema.items, ns, out)
  else if (t === "map") collectNames(schema.values, ns, out)
  else if (isObject(t) || Array.isArray(t)) collectNames(t, ns, out)
}

export interface ShapeChecker {
  /** Undefined when the datum fits the schema, else what is wrong (with a path into the record). */
  readonly check: (d: SysFlowDatum) => string | undefined
}

/** A checker for datums read with `writerSchema`. */
export const shapeChecker = (writerSchema: Json): ShapeChecker => {
  const names = new Map<string, Record<string, unknown>>()
  collectNames(writerSchema, undefined, names)

  const resolve = (name: string, ns: string | undefined): Json =>
    names.get(name) ?? (ns === undefined ? undefined : names.get(`${ns}.${name}`))

  const value = (schema: Json, v: unknown, path: string, ns: string | undefined, depth: number): string | undefined => {
    if (depth > 64) return undefined
    if (Array.isArray(schema)) {
      // A union: some branch must accept the value.
      const errs = schema.map((s) => value(s, v, path, ns, depth + 1))
      return errs.some((e) => e === undefined) ? undefined : `${path}: fits no union branch (${errs.join("; ")})`
    }
    if (typeof schema === "string") {
      switch (schema) {
        case "null":
          return v === null ? undefined : `${path}: expected null`
        case "boolean":
          return typeof v === "boolean" ? undefined : `${path}: expected a boolean`
        case "int":
          return typeof v === "number" && Number.isInteger(v) && (v | 0) === v ? undefined : `${path}: expected an int32, got ${String(v)}`
        case "long":
          return typeof v === "bigint" && v >= INT64_MIN && v <= INT64_MAX ? undefined : `${path}: expected an int64 bigint, got ${String(v)}`
        case "float":
        case "double":
          return typeof v === "number" ? undefined : `${path}: expected a number`
        case "string":
          return typeof v === "string" ? undefined : `${path}: expected a string`
        case "bytes":
          return v instanceof Uint8Array ? undefined : `${path}: expected bytes`
        default: {
          const named = resolve(schema, ns)
          return named === undefined ? undefined : value(named, v, path, ns, depth + 1)
        }
      }
    }
    if (!isObject(schema)) return undefined
    const t = schema.type
    switch (t) {
      case "record":
      case "error": {
        if (!isObject(v)) return `${path}: expected a record`
        const fullNs = typeof schema.namespace === "string" ? schema.namespace : ns
        for (const f of (schema.fields as ReadonlyArray<Record<string, unknown>>) ?? []) {
          const e = value(f.type, v[f.name as string], `${path}.${String(f.name)}`, fullNs, depth + 1)
          if (e !== undefined) return e
        }
        return undefined
      }
      case "enum": {
        const symbols = (schema.symbols as ReadonlyArray<string>) ?? []
        // Container types outside the known set read as CT_DOCKER (D14).
        const ok = symbols.includes(v as string) || (schema.name === "ContainerType" && (ContainerTypes as ReadonlyArray<string>).includes(v as string))
        return ok ? undefined : `${path}: ${String(v)} is not a symbol of ${String(schema.name)}`
      }
      case "fixed":
        // Fixed values (SysFlow's FOID) are held as lowercase hex text.
        return typeof v === "string" && v.length === 2 * Number(schema.size) && /^[0-9a-f]*$/.test(v)
          ? undefined
          : `${path}: expected ${String(schema.size)} fixed bytes as hex`
      case "array": {
        if (!Array.isArray(v)) return `${path}: expected an array`
        for (let i = 0; i < v.length; i++) {
          if (!(i in v)) return `${path}[${i}]: hole in array`
          const e = value(schema.items, v[i], `${path}[${i}]`, ns, depth + 1)
          if (e !== undefined) return e
        }
        return undefined
      }
      case "map": {
        if (!isObject(v)) return `${path}: expected a map`
        for (const [k, x] of Object.entries(v)) {
          const e = value(schema.values, x, `${path}[${JSON.stringify(k)}]`, ns, depth + 1)
          if (e !== undefined) return e
        }
        return undefined
      }
      default:
        return value(t, v, path, ns, depth + 1)
    }
  }

  return {
    check: (d) => {
      if (!Number.isInteger(d.code) || d.code < 0 || d.code > 11) return `bad record code ${String(d.code)}`
      if (!isObject(d.rec)) return `record ${d.code} is not an object`
      const branch = names.get(RecordFullName[d.code])
      if (branch === undefined) return `record ${d.code} (${RecordFullName[d.code]}) is not in the writer schema`
      return value(branch, d.rec, RecordFullName[d.code], undefined, 0)
    }
  }
}

/** A stable text form of datums, for comparing two reads (bigints and byte arrays included). */
export const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === "bigint") return `${x}n`
    if (x instanceof Uint8Array) return `bytes:${Buffer.from(x.buffer, x.byteOffset, x.length).toString("hex")}`
    if (isObject(x) && x.type === "Buffer" && Array.isArray(x.data)) return `bytes:${Buffer.from(x.data as number[]).toString("hex")}`
    return x
  })
