/**
 * Helpers for tests of code that uses a `Cache` under `TestClock`: wait for a
 * condition, or for the cache's background work, without touching the clock
 * and without sleeping.
 *
 * @example
 * ```ts
 * import { Cache } from "@layercake/core"
 * import { TestHelpers } from "@layercake/core/testing"
 * import * as Effect from "effect/Effect"
 *
 * const afterRefresh = Effect.gen(function*() {
 *   yield* TestHelpers.settled // background refreshes and computes have finished
 *   return yield* Cache.stats
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Api from "../Cache.js"
import { tag } from "../internal/cacheTag.js"

/**
 * Runs `effect` and yields to other fibers until `done` holds of its result,
 * then returns it. The clock is not involved, so it works under `TestClock`;
 * after `rounds` tries (default 10 000) it gives up with a defect instead of
 * hanging the test.
 *
 * @since 0.1.0
 * @category combinators
 */
export const waitFor = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  options: { readonly rounds?: number | undefined } = {}
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const rounds = options.rounds ?? 10_000
    for (let round = 0; round < rounds; round++) {
      const value = yield* effect
      if (done(value)) return value
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage(`waitFor: the condition did not hold after ${rounds} rounds`)
  })

/**
 * Waits until the `Cache` in context runs no compute or background refresh
 * (`stats.inFlight === 0`), and gives its stats then.
 *
 * @since 0.1.0
 * @category combinators
 */
export const settled: Effect.Effect<Api.Stats, never, Api.Cache> = waitFor(
  Effect.flatMap(tag, (cache) => cache.stats),
  (stats) => stats.inFlight === 0
)
