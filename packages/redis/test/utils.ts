import { Cache, CacheTier } from "@layercake/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Cluster, Redis } from "ioredis"
import { afterAll, beforeAll, inject, vi } from "vitest"
import { RedisConnection, RedisTier } from "../src/index.js"

import { LocalTier } from "@layercake/core/testing"

/** An unbounded local tier whose entries the test can look at. */
export const localTier = (name = "local") => LocalTier.make({ name })

/** A prefix no other test uses, so test files can share the harness servers. */
export const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}`

export const standalone = () => RedisConnection.layer({ url: inject("redisUrl") })

export const cluster = () =>
  RedisConnection.layer({ options: { cluster: { nodes: [...inject("redisClusterNodes")] } } })

export const client = Effect.map(RedisConnection.RedisConnection, (connection) => connection.client)

/** Builds a tier in the current scope. */
export const buildTier = (
  options: RedisTier.Options
): Effect.Effect<CacheTier.CacheTier, never, RedisConnection.RedisConnection | Scope.Scope> =>
  Effect.map(Layer.build(RedisTier.layer(options)), Context.get(CacheTier.CacheTier))

/** Builds a `Cache` over `tiers` in the current scope (one "instance" of a fleet). */
export const buildCache = <E>(
  options: Cache.Options,
  tiers: Layer.Layer<CacheTier.CacheTier, E, RedisConnection.RedisConnection>
): Effect.Effect<Cache.Cache, E, RedisConnection.RedisConnection | Scope.Scope> =>
  Effect.map(Layer.build(Cache.layer(options).pipe(Layer.provide(tiers))), Context.get(Cache.Cache))

/** Records the name of every command the client sends (Cluster: before routing). */
export const recordCommands = (client: Redis | Cluster) => {
  const names: Array<string> = []
  const target = client as unknown as { sendCommand: (command: { name: string }, ...rest: Array<unknown>) => unknown }
  const original = target.sendCommand
  target.sendCommand = function(this: unknown, command, ...rest) {
    names.push(command.name)
    return original.call(this, command, ...rest)
  }
  return {
    names,
    reset: () => {
      names.length = 0
    },
    restore: () => {
      target.sendCommand = original
    }
  }
}

/** A tier entry fresh for a minute and stale for another, written at `now`. */
export const entry = <A>(value: A, schema: Schema.Schema<A, any>, now: number, tags: ReadonlyArray<string> = []) => ({
  value,
  schema,
  createdAt: now,
  freshUntil: now + 60_000,
  staleUntil: now + 120_000,
  tags,
  negative: false
})

/** How long `effect` took, in wall-clock milliseconds (real servers, real time). */
export const elapsed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = Date.now()
    const result = yield* effect
    return [result, Date.now() - start] as const
  })

/** Polls `check` every 20 ms until it holds, for at most `seconds` (real time: real servers and retries). */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, seconds = 5) =>
  Effect.gen(function*() {
    const deadline = Date.now() + seconds * 1000
    while (Date.now() < deadline) {
      if (yield* check) return
      yield* Effect.sleep("20 millis")
    }
    return yield* Effect.dieMessage("eventually: condition never held")
  })

/**
 * Records what is printed with `console.error` while the file's tests run
 * (ioredis prints "Unhandled error event" there), still printing it.
 */
export const captureConsoleErrors = (): ReadonlyArray<string> => {
  const printed: Array<string> = []
  let restore = () => {}
  beforeAll(() => {
    const original = console.error
    const spy = vi.spyOn(console, "error").mockImplementation((...args: Array<unknown>) => {
      printed.push(args.map(String).join(" "))
      original(...args)
    })
    restore = () => spy.mockRestore()
  })
  afterAll(() => restore())
  return printed
}
