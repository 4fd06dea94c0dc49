import { describe, expect, it } from "vitest"
import { batchSize, concatBatches, jsonLinesOf, sliceBatch, TextBatch } from "../../src/services/export/ExportBatch.js"

/** A batch as the JSON encoder makes it: the documents' bytes, each followed by "\n". */
const textBatch = (docs: ReadonlyArray<string>, ids?: ReadonlyArray<string>): TextBatch => {
  const bytes = Buffer.from(docs.map((d) => d + "\n").join(""))
  const ends = new Uint32Array(docs.length)
  let at = 0
  docs.forEach((d, i) => (ends[i] = at += Buffer.byteLength(d) + 1))
  return new TextBatch({ bytes, ends }, ids)
}

describe("export batches", () => {
  const docs = ['{"a":"é"}', '{"b":2}', "{}", '{"c":"€😀"}']

  it("a byte batch decodes its documents on demand, and counts them without decoding", () => {
    const b = textBatch(docs)
    expect(batchSize(b)).toBe(4)
    expect(b.lines).toEqual(docs)
    expect(Buffer.from(jsonLinesOf(b)).toString()).toBe(docs.join("\n") + "\n")
  })

  it("slices and joins byte batches by document, ids following", () => {
    const ids = ["1", "2", "3", "4"]
    const b = textBatch(docs, ids)
    for (let i = 0; i <= 4; i++) {
      for (let j = i; j <= 4; j++) {
        const s = sliceBatch(b, i, j)
        expect(s.lines).toEqual(docs.slice(i, j))
        expect(s.ids).toEqual(ids.slice(i, j))
        expect(Buffer.from(jsonLinesOf(s)).toString()).toBe(docs.slice(i, j).map((d) => d + "\n").join(""))
      }
    }
    const joined = concatBatches([sliceBatch(b, 0, 1), sliceBatch(b, 1, 3), sliceBatch(b, 3, 4)])
    expect(joined.lines).toEqual(docs)
    expect(joined.ids).toEqual(ids)
    expect(Buffer.from(jsonLinesOf(joined)).toString()).toBe(docs.join("\n") + "\n")
  })

  it("joins text and line batches as lines; ids only when every batch has them", () => {
    const joined = concatBatches([textBatch(docs.slice(0, 2)), { lines: docs.slice(2) }])
    expect(joined.text).toBeUndefined()
    expect(joined.lines).toEqual(docs)
    expect(joined.ids).toBeUndefined()
    expect(jsonLinesOf({ lines: [] })).toBe("")
    expect(sliceBatch({ lines: docs, ids: ["a", "b", "c", "d"] }, 1, 3)).toEqual({ lines: docs.slice(1, 3), ids: ["b", "c"] })
  })
})
