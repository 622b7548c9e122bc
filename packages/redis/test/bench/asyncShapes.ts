import * as Effect from "effect/Effect"
import { Redis } from "ioredis"
import { startRedis } from "../harness/redisServer.js"
const N = 3000
const main = async () => {
  const server = await startRedis()
  const client = new Redis(server.url)
  await client.set("k", "v")
  const variants: Array<[string, () => Promise<void>]> = [
    ["async/await raw", async () => {
      for (let i = 0; i < N; i++) await client.get("k")
    }],
    ["Effect.promise", () =>
      Effect.runPromise(Effect.gen(function*() {
        for (let i = 0; i < N; i++) yield* Effect.promise(() => client.get("k"))
      }))],
    ["Effect.async", () =>
      Effect.runPromise(Effect.gen(function*() {
        for (let i = 0; i < N; i++) {
          yield* Effect.async<string | null>((resume) => {
            client.get("k").then((v) => resume(Effect.succeed(v)))
          })
        }
      }))],
    ["Effect.async+timer", () =>
      Effect.runPromise(Effect.gen(function*() {
        for (let i = 0; i < N; i++) {
          yield* Effect.async<string | null>((resume) => {
            const t = setTimeout(() => {}, 250)
            client.get("k").then((v) => {
              clearTimeout(t)
              resume(Effect.succeed(v))
            })
          })
        }
      }))],
    ["Effect.async+canceler", () =>
      Effect.runPromise(Effect.gen(function*() {
        for (let i = 0; i < N; i++) {
          yield* Effect.async<string | null>((resume) => {
            client.get("k").then((v) => resume(Effect.succeed(v)))
            return Effect.void
          })
        }
      }))]
  ]
  const results = new Map<string, Array<number>>()
  for (let round = 0; round < 7; round++) {
    for (const [name, run] of variants) {
      const t = process.hrtime.bigint()
      await run()
      const us = Number(process.hrtime.bigint() - t) / N / 1000
      if (round > 0) results.set(name, [...(results.get(name) ?? []), us])
    }
  }
  for (const [name, times] of results) {
    times.sort((a, b) => a - b)
    console.log(name.padEnd(24), times[Math.floor(times.length / 2)].toFixed(2), "µs/op")
  }
  client.disconnect()
  await server.stop()
  process.exit(0)
}
main()
