/**
 * A breaker per Cluster master: one stalled master opens its own circuit and
 * leaves the keys of the others alone. On a cluster of its own, since it
 * stalls a master.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Schema from "effect/Schema"
import type { Cluster } from "ioredis"
import { RedisConnection } from "../src/index.js"
import { slotOf } from "../src/internal/slot.js"
import { type RedisCluster, startCluster } from "./harness/redisServer.js"
import { buildTier, entry, unique } from "./utils.js"

let cluster: RedisCluster

beforeAll(async () => {
  cluster = await startCluster()
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

describe("RedisTier on Cluster: a breaker per master", () => {
  it.scopedLive(
    "one master stalled: its keys are skipped, the other masters' keys are read as usual",
    () =>
      Effect.gen(function*() {
        const prefix = unique("per-master")
        const tier = yield* buildTier({
          keyPrefix: prefix,
          operationTimeout: "100 millis",
          circuitBreaker: { failureThreshold: 2, openFor: "10 seconds" }
        })
        const connection = yield* RedisConnection.RedisConnection
        const client = connection.client as Cluster
        const keys = Array.from({ length: 60 }, (_, i) => `ns:k${i}`)
        const now = Date.now()
        for (const key of keys) yield* tier.set(key, entry(key, Schema.String, now))
        const masterOf = (key: string) => client.slots[slotOf(`${prefix}:${key}`)][0]
        const stalled = masterOf(keys[0])
        const server = cluster.servers.find((server) => stalled.endsWith(`:${server.port}`))!
        // the master stops answering (SIGSTOP) until the test ends
        yield* Effect.acquireRelease(Effect.sync(() => server.pause()), () => Effect.sync(() => server.resume()))
        const healthy = keys.filter((key) => masterOf(key) !== stalled)
        const onStalled = keys.filter((key) => masterOf(key) === stalled)
        assert.isAbove(healthy.length, 10)
        assert.isAbove(onStalled.length, 2)
        // a few reads of the stalled master time out and open its circuit
        for (const key of onStalled.slice(0, 2)) {
          assert.isTrue((yield* Effect.either(tier.get(key, Schema.String)))._tag === "Left")
        }
        const skipped = yield* Effect.either(tier.get(onStalled[2], Schema.String))
        assert.isTrue(skipped._tag === "Left" && skipped.left.reason === "CircuitOpen")
        // every key of the other masters is still read, one by one and concurrently
        const reads = yield* Effect.forEach(healthy, (key) => Effect.either(tier.get(key, Schema.String)), {
          concurrency: "unbounded"
        })
        assert.deepStrictEqual(
          reads.map((read) =>
            read._tag === "Right" && read.right !== undefined && "value" in read.right ? read.right.value : read
          ),
          healthy
        )
      }).pipe(
        Effect.provide(RedisConnection.layer({ options: { cluster: { nodes: [...cluster.nodes] } } })),
        Logger.withMinimumLogLevel(LogLevel.Error)
      ),
    30_000
  )
})
