/**
 * The code of docs/batching.md, type-checked by `pnpm check`.
 */
import { Cache, CachedRequestResolver, CacheTier } from "@layercake/core"
import { SharedTier } from "@layercake/core/testing"
import { MemoryTier } from "@layercake/memory"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as Schema from "effect/Schema"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
type User = typeof User.Type

/** A pretend database with a batched query: `SELECT ... WHERE id IN (...)`. */
const usersByIds = (ids: ReadonlyArray<number>): Effect.Effect<ReadonlyArray<User>> =>
  Effect.succeed(ids.filter((id) => id > 0).map((id) => ({ id, name: `user ${id}` })))

// --- getMany and getOrComputeMany ------------------------------------------------

// One read per tier for the batch; one query for the keys that missed (and are not
// being computed by another caller); every value stored. A key the query does not
// return (id 0 here) is None and nothing is stored for it.
export const profiles = (ids: ReadonlyArray<number>) =>
  Cache.getOrComputeMany(
    ids.map((id) => `user:${id}`),
    User,
    (missing) =>
      Effect.map(
        usersByIds(missing.map((key) => Number(key.slice("user:".length)))),
        (users) => users.map((user) => [`user:${user.id}`, user] as const)
      ),
    { ...Cache.Strategy.ShortTerm, staleIfError: "1 hour" }
  )

// Reads only: Some while fresh (or stale within staleWhileRevalidate), None otherwise.
export const cachedOnly = (ids: ReadonlyArray<number>) =>
  Effect.map(Cache.getMany(ids.map((id) => `user:${id}`), User), (values) => values.filter(Option.isSome).length)

// --- Cached functions -------------------------------------------------------------

const loadUser = (id: number) => Effect.map(usersByIds([id]), (users) => users[0])

// getUser(42) reads "user:[42]", or runs loadUser(42) and stores its value for 10 seconds.
export const getUser = Cache.cached({ key: "user", schema: User, ...Cache.Strategy.RealTime })(loadUser)

// With a key function when the arguments are not plain data.
export const getUserOf = Cache.cached({
  key: (session: { readonly userId: number }) => `user:${session.userId}`,
  schema: User,
  ttl: "1 minute"
})((session: { readonly userId: number }) => loadUser(session.userId))

// --- A cached RequestResolver ------------------------------------------------------

interface GetUser extends Request.Request<User, "NotFound"> {
  readonly _tag: "GetUser"
  readonly id: number
}
const GetUser = Request.tagged<GetUser>("GetUser")

const fromDatabase = RequestResolver.makeBatched((requests: ReadonlyArray<GetUser>) =>
  Effect.flatMap(usersByIds(requests.map((request) => request.id)), (users) =>
    Effect.forEach(requests, (request) => {
      const user = users.find((candidate) => candidate.id === request.id)
      return user === undefined ? Request.fail(request, "NotFound" as const) : Request.succeed(request, user)
    }, { discard: true }))
)

// Requests are answered from the cache first; only the misses reach fromDatabase, in one batch.
export const threeUsers = Effect.gen(function*() {
  const resolver = yield* CachedRequestResolver.make(fromDatabase, {
    key: (request) => `user:${request.id}`,
    schema: User,
    ttl: "1 minute"
  })
  return yield* Effect.forEach([1, 2, 3], (id) => Effect.request(GetUser({ id }), resolver), { batching: true })
})

// --- Tier policies ------------------------------------------------------------------

// Write the shared tier only and promote into memory on the 2nd read from it; the
// shared tier keeps what it is given twice as long as the memory tier.
export const tiers = CacheTier.stack(
  MemoryTier.layer({ timeToIdle: "10 minutes" }).pipe(
    CacheTier.withPolicy({ writes: "onRead", promotion: { afterHits: 2 } })
  ),
  SharedTier.layer().pipe(CacheTier.withPolicy({ ttlScale: 2 }))
)

export const CacheLive = Cache.layer({ namespace: "app" }).pipe(Layer.provide(tiers))

export const main = Effect.all([profiles([1, 2, 0]), getUser(7), threeUsers]).pipe(Effect.provide(CacheLive))
