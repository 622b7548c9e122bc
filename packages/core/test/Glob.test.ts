import { assert, describe, it } from "@effect/vitest"
import { CacheTier } from "@layercake/core"

describe("globMatcher (Redis glob syntax)", () => {
  it("matches like SCAN MATCH", () => {
    const cases: ReadonlyArray<readonly [string, string, boolean]> = [
      ["product:42:*", "product:42:a", true],
      ["product:42:*", "product:42:", true],
      ["product:42:*", "product:420:a", false],
      ["h?llo", "hello", true],
      ["h?llo", "hllo", false],
      ["h[ae]llo", "hallo", true],
      ["h[ae]llo", "hillo", false],
      ["h[^e]llo", "hallo", true],
      ["h[^e]llo", "hello", false],
      ["h[a-c]llo", "hbllo", true],
      ["h\\*llo", "h*llo", true],
      ["h\\*llo", "hello", false],
      ["a.b(c)+", "a.b(c)+", true],
      ["a.b", "axb", false],
      ["🙂*", "🙂x", true],
      ["x[", "x[", true]
    ]
    for (const [pattern, text, expected] of cases) {
      assert.strictEqual(CacheTier.globMatcher(pattern)(text), expected, `${pattern} vs ${text}`)
    }
  })
})
