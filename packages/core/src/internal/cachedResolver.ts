import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import type * as Cache from "../Cache.js"
import type * as Api from "../CachedRequestResolver.js"
import { tag } from "./cacheTag.js"

/** @internal */
export const make = <A extends Request.Request<any, any>, R, I>(
  resolver: RequestResolver.RequestResolver<A, R>,
  options: Api.Options<A, I>
): Effect.Effect<RequestResolver.RequestResolver<A>, never, R | Cache.Cache> => {
  const { key, schema, ...entryOptions } = options
  type Success = Request.Request.Success<A>
  const batched = RequestResolver.makeBatched((requests: ReadonlyArray<A>) =>
    Effect.flatMap(Effect.zip(tag, Effect.context<R>()), ([cache, context]) => {
      const provided = RequestResolver.provideContext(resolver, context)
      const resolveAlone = (request: A) => Request.completeEffect(request, Effect.request(request, provided))
      const keys = requests.map((request) => key(request))
      const byKey = new Map<string, A>()
      requests.forEach((request, i) => byKey.has(keys[i]) || byKey.set(keys[i], request))
      /** Failures of the resolver, by key: answered to their requests, never cached. */
      const failures = new Map<string, Exit.Exit<Success, Request.Request.Error<A>>>()
      const computeMissing = (missing: ReadonlyArray<string>) =>
        Effect.map(
          Effect.forEach(missing, (missed) => Effect.exit(Effect.request(byKey.get(missed)!, provided)), {
            batching: true,
            concurrency: "unbounded"
          }),
          (exits) => {
            const found: Array<readonly [string, Success]> = []
            exits.forEach((exit, i) => {
              if (Exit.isSuccess(exit)) found.push([missing[i], exit.value])
              else failures.set(missing[i], exit)
            })
            return found
          }
        )
      return cache.getOrComputeMany(keys, schema, computeMissing, entryOptions as Cache.EntryOptions).pipe(
        Effect.flatMap((values) =>
          Effect.forEach(requests, (request, i) => {
            const value = values[i]
            if (Option.isSome(value)) return Request.succeed(request, value.value)
            const failure = failures.get(keys[i])
            // no value and no failure here: the key was joined to a compute that gave none
            return failure === undefined
              ? resolveAlone(request)
              : Request.complete(request, failure as Request.Request.Result<A>)
          }, { discard: true })
        ),
        Effect.catchAllCause(() => Effect.forEach(requests, resolveAlone, { discard: true }))
      )
    })
  )
  return Effect.map(Effect.context<R | Cache.Cache>(), (context) => RequestResolver.provideContext(batched, context))
}
