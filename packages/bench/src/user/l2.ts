/**
 * The L2 rows: a ~1 KB profile in Redis, read by a process that does not hold
 * it. Before each sample the contender writes the sample's keys (untimed,
 * through a second instance of the same configuration, so the reader's L1 has
 * never seen them); the sample then reads each key once. The secondary row
 * reads one key over and over instead (L2-only configurations).
 *
 * What each contender does per read:
 * - raw ioredis: `GET` + `JSON.parse`, nothing else (the reference);
 * - bentocache `getOrSet` (Redis driver only): `GET`, its JSON envelope parse,
 *   the logical-expiry check; with the memory driver in front, an L1 miss
 *   first and the value written into L1 (serialized, its default) after;
 * - layercake `Cache.getOrCompute` through the accessor, the Schema passed
 *   every call: a Lua script read (entry + tag times, no bus attached), the
 *   envelope, the Schema decode, the freshness decision; with `MemoryTier` in
 *   front, an L1 miss first and the promotion into L1 after.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisConnection, RedisTier } from "@layercake/redis"
import { BentoCache, bentostore } from "bentocache"
import { memoryDriver } from "bentocache/drivers/memory"
import { redisDriver } from "bentocache/drivers/redis"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Redis } from "ioredis"
import { awaitEach, type Contender, type Env, keepInFlight, timed } from "./measure.js"
import { type Profile, profile, ProfileSchema } from "./profile.js"

/** Every peer: at most this many entries in memory, this TTL. */
export const MAX_ENTRIES = 10_000
export const TTL_MS = 60_000
export const IN_FLIGHT = 256

/** A cache over Redis as a contender sees it. */
export interface L2Client {
  /** Stores `profile(id)` under each key (untimed). */
  readonly write: (keys: ReadonlyArray<string>, ids: ReadonlyArray<number>) => Promise<void>
  /** One read as its own promise: one `runPromise`, or one peer call. */
  readonly read: (key: string) => Promise<Profile | undefined>
  /** All the reads in ONE program (`Effect.whileLoop`), for layercake. */
  readonly readLoop?: ((keys: ReadonlyArray<string>) => Promise<Profile | undefined>) | undefined
  /** Throws unless every read so far was an L2 hit that no L1 answered. */
  readonly verify: () => Promise<void>
  readonly close: () => Promise<void>
}

export type L2Style = "await" | "whileLoop" | "inFlight"

export interface L2Shape {
  readonly style: L2Style
  readonly reads: number
  readonly warmUpReads: number
  /** Read one key every time (secondary row) instead of a fresh key per read. */
  readonly sameKey?: boolean
}

const connectionOf = (url: string) => {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port) }
}

const inChunks = async <A>(items: ReadonlyArray<A>, size: number, each: (chunk: ReadonlyArray<A>) => Promise<void>) => {
  for (let i = 0; i < items.length; i += size) await each(items.slice(i, i + size))
}

export const rawClient = async (env: Env): Promise<L2Client> => {
  const redis = new Redis(env.redisUrl)
  return {
    write: (keys, ids) =>
      inChunks(keys.map((key, i) => [key, ids[i]] as const), 1000, async (chunk) => {
        const pipeline = redis.pipeline()
        for (const [key, id] of chunk) pipeline.set(key, JSON.stringify(profile(id)), "PX", TTL_MS)
        await pipeline.exec()
      }),
    read: (key) => redis.get(key).then((text) => (text === null ? undefined : JSON.parse(text))),
    verify: () => Promise.resolve(),
    close: async () => {
      await redis.quit()
    }
  }
}

export const bentoClient = async (env: Env, withMemory: boolean): Promise<L2Client> => {
  const make = () => {
    const redis = redisDriver({ connection: connectionOf(env.redisUrl), prefix: env.prefix })
    const store = withMemory
      ? bentostore().useL1Layer(memoryDriver({ maxItems: MAX_ENTRIES })).useL2Layer(redis)
      : bentostore().useL2Layer(redis)
    return new BentoCache({ default: "cache", ttl: TTL_MS, stores: { cache: store } })
  }
  const writer = make()
  const reader = make()
  let factoryCalls = 0
  const factory = () => {
    factoryCalls++
    return profile(0)
  }
  return {
    write: (keys, ids) =>
      inChunks(keys.map((key, i) => [key, ids[i]] as const), IN_FLIGHT, async (chunk) => {
        await Promise.all(chunk.map(([key, id]) => writer.set({ key, value: profile(id) })))
      }),
    read: (key) => reader.getOrSet({ key, factory }),
    verify: async () => {
      if (factoryCalls > 0) throw new Error(`bentocache ran its factory ${factoryCalls} times: not an L2 hit`)
    },
    close: async () => {
      await writer.disconnectAll()
      await reader.disconnectAll()
    }
  }
}

