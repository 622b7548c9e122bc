import { assert, describe, it } from "@effect/vitest"
import { Cache, CachedRequestResolver } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Request from "effect/Request"
import * as RequestResolver from "effect/RequestResolver"
import * as Schema from "effect/Schema"
import { makeFixture } from "./utils/fixtures.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })

interface GetUser extends Request.Request<typeof User.Type, "NotFound"> {
  readonly _tag: "GetUser"
  readonly id: number
}
const GetUser = Request.tagged<GetUser>("GetUser")

/** A batched "database": records each batch of ids; id 0 does not exist. */
const database = () => {
  const batches: Array<ReadonlyArray<number>> = []
  const resolver = RequestResolver.makeBatched((requests: ReadonlyArray<GetUser>) =>
    Effect.zipRight(
      Effect.sync(() => batches.push(requests.map((request) => request.id))),
      Effect.forEach(requests, (request) =>
        request.id === 0
          ? Request.fail(request, "NotFound" as const)
          : Request.succeed(request, { id: request.id, name: `user ${request.id}` }), { discard: true })
    )
  )
  return { batches, resolver }
}

const getUsers = (ids: ReadonlyArray<number>, resolver: RequestResolver.RequestResolver<GetUser>) =>
  Effect.forEach(ids, (id) => Effect.exit(Effect.request(GetUser({ id }), resolver)), {
    batching: true,
    concurrency: "unbounded"
  })

describe("CachedRequestResolver", () => {
  it.scoped("answers from the cache first and sends only the misses to the resolver, in one batch", () =>
    Effect.gen(function*() {
      const { batches, resolver } = database()
      const cached = yield* CachedRequestResolver.make(resolver, {
        key: (request) => `user:${request.id}`,
        schema: User,
        ttl: "1 minute"
      })
      const first = yield* getUsers([1, 2, 3], cached)
      assert.deepStrictEqual(first.map(Exit.isSuccess), [true, true, true])
      const second = yield* getUsers([2, 3, 4, 5], cached)
      assert.deepStrictEqual(
        second.map((exit) => Exit.isSuccess(exit) ? exit.value.name : "failed"),
        ["user 2", "user 3", "user 4", "user 5"]
      )
      assert.deepStrictEqual(batches, [[1, 2, 3], [4, 5]])
      assert.deepStrictEqual(yield* Cache.get("user:4", User), Option.some({ id: 4, name: "user 4" }))
    }).pipe(Effect.provide(makeFixture().layer)))

  it.scoped("a request the resolver fails gets its error, and nothing is cached for it", () =>
    Effect.gen(function*() {
      const { batches, resolver } = database()
      const cached = yield* CachedRequestResolver.make(resolver, {
        key: (request) => `user:${request.id}`,
        schema: User
      })
      const exits = yield* getUsers([0, 1], cached)
      assert.deepStrictEqual(exits[0], Exit.fail("NotFound"))
      assert.isTrue(Exit.isSuccess(exits[1]))
      yield* getUsers([0, 1], cached)
      assert.deepStrictEqual(batches, [[0, 1], [0]], "the failure was asked again; user 1 came from the cache")
    }).pipe(Effect.provide(makeFixture().layer)))
})
