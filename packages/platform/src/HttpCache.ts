/**
 * An RFC 9111 shared HTTP cache as an `@effect/platform` middleware, over the layercake `Cache`.
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type { Cache } from "@layercake/core"
import * as internal from "./internal/httpCache.js"

/**
 * Caches GET/HEAD responses in the `Cache` service (freshness from `http-cache-semantics`, shared cache);
 * successful unsafe methods invalidate their URL.
 *
 * @since 0.1.0
 * @category middleware
 */
export const middleware: <E, R>(
  app: HttpApp.Default<E, R>
) => HttpApp.Default<E, R | Cache.Cache | HttpServerRequest.HttpServerRequest> = internal.middleware
