import * as Duration from "effect/Duration"
import { InvalidKeyError, InvalidOptionError } from "./errors.js"

/** Raised as a defect: an invalid option is a programming error. @internal */
const invalid = (module: string, option: string, value: unknown, expected: string): never => {
  throw new InvalidOptionError({ module, option, value, expected })
}

/** Milliseconds of a Duration input; `NaN` when it is not one. @internal */
export const toMillis = (input: unknown): number => {
  if (typeof input === "number") return input
  const decoded = Duration.decodeUnknown(input)
  return decoded._tag === "None" ? NaN : Duration.toMillis(decoded.value)
}

/** @internal */
export interface DurationBounds {
  /** Accept zero. Default false. */
  readonly zero?: boolean | undefined
  /** Accept an infinite duration. Default false. */
  readonly infinite?: boolean | undefined
}

/** @internal */
export const duration = (
  module: string,
  option: string,
  input: unknown,
  bounds: DurationBounds = {}
): number => {
  const ms = toMillis(input)
  const zero = bounds.zero === true
  const infinite = bounds.infinite === true
  const ok = !Number.isNaN(ms) && (zero ? ms >= 0 : ms > 0) && (infinite || Number.isFinite(ms))
  if (!ok) {
    invalid(
      module,
      option,
      input,
      `a Duration ${zero ? "of zero or more" : "above zero"}${
        infinite ? "" : ", finite"
      } (a number of milliseconds, "250 millis", Duration.seconds(5))`
    )
  }
  return ms
}

/** `duration` when `input` is given, else `fallback`. @internal */
export const optionalDuration = <F extends number | undefined>(
  module: string,
  option: string,
  input: unknown,
  fallback: F,
  bounds?: DurationBounds
): number | F => input === undefined ? fallback : duration(module, option, input, bounds)

/** @internal */
export const integer = (module: string, option: string, input: unknown, min: number, max: number): number => {
  if (typeof input !== "number" || !Number.isInteger(input) || input < min || input > max) {
    invalid(module, option, input, `a whole number from ${min} to ${max}`)
  }
  return input as number
}

/** @internal */
export const positiveNumber = (module: string, option: string, input: unknown): number => {
  if (typeof input !== "number" || !(input > 0)) invalid(module, option, input, "a number above zero")
  return input as number
}

/** @internal */
export const fraction = (module: string, option: string, input: unknown): number => {
  if (typeof input !== "number" || !(input >= 0 && input <= 1)) invalid(module, option, input, "a number from 0 to 1")
  return input as number
}

/** @internal */
export const oneOf = <const L extends ReadonlyArray<string>>(
  module: string,
  option: string,
  input: unknown,
  accepted: L
): L[number] => {
  if (typeof input !== "string" || !accepted.includes(input)) {
    invalid(module, option, input, `one of ${accepted.map((a) => JSON.stringify(a)).join(", ")}`)
  }
  return input as L[number]
}

/** @internal */
export const boolean = (module: string, option: string, input: unknown): boolean => {
  if (typeof input !== "boolean") invalid(module, option, input, "true or false")
  return input as boolean
}

/** @internal */
export const nonEmptyString = (module: string, option: string, input: unknown): string => {
  if (typeof input !== "string" || input.length === 0 || !isWellFormed(input)) {
    invalid(module, option, input, "a non-empty, well-formed string")
  }
  return input as string
}

/** @internal */
export const matching = (module: string, option: string, input: unknown, pattern: RegExp, expected: string): string => {
  if (typeof input !== "string" || !pattern.test(input)) invalid(module, option, input, expected)
  return input as string
}

/** @internal */
export const raise = invalid

const SURROGATE = /[\uD800-\uDFFF]/

/** Whether `text` is well-formed Unicode: every surrogate is part of a pair. @internal */
export const isWellFormed = (text: string): boolean => {
  if (!SURROGATE.test(text)) return true
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0xd800 || code > 0xdfff) continue
    if (code >= 0xdc00) return false
    const next = text.charCodeAt(i + 1)
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false
    i++
  }
  return true
}

/** Throws `InvalidKeyError` (raised as a defect) unless `text` is well-formed Unicode. @internal */
export const checkKey = (what: "key" | "tag", text: string): void => {
  if (typeof text !== "string") {
    throw new InvalidKeyError({ what, value: String(text), reason: `a ${what} must be a string` })
  }
  if (!isWellFormed(text)) {
    throw new InvalidKeyError({
      what,
      value: text,
      reason: "it is not well-formed Unicode (a lone surrogate): it could not be stored in Redis or files " +
        "without colliding with another; keys and tags must pass String.prototype.isWellFormed"
    })
  }
}

/**
 * Why JSON would not give `encoded` back (a Schema's encoded value), or
 * `undefined` when it would: non-finite numbers (written as `null`),
 * `undefined` in arrays, bigints, and objects that are not plain (a `Date`, a
 * `Map`, a typed array, a class instance), which JSON flattens.
 * @internal
 */
export const jsonProblem = (encoded: unknown): string | undefined => walkJson(encoded, "value", 0)

const walkJson = (value: unknown, path: string, depth: number): string | undefined => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined
    case "number":
      return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON writes as null`
    case "bigint":
      return `${path} is a bigint, which JSON cannot write`
    case "undefined":
      return depth === 0 ? undefined : `${path} is undefined, which JSON drops or writes as null`
    case "object": {
      if (value === null) return undefined
      if (depth > 256) return `${path} is nested more than 256 levels deep`
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const problem = walkJson(value[i], `${path}[${i}]`, depth + 1)
          if (problem !== undefined) return problem
        }
        return undefined
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "object"
        return `${path} is a ${name}, which JSON does not keep`
      }
      for (const key in value) {
        const field = (value as Record<string, unknown>)[key]
        if (field === undefined) continue // JSON drops the field; an optional field reads back the same
        const problem = walkJson(field, `${path}.${key}`, depth + 1)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    default:
      return `${path} is a ${typeof value}, which JSON cannot write`
  }
}
