/**
 * Where the time of one L2 read goes, layer by layer: raw GET, raw EVALSHA of
 * the read script, the Effect bridge, the tier's call wrapper (timeout and
 * breaker), and the whole `RedisTier.get`; interleaved rounds, medians.
 *
 * Run: pnpm --filter @layercake/redis exec tsx --conditions=@layercake/source test/bench/tierLayers.ts
 */
import { CacheTier } from "@layercake/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import { RedisConnection, RedisTier } from "../../src/index.js"
import { makeCalls } from "../../src/internal/call.js"
import * as Scripts from "../../src/internal/scripts.js"
import { startRedis } from "../harness/redisServer.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String, email: Schema.String })
const N = 3000
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
  const call =
    makeCalls({ name: "x", operationTimeout: 250, breaker: { failureThreshold: 5, openForMillis: 5000 } }).promise
  const loop = (eff: Effect.Effect<unknown, unknown>) => () =>
    Effect.runPromise(Effect.gen(function*() {
      for (let i = 0; i < N; i++) yield* eff
    }))
  const variants: Array<[string, () => Promise<unknown>]> = [
    ["raw get (async loop)", async () => {
      for (let i = 0; i < N; i++) await client.getBuffer("p:k")
    }],
    ["raw evalsha (async loop)", async () => {
      for (let i = 0; i < N; i++) await evalsha()
    }],
    ["Effect.promise(evalsha)", loop(Effect.promise(evalsha))],
    ["call(evalsha)", loop(call("get", evalsha))],
    [
      "call without breaker(evalsha)",
      loop(makeCalls({ name: "y", operationTimeout: 250, breaker: undefined }).promise("get", evalsha))
    ],
    [
      "Effect.async(evalsha)",
      loop(Effect.async<unknown>((resume) => {
        evalsha().then((v) => resume(Effect.succeed(v)))
      }))
    ],
    [
      "clockWith+async(evalsha)",
      loop(Effect.clockWith(() =>
        Effect.async<unknown>((resume) => {
          evalsha().then((v) => resume(Effect.succeed(v)))
        })
      ))
    ],
    ["tier.get", loop(tier.get("k", User))]
  ]
  const results = new Map<string, Array<number>>()
  for (let round = 0; round < 9; round++) {
    for (const [name, run] of variants) {
      const t = process.hrtime.bigint()
      await run()
      if (round > 0) results.set(name, [...(results.get(name) ?? []), Number(process.hrtime.bigint() - t) / N / 1000])
    }
  }
  for (const [name, times] of results) {
    times.sort((a, b) => a - b)
    console.log(name.padEnd(28), times[Math.floor(times.length / 2)].toFixed(2), "µs/op")
  }
  await server.stop()
  process.exit(0)
}
main()
