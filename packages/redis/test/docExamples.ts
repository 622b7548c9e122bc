/**
 * The JSDoc examples of this package and the API.md composition, kept here so
 * that `tsc` checks them (not a test file; nothing runs).
 */
import { Cache, CacheTier } from "@layercake/core"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import { RedisConnection, RedisTier } from "../src/index.js"
import { localTier } from "./utils.js"

export const standalone = RedisConnection.layer({ url: "redis://127.0.0.1:6379" })
export const sentinel = RedisConnection.layer({
  options: { sentinels: [{ host: "127.0.0.1", port: 26379 }], name: "mymaster" }
})
export const cluster = RedisConnection.layer({
  options: { cluster: { nodes: [{ host: "127.0.0.1", port: 7000 }] } }
})
export const live = RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") })

export const CacheLive = Cache.layer({ namespace: "app" }).pipe(
  Layer.provide(RedisTier.layer({ keyPrefix: "app", operationTimeout: "100 millis" })),
  Layer.provide(RedisConnection.layer({ url: "redis://127.0.0.1:6379" }))
)

const tiers = CacheTier.stack(localTier().layer, RedisTier.layer({ keyPrefix: "app" }))
export const FromApi: Layer.Layer<Cache.Cache, RedisConnection.RedisConnectionError | ConfigError.ConfigError> = Cache
  .layer({ namespace: "app" }).pipe(
    Layer.provide(tiers),
    Layer.provide(RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") }))
  )
