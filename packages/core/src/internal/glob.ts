/**
 * Redis glob patterns (`*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\` escapes) as
 * matchers, so that every tier matches `invalidatePattern` as Redis `SCAN
 * MATCH` does.
 * @internal
 */
const special = /[.*+?^${}()|[\]\\/]/g

/** @internal */
export const matcher = (pattern: string): (text: string) => boolean => {
  let source = "^"
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]
    if (char === "*") source += "[\\s\\S]*"
    else if (char === "?") source += "[\\s\\S]"
    else if (char === "\\" && i + 1 < pattern.length) source += pattern[++i].replace(special, "\\$&")
    else if (char === "[") {
      const close = pattern.indexOf("]", i + 2)
      if (close === -1) {
        source += "\\["
        continue
      }
      let body = pattern.slice(i + 1, close)
      const negated = body.startsWith("^")
      if (negated) body = body.slice(1)
      source += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`
      i = close
    } else source += char.replace(special, "\\$&")
  }
  const regex = new RegExp(source + "$", "u")
  return (text) => regex.test(text)
}

/** Escapes glob characters, for a literal prefix in front of a pattern. @internal */
export const escape = (text: string): string => text.replace(/[*?[\]\\]/g, "\\$&")
