import type * as Duration from "effect/Duration"
import type * as Schema from "effect/Schema"
import type { Entry, ReadResult } from "../CacheTier.js"
import { DecodeFailure } from "./errors.js"

/**
 * Per-call freshness options resolved to milliseconds. `Infinity` means "off"
 * for `refreshAfter` and the timeouts; `0` means "no window" for the stale
 * windows.
 * @internal
 */
export interface Policy {
  /** The fresh lifetime; with `ttlOf`, the layer's default (unused for writes). */
  readonly ttl: number
  /** A ttl that depends on the value (adaptive caching). */
  readonly ttlOf: ((value: any) => Duration.DurationInput) | undefined
  readonly jitter: number
  readonly refreshAfter: number
  readonly refreshJitter: number
  readonly staleWhileRevalidate: number
  readonly staleIfError: number
  readonly staleIfErrorRetry: number
  readonly softTimeout: number
  readonly hardTimeout: number
  readonly errorTtl: number
  readonly errorSchema: Schema.Schema<any, any> | undefined
  /** Prefixed with the namespace. */
  readonly tags: ReadonlyArray<string>
  /** Tags that depend on the value, as the user returns them (not prefixed). */
  readonly tagsOf: ((value: any) => ReadonlyArray<string>) | undefined
}

/**
 * Where an entry stands at `now` for a reader with `policy`:
 *
 * ```
 * createdAt   refreshAt          freshUntil        +swr / +sie          staleUntil
 *     |  Fresh  |  RefreshDue      |  Stale (SWR / SIE windows)            |  Missing
 * ```
 * @internal
 */
export type State =
  | "Missing"
  | "Fresh"
  | "RefreshDue"
  | "StaleWhileRevalidate"
  | "StaleIfError"
  | "NegativeFresh"

/** @internal */
export const classify = (entry: Entry<any> | undefined, now: number, policy: Policy, refreshAt: number): State => {
  if (entry === undefined || now >= entry.staleUntil) return "Missing"
  if (now < entry.freshUntil) {
    if (entry.negative) return "NegativeFresh"
    return now < refreshAt ? "Fresh" : "RefreshDue"
  }
  if (entry.negative) return "Missing"
  const staleFor = now - entry.freshUntil
  if (staleFor < policy.staleWhileRevalidate) return "StaleWhileRevalidate"
  if (staleFor < policy.staleIfError) return "StaleIfError"
  return "Missing"
}

/**
 * When a background refresh of the entry is due. `refreshJitter` spreads the
 * refreshes of many keys written at once: each key refreshes early by a fixed,
 * key-derived fraction of `refreshAfter` (deterministic, so tests can rely on it).
 * @internal
 */
export const refreshAt = (key: string, createdAt: number, policy: Policy): number =>
  createdAt + refreshAfterOf(key, policy)

/** `refreshAfter` of `key` under `policy`, relative to the entry's creation. @internal */
export const refreshAfterOf = (key: string, policy: Policy): number =>
  refreshAfterFor(key, policy.refreshAfter, policy.ttlOf === undefined ? policy.ttl : Infinity, policy.refreshJitter)

/**
 * A read that needs no decision beyond "fresh": a positive entry before its
 * `freshUntil` and its refresh point (`refreshAfter` after its creation).
 * @internal
 */
export const isFreshHit = <A>(read: ReadResult<A>, now: number, refreshAfter: number): read is Entry<A> =>
  read !== undefined && !(read instanceof DecodeFailure) && !read.negative && now < read.freshUntil &&
  now < read.createdAt + refreshAfter

/** `refreshAfter` of `key`, relative to the entry's creation. @internal */
export const refreshAfterFor = (key: string, refreshAfter: number, ttl: number, refreshJitter: number): number => {
  if (!(refreshAfter < ttl)) return Infinity
  if (refreshJitter === 0) return refreshAfter
  return refreshAfter * (1 - refreshJitter * unitHash(key))
}

/** FNV-1a of the key mapped to [0, 1). @internal */
export const unitHash = (key: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) / 0x100000000
}

/**
 * The absolute times of a value written at `now` with a fresh lifetime of
 * `ttl`. `ttlFactor` in `[1 - jitter, 1]` spreads expiries of entries written
 * together.
 * @internal
 */
export const lifetime = (now: number, ttl: number, policy: Policy, ttlFactor: number) => {
  const freshUntil = now + Math.max(1, Math.round(ttl * ttlFactor))
  return {
    createdAt: now,
    freshUntil,
    staleUntil: freshUntil + Math.max(policy.staleWhileRevalidate, policy.staleIfError)
  }
}
