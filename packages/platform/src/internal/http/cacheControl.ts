/**
 * `Cache-Control` parsing (RFC 9111 §5.2) that never throws: malformed
 * directives are skipped, the first occurrence of a directive wins
 * (§4.2.1), and a delta-seconds value that is not a non-negative integer
 * reads as absent.
 *
 * @internal
 */

/** @internal */
export type Directives = ReadonlyMap<string, string | true>

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

/** Splits on commas outside quoted strings. */
const split = (header: string): Array<string> => {
  const parts: Array<string> = []
  let current = ""
  let quoted = false
  for (let i = 0; i < header.length; i++) {
    const char = header[i]
    if (char === "\"" && header[i - 1] !== "\\") quoted = !quoted
    if (char === "," && !quoted) {
      parts.push(current)
      current = ""
    } else {
      current += char
    }
  }
  parts.push(current)
  return parts
}

const NONE: Directives = new Map()

/** @internal */
export const parse = (header: string | undefined): Directives => {
  if (header === undefined) return NONE
  const directives = new Map<string, string | true>()
  for (const part of split(header)) {
    const equals = part.indexOf("=")
    const name = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase()
    if (!TOKEN.test(name) || directives.has(name)) continue
    if (equals === -1) {
      directives.set(name, true)
      continue
    }
    let value = part.slice(equals + 1).trim()
    if (value.length >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
      value = value.slice(1, -1).replace(/\\(.)/g, "$1")
    }
    directives.set(name, value)
  }
  return directives
}

/** The largest delta-seconds a cache must represent (RFC 9111 §1.2.2). */
const MAX_DELTA = 2 ** 31

/** A delta-seconds directive in seconds, or `undefined` when absent or malformed. @internal */
export const seconds = (directives: Directives, name: string): number | undefined => {
  const value = directives.get(name)
  if (typeof value !== "string" || !/^\d+$/.test(value)) return undefined
  return Math.min(Number(value), MAX_DELTA)
}

/** @internal */
export const has = (directives: Directives, name: string): boolean => directives.has(name)
