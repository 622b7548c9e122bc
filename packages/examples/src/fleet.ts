/**
 * `pnpm --filter @layercake/examples fleet` (needs REDIS_URL): two processes,
 * each with its own Cache (memory L1 over Redis L2, RedisBus, RedisLock), stay
 * coherent: a set on one is seen by the other's next read, and a cold key
 * read by both at once is computed once for the pair.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { RedisBus, RedisConnection, RedisLock, RedisTier } from "@layercake/redis"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"

const Profile = Schema.Struct({ id: Schema.String, version: Schema.Number })
const keyPrefix = "layercake-fleet-demo"

const CacheLive = Cache.layer({ namespace: "fleet" }).pipe(
  Layer.provide(CacheTier.stack(MemoryTier.layer(), RedisTier.layer({ keyPrefix }))),
  Layer.provide(RedisBus.layer({ keyPrefix })),
  Layer.provide(RedisLock.layer({ keyPrefix })),
  Layer.provide(RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") })),
  Layer.orDie,
  Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
)

const runtime = ManagedRuntime.make(CacheLive)
let computes = 0
const slowProfile = (id: string) =>
  Effect.sync(() => ++computes).pipe(Effect.zipRight(Effect.sleep("200 millis")), Effect.as({ id, version: 0 }))

type Request = { readonly op: "get" | "cold"; readonly key: string }
type Reply = { readonly id: number; readonly value: typeof Profile.Type | null; readonly computes: number }

if (process.argv[2] === "peer") {
  // the second process: answers reads of its own cache
  process.on("message", (request: Request & { readonly id: number }) => {
    const read = request.op === "get"
      ? Effect.map(Cache.get(request.key, Profile), Option.getOrNull)
      : Cache.getOrCompute(request.key, Profile, slowProfile(request.key))
    runtime.runPromise(read).then((value) => process.send!({ id: request.id, value, computes }))
  })
  process.send!("ready")
} else {
  const peer = fork(fileURLToPath(import.meta.url), ["peer"], { execArgv: process.execArgv })
  await new Promise((resolve) => peer.once("message", resolve))
  const waiting = new Map<number, (reply: Reply) => void>()
  peer.on("message", (reply: Reply) => waiting.get(reply.id)?.(reply))
  let next = 0
  const ask = (request: Request) =>
    new Promise<Reply>((resolve) => {
      const id = next++
      waiting.set(id, (reply) => {
        waiting.delete(id)
        resolve(reply)
      })
      peer.send({ ...request, id })
    })
  const run = <A, E>(effect: Effect.Effect<A, E, Cache.Cache>) => runtime.runPromise(effect)
  await run(Cache.clear)

  console.log("two processes, each with memory L1 over Redis, RedisBus and RedisLock")
  const delays: Array<number> = []
  for (let version = 1; version <= 50; version++) {
    await run(Cache.set("profile", Profile, { id: "profile", version }))
    const start = performance.now()
    while ((await ask({ op: "get", key: "profile" })).value?.version !== version) {
      // the peer's L1 still had the previous version: the bus message is on its way
    }
    delays.push(performance.now() - start)
  }
  delays.sort((a, b) => a - b)
  console.log(
    `set here → read there: p50 ${delays[25].toFixed(2)} ms, max ${
      delays[49].toFixed(2)
    } ms over 50 sets (the peer reads its L1 copy until the bus drops it)`
  )

  const cold = `cold-${Date.now()}`
  const [mine, theirs] = await Promise.all([
    Promise.all(Array.from({ length: 100 }, () => run(Cache.getOrCompute(cold, Profile, slowProfile(cold))))),
    Promise.all(Array.from({ length: 100 }, () => ask({ op: "cold", key: cold })))
  ])
  const peerComputes = Math.max(...theirs.map((reply) => reply.computes))
  console.log(
    `200 concurrent reads of a cold key across both processes: ${
      mine.length + theirs.length
    } answers, computes here ${computes}, there ${peerComputes}`
  )
  peer.kill()
  await runtime.dispose()
}
