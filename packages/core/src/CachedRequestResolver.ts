/**
 * The cache in front of an Effect `RequestResolver`: requests are answered
 * from the cache first, and only the misses go to the resolver, batched as
 * it batches them; its results are written back.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Request from "effect/Request"
import type * as RequestResolver from "effect/RequestResolver"
import type * as Schema from "effect/Schema"
import type * as Cache from "./Cache.js"
import * as internal from "./internal/cachedResolver.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Options<A extends Request.Request<any, any>, I> = Cache.EntryOptions<Request.Request.Success<A>, any> & {
  /** The cache key of a request: requests with the same key must have the same answer. */
  readonly key: (request: A) => string
  /** The Schema of the requests' success value. */
  readonly schema: Schema.Schema<Request.Request.Success<A>, I>
}

/**
 * A resolver (made in an Effect that captures the `Cache` and the resolver's
 * requirements, as `RequestResolver.contextFromEffect` does) that reads a
 * batch of requests with `Cache.getOrComputeMany`:
 * hits complete at once, concurrent requests for one key share one
 * resolution (also across batches and with `Cache.getOrCompute` callers of
 * that key), and the misses go to `resolver` in one batch. A request the
 * resolver fails is failed with its error and nothing is cached for it.
 *
 * @example
 * ```ts
 * import { Cache, CachedRequestResolver } from "@layercake/core"
 * import { Effect, Request, RequestResolver, Schema } from "effect"
 *
 * interface GetUser extends Request.Request<{ readonly id: number; readonly name: string }> {
 *   readonly _tag: "GetUser"
 *   readonly id: number
 * }
 * const GetUser = Request.tagged<GetUser>("GetUser")
 * const fromDatabase = RequestResolver.makeBatched((requests: ReadonlyArray<GetUser>) =>
 *   Effect.forEach(requests, (request) => Request.succeed(request, { id: request.id, name: `user ${request.id}` }), {
 *     discard: true
 *   })
 * )
 * const program = Effect.gen(function*() {
 *   const cached = yield* CachedRequestResolver.make(fromDatabase, {
 *     key: (request) => `user:${request.id}`,
 *     schema: Schema.Struct({ id: Schema.Number, name: Schema.String }),
 *     ttl: "1 minute"
 *   })
 *   // batched: one read per tier, and one call of `fromDatabase` for the misses
 *   return yield* Effect.forEach([1, 2, 3], (id) => Effect.request(GetUser({ id }), cached), { batching: true })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <A extends Request.Request<any, any>, R, I>(
  resolver: RequestResolver.RequestResolver<A, R>,
  options: Options<A, I>
) => Effect.Effect<RequestResolver.RequestResolver<A>, never, R | Cache.Cache> = internal.make
