/**
 * HTTP response caching for `@effect/platform` servers: an RFC 9111 shared
 * cache as an `HttpMiddleware`, over the layercake `Cache` of the app's
 * context (its tiers, stampede protection and invalidation through the bus).
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type { Cache } from "@layercake/core"
import type * as Duration from "effect/Duration"
import * as internal from "./internal/httpCache.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Prefix of the cache keys, inside the `Cache` namespace. Default `"http"`. */
  readonly keyPrefix?: string | undefined
  /** The largest body stored, in bytes; a larger (or streamed past it) body is passed through unstored. Default 1 MiB. */
  readonly maxBodyBytes?: number | undefined
  /**
   * A response header whose values (comma or space separated) tag the stored
   * response for `Cache.invalidateTags`; removed from what clients see.
   * Default `"cache-tag"`; `false` for none.
   */
  readonly tagHeader?: string | false | undefined
  /** Adds a weak `ETag` (a digest of the body) to stored responses that have none. Default `false`. */
  readonly generateEtag?: boolean | undefined
  /**
   * The fraction of `Date - Last-Modified` taken as the freshness lifetime of
   * a response without an explicit one (RFC 9111 §4.2.2). Default `0`: such
   * responses are stored only to be revalidated.
   */
  readonly heuristicFreshness?: number | undefined
  /** Store responses that set cookies (then served to every client). Default `false`. */
  readonly storeSetCookie?: boolean | undefined
  /** How long a stale response with a validator (`ETag`, `Last-Modified`) is kept to be revalidated. Default 1 hour. */
  readonly keepForRevalidation?: Duration.DurationInput | undefined
  /** The longest any response is kept. Default 1 day. */
  readonly maxTtl?: Duration.DurationInput | undefined
  /**
   * How long a URL whose response could not be stored is fetched without
   * waiting for other requests of it ("hit-for-pass"). Default 5 seconds.
   */
  readonly passTtl?: Duration.DurationInput | undefined
  /** The cache's name in the `Cache-Status` header (RFC 9211). Default `"layercake"`. */
  readonly name?: string | undefined
}

/**
 * An `HttpMiddleware` caching the app's responses in the `Cache.Cache` of its
 * context, as an RFC 9111 shared cache. `docs/http.md` lists every directive
 * it honours. Apply it to an `HttpApp`: `HttpCache.middleware()(app)` or
 * `app.pipe(HttpCache.middleware())`, or to a server with
 * `HttpServer.serve(HttpCache.middleware())`.
 *
 * @since 0.1.0
 * @category middleware
 */
export const middleware: (
  options?: Options
) => <E, R>(app: HttpApp.Default<E, R>) => HttpApp.Default<E, R | Cache.Cache> = internal.middleware
