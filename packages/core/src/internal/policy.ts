import type { EntryOptions, FreshnessOptions, Options } from "../Cache.js"
import type { Policy } from "./lifecycle.js"
import * as Validate from "./validate.js"

const MODULE = "Cache"
const NAMESPACE = /^[A-Za-z0-9_.-]+$/

/** Parsed duration strings ("30 seconds"): a program uses few distinct ones, parsed once each. */
const parsedStrings = new Map<string, number>()

/** Milliseconds of a Duration input; `NaN` when it is not one. @internal */
export const toMillis = (input: unknown): number => {
  if (typeof input === "number") return input
  const cached = typeof input === "string" ? parsedStrings.get(input) : undefined
  if (cached !== undefined) return cached
  const ms = Validate.toMillis(input)
  if (typeof input === "string" && parsedStrings.size < 1_000) parsedStrings.set(input, ms)
  return ms
}

/** A duration option: `fallback` when absent; finite. Throws `InvalidOptionError`. */
const millis = (name: string, input: unknown, fallback: number, zero = true): number => {
  if (input === undefined) return fallback
  const ms = toMillis(input)
  if (Number.isNaN(ms) || !(zero ? ms >= 0 : ms > 0) || !Number.isFinite(ms)) {
    return Validate.duration(MODULE, name, input, { zero })
  }
  return ms
}

/** A timeout or `refreshAfter`: `Infinity` turns it off. */
const limit = (name: string, input: unknown, fallback: number): number => {
  if (input === undefined) return fallback
  const ms = toMillis(input)
  if (Number.isNaN(ms) || !(ms >= 0)) return Validate.duration(MODULE, name, input, { zero: true, infinite: true })
  return ms
}

/** @internal */
export const validateNamespace = (namespace: unknown): string =>
  Validate.matching(MODULE, "namespace", namespace, NAMESPACE, `letters, digits, "_", "." and "-" only`)

const prefixTags = (name: string, tags: unknown, tagPrefix: string): ReadonlyArray<string> => {
  if (!Array.isArray(tags)) return Validate.raise(MODULE, name, tags, "an array of strings, or a function of the value")
  // local tiers keep the array by reference (no copy per entry): freeze our own copy
  return Object.freeze(tags.map((tag: unknown) => {
    if (typeof tag !== "string") return Validate.raise(MODULE, name, tags, "an array of strings")
    Validate.checkKey("tag", tag)
    return tagPrefix + tag
  }))
}

/** The tags a value carries under `policy`, prefixed. Throws when `tagsOf` throws or gives a bad list. @internal */
export const tagsFor = (policy: Policy, value: unknown, tagPrefix: string): ReadonlyArray<string> =>
  policy.tagsOf === undefined ? policy.tags : prefixTags("tags", policy.tagsOf(value), tagPrefix)

/**
 * The fresh lifetime of a value under `policy`, in ms; `0` for "do not
 * store". Throws when `ttlOf` throws or gives something that is not a Duration.
 * @internal
 */
export const ttlFor = (policy: Policy, value: unknown): number =>
  policy.ttlOf === undefined ? policy.ttl : millis("ttl", policy.ttlOf(value), 0)

const freshness = (options: FreshnessOptions, defaults: Policy) => ({
  refreshAfter: limit("refreshAfter", options.refreshAfter, defaults.refreshAfter),
  refreshJitter: options.refreshJitter === undefined
    ? defaults.refreshJitter
    : Validate.fraction(MODULE, "refreshJitter", options.refreshJitter),
  staleWhileRevalidate: millis("staleWhileRevalidate", options.staleWhileRevalidate, defaults.staleWhileRevalidate),
  staleIfError: millis("staleIfError", options.staleIfError, defaults.staleIfError),
  staleIfErrorRetry: millis("staleIfErrorRetry", options.staleIfErrorRetry, defaults.staleIfErrorRetry),
  softTimeout: limit("softTimeout", options.softTimeout, defaults.softTimeout),
  hardTimeout: limit("hardTimeout", options.hardTimeout, defaults.hardTimeout)
})

/**
 * Resolves per-call options over the layer's defaults. Tags are prefixed with
 * `tagPrefix` (the namespace), so namespaces sharing a store keep their tags
 * apart. Throws `InvalidOptionError` / `InvalidKeyError`.
 * @internal
 */
export const resolve = (options: EntryOptions | undefined, defaults: Policy, tagPrefix: string): Policy => {
  if (options === undefined) return defaults
  const ttlOf = typeof options.ttl === "function" ? options.ttl : undefined
  const tagsOf = typeof options.tags === "function" ? options.tags : undefined
  const errorTtl = options.errorTtl === undefined ? 0 : millis("errorTtl", options.errorTtl, 0)
  if (errorTtl > 0 && options.errorSchema === undefined) {
    Validate.raise(MODULE, "errorSchema", undefined, "the Schema of the compute's failure whenever errorTtl is set")
  }
  // one literal, each absent option read straight from the defaults: this runs on every call with options
  return {
    ttl: ttlOf === undefined ? millis("ttl", options.ttl, defaults.ttl, false) : defaults.ttl,
    ttlOf,
    jitter: defaults.jitter,
    refreshAfter: limit("refreshAfter", options.refreshAfter, defaults.refreshAfter),
    refreshJitter: options.refreshJitter === undefined
      ? defaults.refreshJitter
      : Validate.fraction(MODULE, "refreshJitter", options.refreshJitter),
    staleWhileRevalidate: millis("staleWhileRevalidate", options.staleWhileRevalidate, defaults.staleWhileRevalidate),
    staleIfError: millis("staleIfError", options.staleIfError, defaults.staleIfError),
    staleIfErrorRetry: millis("staleIfErrorRetry", options.staleIfErrorRetry, defaults.staleIfErrorRetry),
    softTimeout: limit("softTimeout", options.softTimeout, defaults.softTimeout),
    hardTimeout: limit("hardTimeout", options.hardTimeout, defaults.hardTimeout),
    errorTtl,
    errorSchema: options.errorSchema,
    tags: options.tags === undefined || tagsOf !== undefined
      ? (tagsOf === undefined ? defaults.tags : [])
      : prefixTags("tags", options.tags, tagPrefix),
    tagsOf
  }
}

/** The layer's defaults. Throws `InvalidOptionError`. @internal */
export const defaults = (options: Options, tagPrefix: string): Policy => {
  const base: Policy = {
    ttl: 5 * 60_000,
    ttlOf: undefined,
    jitter: 0,
    refreshAfter: Infinity,
    refreshJitter: 0,
    staleWhileRevalidate: 0,
    staleIfError: 0,
    staleIfErrorRetry: 5_000,
    softTimeout: Infinity,
    hardTimeout: Infinity,
    errorTtl: 0,
    errorSchema: undefined,
    tags: [],
    tagsOf: undefined
  }
  return {
    ...base,
    ...freshness(options, base),
    ttl: millis("defaultTtl", options.defaultTtl, base.ttl, false),
    jitter: options.jitter === undefined ? 0 : Validate.fraction(MODULE, "jitter", options.jitter),
    tags: options.tags === undefined ? [] : prefixTags("tags", options.tags, tagPrefix)
  }
}
