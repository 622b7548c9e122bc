/**
 * Freshness of a stored response (RFC 9111 §4.2) and what a request allows
 * (§5.2.1). `http-cache-semantics` gives storability, age, the revalidation
 * request and the 304 merge; its clock is the Effect `Clock`. Its known
 * gaps are guarded here: the freshness lifetime is computed without its
 * 10 % heuristic (opt-in), without `proxy-revalidate` zeroing it, and
 * `must-revalidate` forces revalidation only once stale.
 *
 * @internal
 */
import CachePolicy from "http-cache-semantics"
import * as CacheControl from "./cacheControl.js"
import * as Dates from "./dates.js"

let clockNow = 0

/** A `CachePolicy` reading the time set by `at`. */
class ClockPolicy extends CachePolicy {
  now(): number {
    return clockNow
  }
}

/** Runs `f` with the policies' clock at `now` (the Effect `Clock`'s time). @internal */
export const at = <A>(now: number, f: () => A): A => {
  clockNow = now
  return f()
}

/** @internal */
export type Policy = CachePolicy

/** The request as a policy sees it. @internal */
export type Request = CachePolicy.Request

/** @internal */
export type Headers = Record<string, string>

/** @internal */
export const make = (
  request: CachePolicy.Request,
  response: CachePolicy.Response,
  now: number
): Policy => at(now, () => new ClockPolicy(request, response, { shared: true, cacheHeuristic: 0 }))

/** @internal */
export const fromObject = (object: object): Policy => ClockPolicy.fromObject(object as CachePolicy.CachePolicyObject)

/** @internal */
export const toObject = (policy: Policy): Record<string, unknown> =>
  policy.toObject() as unknown as Record<string, unknown>

/** The stored response's headers (hop-by-hop ones included). @internal */
export const headersOf = (policy: Policy): Headers => (policy.toObject() as { resh: Headers }).resh

/** The stored response's status. @internal */
export const statusOf = (policy: Policy): number => (policy.toObject() as { st: number }).st

const dateOf = (headers: Headers, fallback: number): number => Dates.parse(headers["date"]) ?? fallback

/** What a stored response allows, in seconds, from its headers. @internal */
export interface Freshness {
  /** Freshness lifetime (§4.2.1). */
  readonly lifetime: number
  /** Current age (§4.2.3). */
  readonly age: number
  readonly staleWhileRevalidate: number
  readonly staleIfError: number
  /** `no-cache`: every use is revalidated first. */
  readonly noCache: boolean
  /** `must-revalidate`, `proxy-revalidate`: never served stale. */
  readonly mustRevalidate: boolean
  readonly hasValidator: boolean
}

/**
 * The freshness lifetime for a shared cache: `s-maxage`, `max-age`,
 * `Expires - Date` (an invalid `Expires` is already expired), else the
 * heuristic fraction of `Date - Last-Modified` when enabled.
 */
const lifetimeOf = (directives: CacheControl.Directives, headers: Headers, responseTime: number, heuristic: number) => {
  const sMaxAge = CacheControl.seconds(directives, "s-maxage")
  if (sMaxAge !== undefined) return sMaxAge
  const maxAge = CacheControl.seconds(directives, "max-age")
  if (maxAge !== undefined) return maxAge
  if (directives.has("max-age") || directives.has("s-maxage")) return 0
  const date = dateOf(headers, responseTime)
  if (headers["expires"] !== undefined) {
    const expires = Dates.parse(headers["expires"])
    return expires === undefined ? 0 : Math.max(0, (expires - date) / 1000)
  }
  if (heuristic > 0 && headers["last-modified"] !== undefined) {
    const lastModified = Dates.parse(headers["last-modified"])
    if (lastModified !== undefined && date > lastModified) return ((date - lastModified) / 1000) * heuristic
  }
  return 0
}

/** What does not change while a response is stored: its lifetime and directives, and how to age it. @internal */
export interface Rules extends Omit<Freshness, "age"> {
  /** The `Age` it came with, in seconds. */
  readonly initialAge: number
  /** When it was received (or last revalidated), by the Effect `Clock`. */
  readonly responseTime: number
}

/** @internal */
export const rulesOf = (policy: Policy, heuristic: number): Rules => {
  const object = policy.toObject() as { resh: Headers; t: number }
  const headers = object.resh
  const directives = CacheControl.parse(headers["cache-control"])
  const initialAge = Number(headers["age"])
  return {
    lifetime: lifetimeOf(directives, headers, object.t, heuristic),
    staleWhileRevalidate: CacheControl.seconds(directives, "stale-while-revalidate") ?? 0,
    staleIfError: CacheControl.seconds(directives, "stale-if-error") ?? 0,
    noCache: directives.has("no-cache") ||
      (headers["cache-control"] === undefined && /no-cache/.test(headers["pragma"] ?? "")),
    mustRevalidate: directives.has("must-revalidate") || directives.has("proxy-revalidate"),
    hasValidator: headers["etag"] !== undefined || headers["last-modified"] !== undefined,
    initialAge: Number.isFinite(initialAge) && initialAge > 0 ? initialAge : 0,
    responseTime: object.t
  }
}

