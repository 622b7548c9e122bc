import type { CacheTier } from "@layercake/core"
import { hashKey, randomSeed } from "./keyHash.js"
import { KeyIndex } from "./keyIndex.js"
import { makeLruPolicy } from "./lruPolicy.js"
import type { EvictionPolicy, PolicyName, StoreAccess } from "./policy.js"
import { SchemaTable } from "./schemaTable.js"
import { SlotLists } from "./slotLists.js"
import { copied, FIRST_SLOT, NEGATIVE, NO_SLOT, RECORD_BYTES, SlotRecords } from "./slotRecords.js"
import { IdleSlotTimes, SlotTimes } from "./slotTimes.js"
import { TagIndex } from "./tagIndex.js"
import { TinyLfuPolicy } from "./tinyLfuPolicy.js"

const NO_TAGS: ReadonlyArray<string> = Object.freeze([])
const INITIAL_ENTRIES = 64

/** @internal */
export interface StoreOptions {
  readonly maxEntries: number
  readonly maxBytes: number | undefined
  readonly policy: PolicyName
  /** Milliseconds without a read or write after which an entry is gone (never past its `staleUntil`); none by default. */
  readonly timeToIdle?: number | undefined
  /** Seeds the key hash and the policy's random admission; random by default (benches pass one to replay). */
  readonly seed?: number | undefined
}

/**
 * A bounded map from key to entry, kept in arrays indexed by slot so that an
 * entry costs no bookkeeping object: a `KeyIndex` from key to slot, the keys,
 * the values, and a 32-byte record per slot (`SlotRecords`: times, links, key
 * hash, schema id, flags). Arrays grow by doubling up to `maxEntries` (plus the
 * lists' heads and one spare slot, as a new entry is placed before something
 * is evicted) and are never preallocated to it.
 *
 * Time is passed in by the caller (read from the Effect `Clock`); an entry with
 * `now >= staleUntil`, or with a `timeToIdle` not read or written for that
 * long, is never returned and is deleted when seen.
 * @internal
 */
export class Store implements StoreAccess {
  readonly maxEntries: number
  readonly maxBytes: number | undefined
  readonly policyName: PolicyName
  readonly timeToIdle: number | undefined
  private readonly seed: number
  private readonly tagIndex = new TagIndex()
  // the per-slot state, built by `start` (again by `clear("")`, which gives the memory back)
  private records!: SlotRecords
  private keyIndex!: KeyIndex
  private lists!: SlotLists
  private schemas!: SchemaTable
  private times!: SlotTimes
  private policy!: EvictionPolicy
  private values!: Array<unknown>
  /** Allocated with the first tagged entry: untagged caches do not pay for it. */
  private tags: Array<ReadonlyArray<string> | undefined> | undefined = undefined
  /** Estimated size per slot; only with a `maxBytes` bound. */
  private sizes: Uint32Array | undefined = undefined
  private totalBytes = 0
  private count = 0
  /** Slots `0 .. capacity - 1` exist; `[FIRST_SLOT, used)` have been handed out at least once. */
  private capacity = 0
  private used = FIRST_SLOT

  constructor(options: StoreOptions) {
    this.maxEntries = options.maxEntries
    this.maxBytes = options.maxBytes
    this.policyName = options.policy
    this.timeToIdle = options.timeToIdle
    this.seed = options.seed ?? randomSeed()
    this.start()
  }

  get size(): number {
    return this.count
  }

  /** Sum of the estimated sizes of the kept entries; 0 without a `maxBytes` bound. */
  get bytes(): number {
    return this.totalBytes
  }

  /** Number of tags that index at least one entry. */
  get indexedTags(): number {
    return this.tagIndex.size
  }

  /** The policy itself, for tests and benches that look inside it. */
  get evictionPolicy(): EvictionPolicy {
    return this.policy
  }