let unexpectedComputes = 0
/** The compute a handler passes: never run on a hit. */
const loadProfile = (_key: string) =>
  Effect.sync(() => {
    unexpectedComputes++
    return profile(0)
  })

export const layercakeClient = async (env: Env, withMemory: boolean): Promise<L2Client> => {
  const make = () => {
    const redis = RedisTier.layer({ keyPrefix: env.prefix })
    const tiers = withMemory
      ? CacheTier.stack(MemoryTier.layer({ maxEntries: MAX_ENTRIES }), redis)
      : CacheTier.stack(redis)
    return ManagedRuntime.make(
      Cache.layer({ namespace: "user", defaultTtl: TTL_MS }).pipe(
        Layer.provide(tiers),
        Layer.provide(RedisConnection.layer({ url: env.redisUrl })),
        Layer.orDie
      )
    )
  }
  const writer = make()
  const reader = make()
  await reader.runPromise(Effect.void)
  let reads = 0
  let verified = { hits: 0, notHits: 0, memoryHits: 0, computes: 0 }
  const read = (key: string) => {
    reads++
    return reader.runPromise(Cache.getOrCompute(key, ProfileSchema, loadProfile(key)))
  }
  const readLoop = (keys: ReadonlyArray<string>) => {
    let i = 0
    let last: Profile | undefined
    reads += keys.length
    return reader.runPromise(
      Effect.whileLoop({
        while: () => i < keys.length,
        body: () => Cache.getOrCompute(keys[i], ProfileSchema, loadProfile(keys[i])),
        step: (value) => {
          last = value
          i++
        }
      }).pipe(Effect.map(() => last))
    )
  }
  return {
    write: (keys, ids) =>
      writer.runPromise(
        Effect.forEach(keys, (key, i) => Cache.set(key, ProfileSchema, profile(ids[i])), {
          concurrency: 64,
          discard: true
        })
      ),
    read,
    readLoop,
    // against the counts at the previous verification, so one bad sample does not fail the next ones
    verify: async () => {
      const stats = await reader.runPromise(Cache.stats)
      const before = verified
      const memoryHits = stats.perTier.find((tier) => tier.name === "memory")?.hits ?? 0
      verified = {
        hits: stats.hits,
        notHits: stats.misses + stats.computes + stats.decodeFailures + stats.tierErrors + stats.staleHits,
        memoryHits,
        computes: unexpectedComputes
      }
      const expected = reads
      reads = 0
      if (verified.notHits > before.notHits || verified.computes > before.computes) {
        throw new Error(`layercake served something other than L2 hits: ${JSON.stringify(stats)}`)
      }
      if (verified.hits - before.hits !== expected) {
        throw new Error(`layercake counted ${verified.hits - before.hits} hits for ${expected} reads`)
      }
      if (memoryHits > before.memoryHits) {
        throw new Error(`layercake's L1 answered ${memoryHits - before.memoryHits} reads of fresh keys`)
      }
    },
    close: async () => {
      await writer.dispose()
      await reader.dispose()
    }
  }
}

/** A contender of an L2 row over `client`, reading in `shape.style`. */
export const l2Contender = (shape: L2Shape, client: L2Client, env: Env): Contender => {
  const readAll = (keys: ReadonlyArray<string>) => {
    switch (shape.style) {
      case "await":
        return awaitEach(keys.length, (i) => client.read(keys[i]))
      case "inFlight":
        return keepInFlight(keys.length, IN_FLIGHT, (i) => client.read(keys[i]))
      case "whileLoop":
        if (client.readLoop === undefined) throw new Error("this contender has no whileLoop style")
        return client.readLoop(keys)
    }
  }
  const run = async (index: number, reads: number) => {
    const first = (index + 1) * 1_000_000
    const ids = Array.from({ length: reads }, (_, i) => (shape.sameKey === true ? first : first + i))
    const keys = ids.map((id) => `${env.prefix}:${id}`)
    if (shape.sameKey === true) await client.write([keys[0]], [ids[0]])
    else await client.write(keys, ids)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const { cpuMs, gcShare, ms, result } = await timed(() => readAll(keys))
    const last = result as Profile | undefined
    if (last?.id !== ids[reads - 1]) throw new Error(`the last read gave ${JSON.stringify(last)?.slice(0, 80)}`)
    await client.verify()
    return { value: (ms * 1000) / reads, cpu: (cpuMs * 1000) / reads, gcShare, extras: { ops: reads } }
  }
  return {
    // warm-up samples use indexes no timed sample uses
    warmUp: async () => {
      await run(900, shape.warmUpReads)
      await run(901, shape.warmUpReads)
    },
    sample: (index) => run(index, shape.reads),
    close: client.close
  }
}
