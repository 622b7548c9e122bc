/**
 * The code of README.md ("Quick start"). Run it with
 * `pnpm --filter @layercake/examples exec tsx --conditions=@layercake/source src/snippets/readme.ts`.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { FileSystemTier } from "@layercake/platform"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

// Define a schema once: its identity is what lets an L1 hit skip decoding.
const User = Schema.Struct({ id: Schema.Number, name: Schema.String, since: Schema.Date })

// Tiers, hottest first: memory over a folder on disk, so values survive a restart.
// For a fleet, stack RedisTier.layer() under the memory tier instead (docs/redis.md).
const CacheLive = Cache.layer({ namespace: "app", defaultTtl: "5 minutes" }).pipe(
  Layer.provide(CacheTier.stack(
    MemoryTier.layer({ maxEntries: 10_000 }),
    FileSystemTier.layer({ directory: ".cache/quick-start" })
  ))
)

// Stands in for a database query.
const loadUser = (id: number) =>
  Effect.as(Console.log(`query user ${id}`), { id, name: `user-${id}`, since: new Date(Date.UTC(2020, 0, 1)) })

const getUser = (id: number) => Cache.getOrCompute(`user:${id}`, User, loadUser(id), { ttl: "1 minute" })

const program = Effect.gen(function*() {
  const users = yield* Effect.all([getUser(1), getUser(1), getUser(1)], { concurrency: "unbounded" })
  const again = yield* getUser(1)
  const stats = yield* Cache.stats
  yield* Console.log(`${users.length + 1} reads of ${again.name}, ${stats.computes} compute, ${stats.hits} hit`)
})

// Provide the layer once, at the root of the program.
Effect.runPromise(program.pipe(Effect.provide(CacheLive)))