/** The rules at `now`: the age is the one it came with plus the time stored (as `http-cache-semantics` ages it). @internal */
export const freshnessAt = (rules: Rules, now: number): Freshness => ({
  ...rules,
  age: rules.initialAge + (now - rules.responseTime) / 1000
})

/** @internal */
export const freshnessOf = (policy: Policy, now: number, heuristic: number): Freshness =>
  freshnessAt(rulesOf(policy, heuristic), now)

/** How a stored response may answer a request. @internal */
export type Use =
  | { readonly _tag: "Fresh" }
  | { readonly _tag: "StaleWhileRevalidate" }
  | { readonly _tag: "Revalidate"; readonly staleIfError: boolean; readonly reason: "stale" | "request" | "no-cache" }

/**
 * Applies the response's freshness and the request's `Cache-Control`
 * (`no-cache`, `max-age`, `min-fresh`, `max-stale`; `Pragma: no-cache`
 * without `Cache-Control`) to decide how the stored response may be used.
 * @internal
 */
export const use = (freshness: Freshness, requestHeaders: Readonly<Record<string, string | undefined>>): Use => {
  const { age, lifetime } = freshness
  const request = CacheControl.parse(requestHeaders["cache-control"])
  const staleIfError = !freshness.mustRevalidate && !freshness.noCache && age < lifetime + freshness.staleIfError
  const requestNoCache = request.has("no-cache") ||
    (requestHeaders["cache-control"] === undefined && /no-cache/.test(requestHeaders["pragma"] ?? ""))
  if (freshness.noCache) return { _tag: "Revalidate", staleIfError, reason: "no-cache" }
  if (requestNoCache) return { _tag: "Revalidate", staleIfError, reason: "request" }
  const maxAge = CacheControl.seconds(request, "max-age")
  if (maxAge !== undefined && age > maxAge) return { _tag: "Revalidate", staleIfError, reason: "request" }
  const minFresh = CacheControl.seconds(request, "min-fresh")
  if (minFresh !== undefined && lifetime - age < minFresh) {
    return { _tag: "Revalidate", staleIfError, reason: "request" }
  }
  if (age < lifetime) return { _tag: "Fresh" }
  if (!freshness.mustRevalidate && request.has("max-stale")) {
    const maxStale = CacheControl.seconds(request, "max-stale")
    if (maxStale === undefined ? request.get("max-stale") === true : age - lifetime <= maxStale) {
      return { _tag: "Fresh" }
    }
  }
  if (!freshness.mustRevalidate && age < lifetime + freshness.staleWhileRevalidate) {
    return { _tag: "StaleWhileRevalidate" }
  }
  return { _tag: "Revalidate", staleIfError, reason: "stale" }
}

/**
 * How long the entry is worth keeping, in ms: while fresh, then while it may
 * be served stale, then (with a validator) `keepForRevalidation` more.
 * @internal
 */
export const usefulFor = (freshness: Freshness, keepForRevalidation: number, maxTtl: number): number => {
  const remaining = Math.max(0, freshness.lifetime - freshness.age) * 1000
  const stale = freshness.mustRevalidate ? 0 : Math.max(freshness.staleWhileRevalidate, freshness.staleIfError) * 1000
  const revalidation = freshness.hasValidator ? keepForRevalidation : 0
  return Math.min(maxTtl, Math.round(remaining + Math.max(stale, revalidation)))
}

/** Never taken from a 304 (RFC 9111 §3.2: they describe the stored body, not the 304). */
const NOT_UPDATED = new Set(["content-length", "content-encoding", "transfer-encoding", "content-range"])

/**
 * The policy `http-cache-semantics` merged from a 304, with the 304's header
 * fields the stored response did not have added too (RFC 9111 §3.2: the
 * library only replaces fields the stored response already had).
 * @internal
 */
export const withNewHeaders = (policy: Policy, notModified: Headers): Policy => {
  const object = policy.toObject() as unknown as { resh: Headers }
  const added = Object.keys(notModified).filter((name) => !(name in object.resh) && !NOT_UPDATED.has(name))
  if (added.length === 0) return policy
  const resh = { ...object.resh }
  for (const name of added) resh[name] = notModified[name]
  return fromObject({ ...object, resh })
}
