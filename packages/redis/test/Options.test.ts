/** Every bad option of the redis package is a defect that names itself; options also come from Config. */
import { assert, describe, it } from "@effect/vitest"
import { CacheTier } from "@layercake/core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { RedisConnection, RedisTier } from "../src/index.js"
import { standalone, unique } from "./utils.js"

const pretty = (exit: Exit.Exit<unknown, unknown>) => Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "no failure"

const tierCases: ReadonlyArray<readonly [option: string, options: unknown, expected: string]> = [
  ["codec", { codec: "xml" }, `RedisTier option "codec" is invalid: got "xml", expected one of "json", "msgpack"`],
  ["operationTimeout", { operationTimeout: 0 }, `"operationTimeout" is invalid: got 0, expected a Duration above zero`],
  ["circuitBreaker", { circuitBreaker: "off" }, `RedisTier option "circuitBreaker" is invalid: got "off"`],
  [
    "circuitBreaker.openFor",
    { circuitBreaker: { openFor: "never" } },
    `"circuitBreaker.openFor" is invalid: got "never"`
  ],
  [
    "circuitBreaker.failureThreshold",
    { circuitBreaker: { failureThreshold: 0 } },
    `"circuitBreaker.failureThreshold" is invalid: got 0, expected a whole number from 1`
  ],
  ["maxTtl", { maxTtl: "soon" }, `RedisTier option "maxTtl" is invalid: got "soon"`],
  ["tagTtl", { tagTtl: -5 }, `RedisTier option "tagTtl" is invalid: got -5`],
  ["maxValueBytes", { maxValueBytes: 0 }, `RedisTier option "maxValueBytes" is invalid: got 0`],
  ["name", { name: "" }, `RedisTier option "name" is invalid: got "", expected a non-empty, well-formed string`],
  ["keyPrefix", { keyPrefix: "{app}" }, `RedisTier option "keyPrefix" is invalid: got "{app}"`],
  ["keyPrefix (ill-formed)", { keyPrefix: "app\uD800" }, `RedisTier option "keyPrefix" is invalid: got "app\\ud800"`]
]

describe("options", () => {
  for (const [option, options, expected] of tierCases) {
    it.scoped(`RedisTier ${option}: a defect naming the option, the value and what is accepted`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Layer.build(RedisTier.layer(options as RedisTier.Options)))
        assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), "a defect")
        assert.include(pretty(exit), expected)
      }).pipe(Effect.provide(standalone())))
  }

  it.scoped("RedisConnection connectTimeout: a defect naming the option and the value", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(RedisConnection.layer({ connectTimeout: "soon" as never })))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), "a defect")
      assert.include(
        pretty(exit),
        `RedisConnection option "connectTimeout" is invalid: got "soon", expected a Duration`
      )
    }))

  it.scoped("RedisConnection failFast: a defect naming the option and the value", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Layer.build(RedisConnection.layer({ failFast: "yes" as never })))
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), "a defect")
      assert.include(pretty(exit), `RedisConnection option "failFast" is invalid: got "yes", expected true or false`)
    }))

  it.scoped("RedisTier.layerConfig reads its options from a ConfigProvider", () =>
    Effect.gen(function*() {
      const prefix = unique("config")
      const provider = ConfigProvider.fromMap(
        new Map([["TIER_NAME", "l2"], ["TIER_PREFIX", prefix], ["TIER_CODEC", "msgpack"], [
          "TIER_TIMEOUT",
          "100 millis"
        ]])
      )
      const layer = RedisTier.layerConfig({
        name: Config.string("TIER_NAME"),
        keyPrefix: Config.string("TIER_PREFIX"),
        codec: Config.literal("json", "msgpack")("TIER_CODEC"),
        operationTimeout: Config.duration("TIER_TIMEOUT")
      }).pipe(Layer.orDie, Layer.provide(Layer.setConfigProvider(provider)))
      const tier = Context.get(yield* Layer.build(layer), CacheTier.CacheTier)
      assert.strictEqual(tier.name, "l2")
      const connection = yield* RedisConnection.RedisConnection
      const now = yield* Clock.currentTimeMillis
      yield* tier.set("k", {
        value: new Date(5),
        schema: (yield* Effect.promise(() => import("effect/Schema"))).DateFromSelf,
        createdAt: now,
        freshUntil: now + 60_000,
        staleUntil: now + 60_000,
        tags: [],
        negative: false
      })
      const bytes = yield* Effect.promise(() => connection.client.getBuffer(`${prefix}:k`))
      assert.strictEqual(bytes?.[3], 2, "the envelope says msgpack")
    }).pipe(Effect.provide(standalone())))
})
