import type * as FiberSet from "effect/FiberSet"
import type * as Option from "effect/Option"
import type * as Random from "effect/Random"
import type * as Schema from "effect/Schema"
import type { EntryOptions } from "../Cache.js"
import type { CacheTier as Tier } from "../CacheTier.js"
import type { DistributedLock } from "../DistributedLock.js"
import type { InvalidationBus } from "../InvalidationBus.js"
import { Inflight } from "./inflight.js"
import type * as Lifecycle from "./lifecycle.js"
import { Counters } from "./metrics.js"
import * as Policy from "./policy.js"
import type { ReadObserver } from "./stack.js"

const MAX_SCHEMAS = 10_000

/**
 * What the parts of one `Cache` (read path, flights, writes, invalidation)
 * share: its tiers, counters, in-flight computes and bookkeeping.
 * @internal
 */
export class CacheState {
  readonly instanceId = crypto.randomUUID()
  readonly prefix: string
  readonly counters: Counters
  readonly inflight = new Inflight()
  readonly local: ReadonlyArray<Tier>
  /** Tiers that give fence points (see `CacheTier.fence`). */
  readonly fenced: ReadonlyArray<Tier>
  /** The index of the first shared tier, or -1. */
  readonly firstShared: number
  /** The top tier's synchronous access, read first by every `get` / `getOrCompute` (the L1 hit). */
  readonly topSync: Tier["sync"]
  readonly observer: ReadObserver
  /** key -> time before which a failing source is not retried while stale is served. */
  readonly retryAfter = new Map<string, number>()
  /**
   * Shared tiers treat an entry created at or before its tag's invalidation
   * time as invalidated, at millisecond resolution. To keep this instance's own
   * writes and tag invalidations in order within one millisecond, a tagged
   * write is stamped after the last tag invalidation, and a tag invalidation
   * at or after the last tagged write (see `writes.ts`, `invalidation.ts`).
   */
  lastTagInvalidation = -Infinity
  lastTaggedWrite = -Infinity
  /** Set when the layer's scope closes: no fiber may be started any more. */
  closed = false
  /**
   * Keys whose invalidation has not landed in a shared tier yet (key -> retries
   * pending), and the count of pending tag invalidations and clears, which make
   * every key suspect. Reads of a suspect key skip the shared tiers.
   */
  readonly suspectKeys = new Map<string, number>()
  suspectAll = 0
  /**
   * Bumped by every local drop. A read that went past the top tier and saw it
   * change removes the copy it promoted: it may be older than the drop.
   */
  epoch = 0
  /**
   * The schema each key was last read with past the top tier: what a
   * `peers: "refresh"` message needs to read the key's new value. Two
   * generations of at most `MAX_SCHEMAS / 2` keys each; when the young one
   * fills up it becomes the old one. (Evicting the oldest key of one map
   * instead made V8 walk the deleted entries at its front on every read.)
   */
  private youngSchemas = new Map<string, Schema.Schema<any, any>>()
  private oldSchemas = new Map<string, Schema.Schema<any, any>>()

  constructor(
    readonly namespace: string,
    readonly defaults: Lifecycle.Policy,
    /** The tiers, hottest first. */
    readonly members: ReadonlyArray<Tier>,
    readonly fibers: FiberSet.FiberSet<void, never>,
    readonly bus: Option.Option<InvalidationBus>,
    readonly lock: Option.Option<DistributedLock>,
    readonly random: Random.Random
  ) {
    this.prefix = `${namespace}:`
    this.counters = new Counters(namespace, members.map((member) => member.name))
    this.local = members.filter((member) => member.kind === "local")
    this.fenced = members.filter((member) => member.kind === "shared" && member.fence !== undefined)
    this.firstShared = members.findIndex((member) => member.kind === "shared")
    this.topSync = members[0].sync
    const counters = this.counters
    this.observer = {
      hit: (index) => counters.tier(index, "hits"),
      miss: (index) => counters.tier(index, "misses"),
      decodeFailure: (index) => {
        counters.tier(index, "misses")
        counters.incr("decodeFailures")
      },
      error: (index) => this.tierError(index)
    }
  }

  readonly tierError = (index: number): void => {
    this.counters.tier(index, "errors")
    this.counters.incr("tierErrors")
  }

  /** Maps an index into `members` (a subset of the stack) back to the stack's index for stats. */
  tierErrorOf(members: ReadonlyArray<Tier>): (index: number) => void {
    return members === this.members
      ? this.tierError
      : (index) => this.tierError(this.members.indexOf(members[index]))
  }

  /** Throws `InvalidOptionError` (a defect where it is called). */
  policy(options: EntryOptions | undefined): Lifecycle.Policy {
    return options === undefined ? this.defaults : Policy.resolve(options, this.defaults, this.prefix)
  }

  rememberSchema(fullKey: string, schema: Schema.Schema<any, any>): void {
    if (this.youngSchemas.get(fullKey) === schema) return
    if (this.youngSchemas.size >= MAX_SCHEMAS / 2) {
      this.oldSchemas = this.youngSchemas
      this.youngSchemas = new Map()
    }
    this.youngSchemas.set(fullKey, schema)
  }

  schemaOf(fullKey: string): Schema.Schema<any, any> | undefined {
    return this.youngSchemas.get(fullKey) ?? this.oldSchemas.get(fullKey)
  }

  isSuspect(fullKey: string): boolean {
    return this.suspectAll > 0 || (this.suspectKeys.size > 0 && this.suspectKeys.has(fullKey))
  }

  userKey(fullKey: string): string {
    return fullKey.slice(this.prefix.length)
  }
}