  /** Keys in the policy's order: least recently used first (lru); window, probation, protected (tinylfu). */
  keysByRecency(): Array<string> {
    return this.policy.slotsInOrder().map((slot) => this.keyIndex.keyAt(slot)!)
  }

  /** The slot of the live entry for `key`, counted as a use by the policy (and renewing its idle deadline). */
  lookup(key: string, now: number): number | undefined {
    const hash = hashKey(key, this.seed)
    const slot = this.keyIndex.find(key, hash)
    if (slot === NO_SLOT) return undefined
    const times = this.times
    if (times.isGoneAt(slot, now)) {
      this.remove(slot)
      return undefined
    }
    this.policy.accessed(slot, hash)
    times.touched(slot, now)
    return slot
  }

  /** The slot of `key`, without counting a use (for tests). */
  slotOf(key: string): number | undefined {
    const slot = this.keyIndex.find(key, hashKey(key, this.seed))
    return slot === NO_SLOT ? undefined : slot
  }

  /** Builds the entry kept in `slot` (a slot `lookup` returned). */
  entryAt(slot: number): CacheTier.Entry<unknown> {
    const times = this.times
    return {
      value: this.values[slot],
      schema: this.schemas.schemaAt(slot),
      createdAt: times.createdAtOf(slot),
      freshUntil: times.freshUntilOf(slot),
      staleUntil: times.staleUntilOf(slot),
      tags: this.tags?.[slot] ?? NO_TAGS,
      negative: this.records.bytes[slot * RECORD_BYTES + NEGATIVE] === 1
    }
  }

  /**
   * Keeps `entry` (live at `now`), then evicts as the policy decides while
   * over a bound: with tinylfu the new entry itself may be the one evicted.
   * `bytes` is its estimated size, at most `maxBytes` (ignored without that bound).
   */
  set(key: string, entry: CacheTier.Entry<any>, now: number, bytes: number): void {
    const hash = hashKey(key, this.seed)
    let slot = this.keyIndex.find(key, hash)
    const isNew = slot === NO_SLOT
    if (isNew) {
      this.policy.dropExpired(now)
      slot = this.allocate()
      this.keyIndex.add(slot, key, hash)
      this.count++
    } else {
      this.forgetTags(slot, key)
    }
    this.values[slot] = entry.value
    this.schemas.assign(slot, entry.schema)
    this.times.set(slot, entry.createdAt, entry.freshUntil, entry.staleUntil)
    this.times.touched(slot, now)
    this.records.bytes[slot * RECORD_BYTES + NEGATIVE] = entry.negative ? 1 : 0
    if (entry.tags.length > 0) {
      ;(this.tags ??= new Array(this.capacity).fill(undefined))[slot] = entry.tags
      this.tagIndex.add(key, entry.tags)
    }
    if (this.sizes !== undefined) {
      const delta = bytes - this.sizes[slot]
      this.sizes[slot] = bytes
      this.totalBytes += delta
      if (!isNew) this.policy.reweighed(slot, delta)
    }
    if (isNew) this.policy.inserted(slot, hash)
    else this.policy.accessed(slot, hash)
    this.policy.evictWhileOver(now)
  }

  delete(key: string): void {
    const slot = this.keyIndex.find(key, hashKey(key, this.seed))
    if (slot !== NO_SLOT) this.remove(slot)
  }

  /** Deletes every entry carrying one of `tags`. */
  invalidateTags(tags: ReadonlyArray<string>): void {
    for (const tag of tags) {
      for (const key of this.tagIndex.keysOf(tag)) this.delete(key)
    }
  }

  /** Removes the keys that start with `prefix` and whose rest `matches`. */
  deleteMatching(prefix: string, matches: (rest: string) => boolean): void {
    this.removeWhere((key) => key.startsWith(prefix) && matches(key.slice(prefix.length)))
  }

  /** Deletes every key starting with `prefix`; all of them (and the memory) for `""`. */
  clear(prefix: string): void {
    if (prefix === "") return this.reset()
    this.removeWhere((key) => key.startsWith(prefix))
  }

