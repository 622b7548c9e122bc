import * as Duration from "effect/Duration"
import type { EntryOptions, Options } from "../Cache.js"
import type { Policy } from "./lifecycle.js"

const NAMESPACE = /^[A-Za-z0-9_.-]+$/

/** A programming error in the options; raised as a defect with this message. @internal */
export class InvalidOptions extends Error {
  override readonly name = "layercake/InvalidOptions"
}

/** Parsed duration strings ("30 seconds"): a program uses few distinct ones, parsed once each. */
const parsedStrings = new Map<string, number>()

/** Milliseconds of a Duration input; `NaN` when it is not one. @internal */
export const toMillis = (input: Duration.DurationInput): number => {
  if (typeof input === "number") return input
  const cached = typeof input === "string" ? parsedStrings.get(input) : undefined
  if (cached !== undefined) return cached
  const decoded = Duration.decodeUnknown(input)
  const ms = decoded._tag === "None" ? NaN : Duration.toMillis(decoded.value)
  if (typeof input === "string" && parsedStrings.size < 1_000) parsedStrings.set(input, ms)
  return ms
}

const millis = (
  name: string,
  input: Duration.DurationInput | undefined,
  fallback: number,
  allowZero = true
): number => {
  if (input === undefined) return fallback
  const ms = toMillis(input)
  if (Number.isNaN(ms)) throw new InvalidOptions(`layercake: option "${name}" is not a Duration: ${String(input)}`)
  if (!(ms >= 0) || (!allowZero && ms === 0)) {
    throw new InvalidOptions(
      `layercake: option "${name}" must be ${allowZero ? "zero or more" : "more than zero"}, got ${ms} ms`
    )
  }
  return ms
}

const fraction = (name: string, input: number | undefined, fallback: number): number => {
  if (input === undefined) return fallback
  if (!(input >= 0 && input <= 1)) {
    throw new InvalidOptions(`layercake: option "${name}" must be within 0..1, got ${input}`)
  }
  return input
}

/** @internal */
export const validateNamespace = (namespace: string): string => {
  if (!NAMESPACE.test(namespace)) {
    throw new InvalidOptions(
      `layercake: namespace "${namespace}" is invalid: use letters, digits, "_", "." and "-" only`
    )
  }
  return namespace
}

/**
 * Resolves per-call options over the layer's defaults. Tags are prefixed with
 * `tagPrefix` (the namespace), so namespaces sharing a store keep their tags
 * apart. Throws `InvalidOptions`.
 * @internal
 */
export const resolve = (options: EntryOptions | undefined, defaults: Policy, tagPrefix: string): Policy => {
  if (options === undefined) return defaults
  const ttl = millis("ttl", options.ttl, defaults.ttl, false)
  if (!Number.isFinite(ttl)) throw new InvalidOptions(`layercake: option "ttl" must be finite`)
  return {
    ttl,
    jitter: defaults.jitter,
    refreshAfter: millis("refreshAfter", options.refreshAfter, defaults.refreshAfter),
    refreshJitter: fraction("refreshJitter", options.refreshJitter, defaults.refreshJitter),
    staleWhileRevalidate: finite(
      "staleWhileRevalidate",
      millis("staleWhileRevalidate", options.staleWhileRevalidate, defaults.staleWhileRevalidate)
    ),
    staleIfError: finite("staleIfError", millis("staleIfError", options.staleIfError, defaults.staleIfError)),
    staleIfErrorRetry: millis("staleIfErrorRetry", options.staleIfErrorRetry, defaults.staleIfErrorRetry),
    softTimeout: millis("softTimeout", options.softTimeout, defaults.softTimeout),
    hardTimeout: millis("hardTimeout", options.hardTimeout, defaults.hardTimeout),
    errorTtl: finite("errorTtl", millis("errorTtl", options.errorTtl, defaults.errorTtl)),
    // local tiers keep the array by reference (no copy per entry): freeze our own copy
    tags: options.tags === undefined ? defaults.tags : Object.freeze(options.tags.map((tag) => tagPrefix + tag))
  }
}

const finite = (name: string, ms: number): number => {
  if (!Number.isFinite(ms)) throw new InvalidOptions(`layercake: option "${name}" must be finite`)
  return ms
}

/** The layer's defaults. Throws `InvalidOptions`. @internal */
export const defaults = (options: Options, tagPrefix: string): Policy =>
  resolve({ ...options, ttl: options.defaultTtl }, {
    ttl: 5 * 60_000,
    jitter: fraction("jitter", options.jitter, 0),
    refreshAfter: Infinity,
    refreshJitter: 0,
    staleWhileRevalidate: 0,
    staleIfError: 0,
    staleIfErrorRetry: 5_000,
    softTimeout: Infinity,
    hardTimeout: Infinity,
    errorTtl: 0,
    tags: []
  }, tagPrefix)
