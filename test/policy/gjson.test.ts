/**
 * The gjson subset behind `attr[path]` (policy-language.md §6.2, §11): dotted keys, array indexes, `#`,
 * and gjson's `String()` rendering.
 */
import { describe, expect, it } from "vitest"
import { gjsonGet } from "../../src/services/policy/Gjson.js"

const doc = `{
  "kind": "PodList",
  "items": [
    {"metadata": {"name": "web", "namespace": "robot-shop"}, "port": 8080, "ratio": 1.50, "ok": true, "none": null},
    {"metadata": {"name": "db", "namespace": "robot-shop"}, "port": 5432, "tags": ["a", "b"]}
  ],
  "a.b": "dotted",
  "esc": "line\\nbreak \\"q\\""
}`

describe("gjsonGet", () => {
  it.each([
    ["kind", "PodList"],
    ["items.0.metadata.name", "web"],
    ["items.1.metadata.namespace", "robot-shop"],
    ["items.0.port", "8080"],
    ["items.0.ratio", "1.50"],
    ["items.0.ok", "true"],
    ["items.0.none", ""],
    ["items.1.tags", '["a", "b"]'],
    ["items.0.metadata", '{"name": "web", "namespace": "robot-shop"}'],
    ["items.#", "2"],
    ["items.#.port", "[8080,5432]"],
    ["items.#.metadata.name", '["web","db"]'],
    ["items.1.tags.#", "2"],
    ["items.2", ""],
    ["items.x", ""],
    ["missing", ""],
    ["kind.x", ""],
    ["a\\.b", "dotted"],
    ["it*s.0.port", "8080"],
    ["esc", 'line\nbreak "q"']
  ])("%s → %j", (path, want) => expect(gjsonGet(doc, path)).toBe(want))

  it("works on arrays at the top level (sf.pod.services, sf.pod.hostip)", () => {
    expect(gjsonGet('["1.2.3.4","5.6.7.8"]', "1")).toBe("5.6.7.8")
    expect(gjsonGet('[{"name":"svc","clusterIP":[1,2]}]', "0.clusterIP.0")).toBe("1")
  })

  it("gives '' for anything that is not JSON", () => {
    expect(gjsonGet("python,bash", "1")).toBe("")
    expect(gjsonGet("", "a")).toBe("")
    expect(gjsonGet("{broken", "a")).toBe("")
  })
})

describe("wildcard keys (security review S5)", () => {
  it("match like gjson's * and ?, and a pathological pattern ends (it took minutes as a regular expression)", async () => {
    const { wildcardMatch } = await import("../../src/services/policy/Gjson.js")
    expect(wildcardMatch("na*e", "name")).toBe(true)
    expect(wildcardMatch("n?me", "name")).toBe(true)
    expect(wildcardMatch("*", "")).toBe(true)
    expect(wildcardMatch("a*b*c", "axxbyyc")).toBe(true)
    expect(wildcardMatch("a*b*c", "axxbyy")).toBe(false)
    expect(wildcardMatch("a.b", "a.b")).toBe(true)
    expect(wildcardMatch("a?c", "abbc")).toBe(false)
    expect(wildcardMatch("*a*a*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(64))).toBe(false)
  })
})