  // StoreAccess, for the policy

  isOverBounds(): boolean {
    return this.count > this.maxEntries || (this.maxBytes !== undefined && this.totalBytes > this.maxBytes)
  }

  weightOf(slot: number): number {
    return this.sizes === undefined ? 1 : this.sizes[slot]
  }

  hashOf(slot: number): number {
    return this.keyIndex.hashAt(slot)
  }

  isExpired(slot: number, now: number): boolean {
    return this.times.isGoneAt(slot, now)
  }

  evict(slot: number): void {
    this.remove(slot)
  }

  private removeWhere(predicate: (key: string) => boolean): void {
    for (let slot = FIRST_SLOT; slot < this.used; slot++) {
      const key = this.keyIndex.keyAt(slot)
      if (key !== undefined && predicate(key)) this.remove(slot)
    }
  }

  private remove(slot: number): void {
    const key = this.keyIndex.keyAt(slot)!
    this.policy.removing(slot)
    this.forgetTags(slot, key)
    if (this.sizes !== undefined) {
      this.totalBytes -= this.sizes[slot]
      this.sizes[slot] = 0
    }
    this.keyIndex.remove(slot)
    this.schemas.release(slot)
    this.values[slot] = undefined
    this.lists.release(slot)
    this.count--
  }

  private forgetTags(slot: number, key: string): void {
    const tags = this.tags?.[slot]
    if (tags !== undefined) {
      this.tagIndex.remove(key, tags)
      this.tags![slot] = undefined
    }
  }

  private allocate(): number {
    const free = this.lists.reuse()
    if (free !== NO_SLOT) return free
    if (this.used === this.capacity) this.grow()
    return this.used++
  }

  private grow(): void {
    const entries = this.capacity - FIRST_SLOT - 1
    const capacity = FIRST_SLOT + Math.min(this.maxEntries, entries * 2) + 1
    this.records.grow(capacity)
    this.keyIndex.grow(capacity)
    this.schemas.grow(capacity)
    this.times.grow(capacity)
    this.policy.grow(capacity)
    this.values = grownArray(this.values, capacity)
    if (this.tags !== undefined) this.tags = grownArray(this.tags, capacity)
    if (this.sizes !== undefined) this.sizes = copied(this.sizes, capacity)
    this.capacity = capacity
  }

  private start(): void {
    const capacity = FIRST_SLOT + Math.min(INITIAL_ENTRIES, this.maxEntries) + 1
    this.capacity = capacity
    this.used = FIRST_SLOT
    this.count = 0
    this.totalBytes = 0
    this.records = new SlotRecords(capacity)
    this.keyIndex = new KeyIndex(this.records, capacity)
    this.lists = new SlotLists(this.records, FIRST_SLOT)
    this.schemas = new SchemaTable(this.records)
    this.times = this.timeToIdle === undefined
      ? new SlotTimes(this.records)
      : new IdleSlotTimes(this.records, this.timeToIdle)
    this.values = new Array(capacity).fill(undefined)
    this.tags = undefined
    this.sizes = this.maxBytes === undefined ? undefined : new Uint32Array(capacity)
    this.policy = this.policyName === "lru"
      ? makeLruPolicy(this.lists, this)
      : new TinyLfuPolicy(
        this.records,
        this.lists,
        this,
        this.maxBytes ?? this.maxEntries,
        () => (this.maxBytes === undefined ? this.count : this.totalBytes),
        capacity,
        this.seed
      )
  }

  private reset(): void {
    this.tagIndex.clear()
    this.start()
  }
}

/** A copy of `array` of exactly `length` elements: V8's own growth would leave up to 50% slack. */
const grownArray = <T>(array: Array<T | undefined>, length: number): Array<T | undefined> => {
  const grown = new Array<T | undefined>(length).fill(undefined)
  for (let i = 0; i < array.length; i++) grown[i] = array[i]
  return grown
}
