/**
 * Per-tier policies (`CacheTier.withPolicy`): how long a tier keeps what is
 * written to it (a TTL scale), whether writes reach it or it fills only by
 * promotion, and when a hit found below is promoted into it.
 *
 * @internal
 */
import type * as Effect from "effect/Effect"
import type { Entry, Middleware, Placement, TierPolicy } from "../CacheTier.js"
import type { TierError } from "./errors.js"
import { make } from "./tier.js"
import { middleware } from "./tierMiddleware.js"
import * as Validate from "./validate.js"

const MODULE = "CacheTier.withPolicy"

/** Hit counts kept for `afterHits` before they are dropped all at once (a bound, not an LRU). */
const MAX_COUNTED_KEYS = 100_000

type Gate = (key: string) => boolean

const gateOf = (promotion: TierPolicy["promotion"]): Gate => {
  if (promotion === undefined || promotion === "always") return () => true
  if (promotion === "never") return () => false
  if (typeof promotion === "object" && promotion !== null && "afterHits" in promotion) {
    const needed = Validate.integer(MODULE, "promotion.afterHits", promotion.afterHits, 1, 1_000_000)
    const counts = new Map<string, number>()
    return (key) => {
      const count = (counts.get(key) ?? 0) + 1
      if (count >= needed) {
        counts.delete(key)
        return true
      }
      if (counts.size >= MAX_COUNTED_KEYS) counts.clear()
      counts.set(key, count)
      return false
    }
  }
  if (typeof promotion === "object" && promotion !== null && "probability" in promotion) {
    const probability = Validate.fraction(MODULE, "promotion.probability", promotion.probability)
    const random = promotion.random ?? Math.random
    return () => random() < probability
  }
  return Validate.raise(
    MODULE,
    "promotion",
    promotion,
    "\"always\", \"never\", { afterHits: n } or { probability: p }"
  )
}

/** The entry with its fresh and stale lifetimes (from its creation) multiplied by `scale`. */
const scaled = (scale: number) => (entry: Entry<any>): Entry<any> =>
  scale === 1 ? entry : {
    ...entry,
    freshUntil: entry.createdAt + (entry.freshUntil - entry.createdAt) * scale,
    staleUntil: entry.createdAt + (entry.staleUntil - entry.createdAt) * scale
  }

/** @internal */
export const withPolicy = (policy: TierPolicy): Middleware => {
  const ttlScale = policy.ttlScale === undefined ? 1 : Validate.positiveNumber(MODULE, "ttlScale", policy.ttlScale)
  if (ttlScale < 1) {
    Validate.raise(MODULE, "ttlScale", ttlScale, "a number ≥ 1 (a tier keeps entries at least as long as written)")
  }
  const writes = policy.writes === undefined
    ? "always"
    : Validate.oneOf(MODULE, "writes", policy.writes, ["always", "onRead"])
  // validated once here; each tier (each build of a layer) gets gates of its own
  gateOf(policy.promotion)
  return middleware(MODULE, (tier) => {
    const admits = gateOf(policy.promotion)
    const scale = scaled(ttlScale)
    const sync = tier.sync
    const drop = (keys: ReadonlyArray<string>): Effect.Effect<void, TierError> => tier.delete(keys)
    const placement: Placement = {
      // a promoted copy keeps the times of the copy it came from: promotion never extends a life
      promote: (key, entry, now) => {
        if (!admits(key)) return undefined
        return sync !== undefined ? sync.set(key, entry, now) : tier.set(key, entry)
      }
    }
    return make({
      ...tier,
      set: writes === "onRead" ? (key) => drop([key]) : (key, entry) => tier.set(key, scale(entry)),
      setMany: writes === "onRead"
        ? (entries) => drop(entries.map(([key]) => key))
        : (entries) => tier.setMany(entries.map(([key, entry]) => [key, scale(entry)] as const)),
      sync: sync === undefined ? undefined : {
        get: sync.get,
        set: writes === "onRead" ? (key) => drop([key]) : (key, entry, now) => sync.set(key, scale(entry), now)
      },
      placement
    })
  })
}
