import { CacheTier } from "@layercake/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { RedisConnection, RedisTier } from "../../src/index.js"
import { startRedis } from "../harness/redisServer.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String, email: Schema.String })
const main = async () => {
  const server = await startRedis()
  const scope = Effect.runSync(Scope.make())
  const tier = await Effect.runPromise(
    Layer.buildWithScope(
      RedisTier.layer({ keyPrefix: "p" }).pipe(Layer.provide(RedisConnection.layer({ url: server.url }))),
      scope
    )
      .pipe(Effect.map(Context.get(CacheTier.CacheTier)))
  )
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
  const loop = (n: number) =>
    Effect.gen(function*() {
      for (let i = 0; i < n; i++) yield* tier.get("k", User)
    })
  await Effect.runPromise(loop(3000))
  const { Redis } = await import("ioredis")
  const admin = new Redis(server.url)
  await admin.config("RESETSTAT")
  await Effect.runPromise(loop(1000))
  console.log(String(await admin.info("commandstats")).split("\n").filter((l) => l.startsWith("cmdstat")).join("\n"))
  admin.disconnect()
  const t = process.hrtime.bigint()
  await Effect.runPromise(loop(20000))
  console.log("RedisTier.get in one program:", (Number(process.hrtime.bigint() - t) / 20000 / 1000).toFixed(2), "µs/op")
  await server.stop()
  process.exit(0)
}
main()
