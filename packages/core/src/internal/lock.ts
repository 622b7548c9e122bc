import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { DistributedLock, Lease } from "../DistributedLock.js"

/** @internal */
export const TypeId: unique symbol = Symbol.for("@layercake/core/DistributedLock")

/** @internal */
export const tag = Context.GenericTag<DistributedLock>("@layercake/core/DistributedLock")

/** @internal */
export interface MemoryOptions {
  readonly leaseMillis?: number | undefined
  readonly waitTimeoutMillis?: number | undefined
}

/** @internal */
export const makeMemory = (options: MemoryOptions = {}): Effect.Effect<DistributedLock> =>
  Effect.sync(() => {
    const leaseMillis = options.leaseMillis ?? 10_000
    const held = new Map<string, { readonly token: string; until: number }>()
    let next = 0
    const live = (key: string, now: number) => {
      const holder = held.get(key)
      if (holder !== undefined && holder.until <= now) held.delete(key)
      return held.get(key)
    }
    const lock: DistributedLock = {
      [TypeId]: TypeId,
      leaseMillis,
      waitTimeoutMillis: options.waitTimeoutMillis ?? 2 * leaseMillis,
      tryAcquire: (key) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          if (live(key, now) !== undefined) return Option.none()
          const lease: Lease = { key, token: `memory-${++next}` }
          held.set(key, { token: lease.token, until: now + leaseMillis })
          return Option.some(lease)
        }),
      extend: (lease) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const holder = live(lease.key, now)
          if (holder === undefined || holder.token !== lease.token) return false
          holder.until = now + leaseMillis
          return true
        }),
      release: (lease) =>
        Effect.sync(() => {
          if (held.get(lease.key)?.token === lease.token) held.delete(lease.key)
        })
    }
    return lock
  })

/** @internal */
export const layerMemory = (options?: MemoryOptions): Layer.Layer<DistributedLock> =>
  Layer.effect(tag, makeMemory(options))
