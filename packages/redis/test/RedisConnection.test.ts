import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { Redis } from "ioredis"
import { inject } from "vitest"
import { RedisConnection, RedisTier } from "../src/index.js"
import { startRedis, startSentinel } from "./harness/redisServer.js"
import { buildCache, unique } from "./utils.js"

const build = <E>(layer: Layer.Layer<RedisConnection.RedisConnection, E>) =>
  Effect.map(Layer.build(layer), Context.get(RedisConnection.RedisConnection))

/** Clients connected to the server behind `url`, per CLIENT LIST. */
const clientCount = (url: string) =>
  Effect.acquireUseRelease(
    Effect.sync(() => new Redis(url)),
    (admin) => Effect.promise(async () => String(await admin.client("LIST")).trim().split("\n").length - 1),
    (admin) => Effect.sync(() => admin.disconnect())
  )

describe("RedisConnection", () => {
  it.scopedLive("layer: connects, and quits when its scope closes", () =>
    Effect.gen(function*() {
      const url = inject("redisUrl")
      const before = yield* clientCount(url)
      const connection = yield* Effect.scoped(
        Effect.gen(function*() {
          const connection = yield* build(RedisConnection.layer({ url: Redacted.make(url) }))
          assert.strictEqual(connection.client.status, "ready")
          assert.isFalse(connection.isCluster)
          assert.strictEqual(yield* clientCount(url), before + 1)
          return connection
        })
      )
      assert.strictEqual(connection.client.status, "end")
      assert.strictEqual(yield* clientCount(url), before)
    }))

  it.scoped("layerConfig reads a redacted URL from configuration", () =>
    Effect.gen(function*() {
      const layer = RedisConnection.layerConfig({
        url: Config.redacted("REDIS_URL"),
        connectTimeout: Config.succeed(2_000)
      })
      const connection = yield* build(layer).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["REDIS_URL", inject("redisUrl")]])))
      )
      assert.strictEqual(yield* Effect.promise(() => (connection.client as Redis).ping()), "PONG")
    }))

  it.scoped("layerConfig fails with a ConfigError when the URL is missing", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        build(RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") })).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
        )
      )
      assert.notStrictEqual(error._tag, "RedisConnectionError")
    }))

  it.scopedLive("layerFromClient: the client is used as is and left open; duplicates are ours to close", () =>
    Effect.gen(function*() {
      const mine = new Redis(inject("redisUrl"))
      yield* Effect.addFinalizer(() => Effect.sync(() => mine.disconnect()))
      yield* Effect.scoped(Effect.gen(function*() {
        const connection = yield* build(RedisConnection.layerFromClient(mine))
        assert.strictEqual(connection.client, mine)
        const cache = yield* buildCache({ namespace: "ns" }, RedisTier.layer({ keyPrefix: unique("byo") })).pipe(
          Effect.provideService(RedisConnection.RedisConnection, connection)
        )
        yield* cache.set("k", Schema.Number, 1)
        assert.deepStrictEqual(yield* cache.get("k", Schema.Number), Option.some(1))
      }))
      assert.strictEqual(yield* Effect.promise(() => mine.ping()), "PONG")
    }))

  it.scopedLive("duplicate: a subscriber connection, closed with its scope", () =>
    Effect.gen(function*() {
      const connection = yield* build(RedisConnection.layer({ url: inject("redisUrl") }))
      const channel = unique("channel")
      const subscriber = yield* Effect.scoped(Effect.gen(function*() {
        const subscriber = (yield* connection.duplicate) as Redis
        assert.notStrictEqual(subscriber, connection.client)
        const received = yield* Effect.async<string>((resume) => {
          subscriber.on("message", (_channel: string, message: string) => resume(Effect.succeed(message)))
          subscriber.subscribe(channel).then(() => (connection.client as Redis).publish(channel, "hello"))
        })
        assert.strictEqual(received, "hello")
        return subscriber
      }))
      assert.strictEqual(subscriber.status, "end")
      assert.strictEqual(connection.client.status, "ready")
    }))

  it.scopedLive("duplicate: a connection that closes while ioredis re-subscribes leaves no unhandled rejection", () =>
    Effect.gen(function*() {
      const connection = yield* build(RedisConnection.layer({ url: inject("redisUrl") }))
      const unhandled: Array<unknown> = []
      const onUnhandled = (reason: unknown) => unhandled.push(reason)
      yield* Effect.acquireRelease(
        Effect.sync(() => process.prependListener("unhandledRejection", onUnhandled)),
        () => Effect.sync(() => process.off("unhandledRejection", onUnhandled))
      )
      const subscriber = yield* Effect.scoped(Effect.gen(function*() {
        const subscriber = (yield* connection.duplicate) as Redis
        yield* Effect.promise(() => subscriber.subscribe(unique("channel")))
        // ioredis re-subscribes when the connection is back; the socket dropped before the reply fails that SUBSCRIBE
        yield* Effect.async<void>((resume) => {
          subscriber.once("ready", () => {
            subscriber.disconnect()
            ;(subscriber as unknown as { stream: { destroy(): void } }).stream.destroy()
            resume(Effect.void)
          })
          void (connection.client as Redis).call("CLIENT", "KILL", "TYPE", "pubsub")
        })
        return subscriber
      }))
      // the rejection, if unhandled, is reported after the microtasks that follow the close
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      assert.strictEqual(subscriber.status, "end")
      assert.deepStrictEqual(unhandled, [])
    }))

  it.scoped("a URL and a cluster together are an InvalidOptions error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(build(RedisConnection.layer({
        url: inject("redisUrl"),
        options: { cluster: { nodes: [...inject("redisClusterNodes")] } }
      })))
      assert.strictEqual(error.reason, "InvalidOptions")
    }))

  it.scopedLive("Sentinel: finds the master through a sentinel", () =>
    Effect.gen(function*() {
      const master = yield* Effect.acquireRelease(Effect.promise(() => startRedis()), (s) =>
        Effect.promise(() => s.stop()))
      const sentinel = yield* Effect.acquireRelease(
        Effect.promise(() =>
          startSentinel(master.port)
        ),
        (s) => Effect.promise(() => s.stop())
      )
      const connection = yield* build(RedisConnection.layer({
        options: { sentinels: [{ host: "127.0.0.1", port: sentinel.port }], name: "mymaster" }
      }))
      assert.strictEqual(connection.client.status, "ready")
      const cache = yield* buildCache({ namespace: "ns" }, RedisTier.layer()).pipe(
        Effect.provideService(RedisConnection.RedisConnection, connection)
      )
      yield* cache.set("k", Schema.String, "through sentinel")
      assert.deepStrictEqual(yield* cache.get("k", Schema.String), Option.some("through sentinel"))
      const direct = new Redis(master.port, "127.0.0.1")
      yield* Effect.addFinalizer(() => Effect.sync(() => direct.disconnect()))
      assert.strictEqual(yield* Effect.promise(() => direct.exists("layercake:ns:k")), 1)
    }))

  it.scoped("options are typed for exactOptionalPropertyTypes (compiles with ioredis' option types)", () =>
    Effect.sync(() => {
      const options: RedisConnection.Options = {
        url: "rediss://user:secret@example.com:6380/2",
        options: { connectionName: "layercake", keepAlive: 1_000, tls: {}, db: undefined },
        failFast: false,
        connectTimeout: "2 seconds"
      }
      const clusterOptions: RedisConnection.Options = {
        options: {
          cluster: {
            nodes: [{ host: "127.0.0.1", port: 7000 }, "127.0.0.1:7001"],
            options: { scaleReads: "master", redisOptions: { password: undefined, connectTimeout: 1_000 } }
          }
        }
      }
      assert.isDefined(options)
      assert.isDefined(clusterOptions)
    }))
})
