import { CacheTier } from "@layercake/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { RedisConnection, RedisTier } from "../../src/index.js"
import * as Scripts from "../../src/internal/scripts.js"
import { startRedis } from "../harness/redisServer.js"
const User = Schema.Struct({ id: Schema.Number, name: Schema.String, email: Schema.String })
const N = 25600
const main = async () => {
  const server = await startRedis()
  const scope = Effect.runSync(Scope.make())
  const ctx = await Effect.runPromise(
    Layer.buildWithScope(
      RedisTier.layer({ keyPrefix: "p" }).pipe(Layer.provideMerge(RedisConnection.layer({ url: server.url }))),
      scope
    )
  )
  const tier = Context.get(ctx, CacheTier.CacheTier)
  const client = Context.get(ctx, RedisConnection.RedisConnection).client as Redis
  const now = Date.now()
  await Effect.runPromise(
    tier.set("k", {
      value: { id: 1, name: "Ada", email: "a@b.c" },
      schema: User,
      createdAt: now,
      freshUntil: now + 1e9,
      staleUntil: now + 1e9,
      tags: [],
      negative: false
    })
  )
  await Effect.runPromise(tier.get("k", User))
  const evalsha = () => client.callBuffer("evalsha", [Scripts.readOne.sha, 1, "p:k", "p:~tag:"])
  const batches = async (f: () => Promise<unknown>) => {
    for (let b = 0; b < N / 256; b++) await Promise.all(Array.from({ length: 256 }, f))
  }
  const effConc = (eff: Effect.Effect<unknown, unknown>) => () =>
    Effect.runPromise(Effect.forEach(Array.from({ length: N }), () => eff, { concurrency: 256, discard: true }))
  const variants: Array<[string, () => Promise<unknown>]> = [
    ["raw evalsha, Promise.all x256", () => batches(evalsha)],
    ["Effect.promise(evalsha), forEach c=256", effConc(Effect.promise(evalsha))],
    ["tier.get, forEach c=256", effConc(tier.get("k", User))],
    ["tier.get, Effect.all batches of 256", () =>
      Effect.runPromise(Effect.gen(function*() {
        for (let b = 0; b < N / 256; b++) {
          yield* Effect.all(Array.from({ length: 256 }, () => tier.get("k", User)), {
            concurrency: "unbounded",
            discard: true
          })
        }
      }))]
  ]
  for (let round = 0; round < 3; round++) {
    for (const [name, run] of variants) {
      const t = process.hrtime.bigint()
      await run()
      if (round === 2) {
        console.log(name.padEnd(42), (Number(process.hrtime.bigint() - t) / N / 1000).toFixed(2), "µs/op")
      }
    }
  }
  await server.stop()
  process.exit(0)
}
main()
