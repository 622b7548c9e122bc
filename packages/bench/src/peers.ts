/**
 * The contenders of the L1-hit benches, each configured as a bounded (where the
 * library allows) in-memory cache with a 1 minute TTL, holding the one key the
 * benches read. Everything here is built before any timing starts.
 */
import { Cache } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { BentoCache, bentostore } from "bentocache"
import { memoryDriver } from "bentocache/drivers/memory"
import { createCache } from "cache-manager"
import { Cacheable, CacheableMemory } from "cacheable"
import * as EffectCache from "effect/Cache"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { LRUCache } from "lru-cache"

export const KEY = "user:1"
export const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
export type User = typeof User.Type
/** The value every contender holds under `KEY`, created once. */
export const user: User = { id: 1, name: "ada" }
/** A structurally equal schema that is another object: what a schema built inside a function gives. */
export const UserAgain = Schema.Struct({ id: Schema.Number, name: Schema.String })

const TTL_MS = 60_000
const MAX = 10_000

export interface Peers {
  readonly map: Map<string, User>
  readonly lru: LRUCache<string, User>
  readonly cacheableMemory: CacheableMemory
  readonly cacheableMemoryNoClone: CacheableMemory
  readonly bento: BentoCache<any>
  readonly bentoNoSerialize: BentoCache<any>
  readonly cacheManager: ReturnType<typeof createCache>
  readonly cacheable: Cacheable
  readonly effectCache: EffectCache.Cache<string, User>
  readonly layercake: Cache.Cache
  readonly close: () => Promise<void>
}

const bentoMemory = (serialize: boolean) =>
  new BentoCache({
    default: "memory",
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: MAX, serialize })) }
  })

/** A layercake `Cache` over one `MemoryTier`, kept open until `close`. */
export const makeLayercake = async (tierOptions: MemoryTier.Options = {}) => {
  const scope = Effect.runSync(Scope.make())
  const cache = await Effect.runPromise(
    Effect.map(
      Layer.buildWithScope(
        Cache.layer({ namespace: "bench" }).pipe(Layer.provide(MemoryTier.layer(tierOptions))),
        scope
      ),
      Context.get(Cache.Cache)
    )
  )
  return { cache, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

export const makePeers = async (): Promise<Peers> => {
  const map = new Map([[KEY, user]])

  const lru = new LRUCache<string, User>({ max: MAX, ttl: TTL_MS })
  lru.set(KEY, user)

  // cacheable's synchronous in-memory store, with its defaults (useClone: true)
  const cacheableMemory = new CacheableMemory({ ttl: TTL_MS, lruSize: MAX })
  cacheableMemory.set(KEY, user)
  const cacheableMemoryNoClone = new CacheableMemory({ ttl: TTL_MS, lruSize: MAX, useClone: false })
  cacheableMemoryNoClone.set(KEY, user)

  // bentocache memory-only; its memory driver serializes entries by default
  const bento = bentoMemory(true)
  await bento.set({ key: KEY, value: user, ttl: TTL_MS })
  const bentoNoSerialize = bentoMemory(false)
  await bentoNoSerialize.set({ key: KEY, value: user, ttl: TTL_MS })

  // cache-manager v7's default store: a Keyv over a Map
  const cacheManager = createCache({ ttl: TTL_MS })
  await cacheManager.set(KEY, user)

  // cacheable's default primary: Keyv over CacheableMemory
  const cacheable = new Cacheable({ ttl: TTL_MS })
  await cacheable.set(KEY, user)

  const effectCache = await Effect.runPromise(
    EffectCache.make({
      capacity: MAX,
      timeToLive: Duration.millis(TTL_MS),
      lookup: (_: string) => Effect.succeed(user)
    })
  )
  await Effect.runPromise(effectCache.get(KEY))

  const layercake = await makeLayercake({ maxEntries: MAX })
  await Effect.runPromise(layercake.cache.set(KEY, User, user))

  return {
    map,
    lru,
    cacheableMemory,
    cacheableMemoryNoClone,
    bento,
    bentoNoSerialize,
    cacheManager,
    cacheable,
    effectCache,
    layercake: layercake.cache,
    close: async () => {
      await bento.disconnectAll()
      await bentoNoSerialize.disconnectAll()
      await cacheManager.disconnect()
      await cacheable.disconnect()
      await layercake.close()
    }
  }
}

/** Fails loudly when a contender does not return the value: a bench of a miss would be meaningless. */
export const checkHits = async (peers: Peers) => {
  const expectUser = (name: string, value: unknown) => {
    const found = value as User | undefined
    if (found?.id !== user.id || found.name !== user.name) {
      throw new Error(`${name} did not return the cached value: ${JSON.stringify(value)}`)
    }
  }
  const fail = () => Promise.reject(new Error("factory called on a hit"))
  expectUser("Map.get", peers.map.get(KEY))
  expectUser("lru-cache", peers.lru.get(KEY))
  expectUser("CacheableMemory", peers.cacheableMemory.get(KEY))
  expectUser("CacheableMemory (useClone: false)", peers.cacheableMemoryNoClone.get(KEY))
  expectUser("bentocache get", await peers.bento.get({ key: KEY }))
  expectUser("bentocache getOrSet", await peers.bento.getOrSet({ key: KEY, factory: fail }))
  expectUser("bentocache (serialize: false) get", await peers.bentoNoSerialize.get({ key: KEY }))
  expectUser("cache-manager get", await peers.cacheManager.get(KEY))
  expectUser("cache-manager wrap", await peers.cacheManager.wrap(KEY, fail))
  expectUser("cacheable get", await peers.cacheable.get(KEY))
  expectUser("cacheable getOrSet", await peers.cacheable.getOrSet(KEY, fail))
  expectUser("effect Cache.get", await Effect.runPromise(peers.effectCache.get(KEY)))
  const die = Effect.dieMessage("compute called on a hit")
  expectUser("layercake getOrCompute", await Effect.runPromise(peers.layercake.getOrCompute(KEY, User, die)))
  const got = await Effect.runPromise(peers.layercake.get(KEY, User))
  expectUser("layercake get", got._tag === "Some" ? got.value : undefined)
  expectUser(
    "layercake getOrCompute (other schema instance)",
    await Effect.runPromise(peers.layercake.getOrCompute(KEY, UserAgain, die))
  )
}
