import type { CacheTier } from "@layercake/core"
import type * as Schema from "effect/Schema"
import { TagIndex } from "./tagIndex.js"

const NO_TAGS: ReadonlyArray<string> = Object.freeze([])

/** Slot 0 heads the circular recency list: `next[0]` is the most recently used slot, `prev[0]` the least. */
const SENTINEL = 0
const INITIAL_SLOTS = 64

/** Offsets of an entry's times in `times`, which holds 3 per slot. */
const CREATED_AT = 0
const FRESH_UNTIL = 1
const STALE_UNTIL = 2
const TIMES_PER_SLOT = 3

/**
 * A bounded LRU map from key to entry, kept as a struct of arrays indexed by
 * slot so that an entry costs no bookkeeping object: a `Map` from key to slot,
 * one array per field, typed arrays for the recency links and the times.
 * Freed slots are chained through `next` for reuse. Arrays grow by doubling up
 * to `maxEntries` and are never preallocated to it.
 *
 * Time is passed in by the caller (read from the Effect `Clock`); an entry with
 * `now >= staleUntil` is never returned and is deleted when seen.
 * @internal
 */
export class Store {
  private readonly slotByKey = new Map<string, number>()
  private readonly tagIndex = new TagIndex()
  /** Slots `1 .. capacity - 1` exist; `[1, used)` have been handed out at least once. */
  private capacity = 0
  private used = 1
  /** First free slot, the rest chained through `next`; `SENTINEL` when none. */
  private freeHead = SENTINEL
  private keys: Array<string | undefined> = []
  private values: Array<unknown> = []
  private schemas: Array<Schema.Schema<any, any> | undefined> = []
  /** Allocated with the first tagged entry: untagged caches do not pay for it. */
  private tags: Array<ReadonlyArray<string> | undefined> | undefined = undefined
  private next = new Int32Array(0)
  private prev = new Int32Array(0)
  private times = new Float64Array(0)
  private negative = new Uint8Array(0)
  /** Estimated size per slot; only with a `maxBytes` bound. */
  private sizes: Uint32Array | undefined = undefined
  private totalBytes = 0

  constructor(readonly maxEntries: number, readonly maxBytes: number | undefined) {
    this.reset()
  }

  get size(): number {
    return this.slotByKey.size
  }

  /** Sum of the estimated sizes of the kept entries; 0 without a `maxBytes` bound. */
  get bytes(): number {
    return this.totalBytes
  }

  /** Number of tags that index at least one entry. */
  get indexedTags(): number {
    return this.tagIndex.size
  }

  /** Keys from least to most recently used. */
  keysByRecency(): Array<string> {
    const keys: Array<string> = []
    for (let slot = this.prev[SENTINEL]; slot !== SENTINEL; slot = this.prev[slot]) keys.push(this.keys[slot]!)
    return keys
  }

  /** The slot of the live entry for `key`, marked most recently used. */
  lookup(key: string, now: number): number | undefined {
    const slot = this.slotByKey.get(key)
    if (slot === undefined) return undefined
    if (now >= this.times[slot * TIMES_PER_SLOT + STALE_UNTIL]) {
      this.removeSlot(slot)
      return undefined
    }
    this.touch(slot)
    return slot
  }

  /** Builds the entry kept in `slot` (a slot `lookup` returned). */
  entryAt(slot: number): CacheTier.Entry<unknown> {
    const base = slot * TIMES_PER_SLOT
    return {
      value: this.values[slot],
      schema: this.schemas[slot]!,
      createdAt: this.times[base + CREATED_AT],
      freshUntil: this.times[base + FRESH_UNTIL],
      staleUntil: this.times[base + STALE_UNTIL],
      tags: this.tags?.[slot] ?? NO_TAGS,
      negative: this.negative[slot] === 1
    }
  }

  /**
   * Keeps `entry` (live at `now`) as the most recently used, evicting the least
   * recently used entries while over a bound. `bytes` is its estimated size,
   * at most `maxBytes` (ignored without that bound).
   */
  set(key: string, entry: CacheTier.Entry<any>, now: number, bytes: number): void {
    let slot = this.slotByKey.get(key)
    if (slot === undefined) {
      this.dropExpiredTail(now)
      if (this.slotByKey.size >= this.maxEntries) this.removeSlot(this.prev[SENTINEL])
      slot = this.allocate()
      this.slotByKey.set(key, slot)
      this.keys[slot] = key
      this.linkAtHead(slot)
    } else {
      this.forgetTagsAndSize(slot, key)
      this.touch(slot)
    }
    this.values[slot] = entry.value
    this.schemas[slot] = entry.schema
    const base = slot * TIMES_PER_SLOT
    this.times[base + CREATED_AT] = entry.createdAt
    this.times[base + FRESH_UNTIL] = entry.freshUntil
    this.times[base + STALE_UNTIL] = entry.staleUntil
    this.negative[slot] = entry.negative ? 1 : 0
    if (entry.tags.length > 0) {
      ;(this.tags ??= new Array(this.capacity).fill(undefined))[slot] = entry.tags
      this.tagIndex.add(key, entry.tags)
    }
    if (this.sizes !== undefined) {
      this.sizes[slot] = bytes
      this.totalBytes += bytes
      while (this.totalBytes > this.maxBytes! && this.prev[SENTINEL] !== slot) this.removeSlot(this.prev[SENTINEL])
    }
  }

  delete(key: string): void {
    const slot = this.slotByKey.get(key)
    if (slot !== undefined) this.removeSlot(slot)
  }

  /** Deletes every entry carrying one of `tags`. */
  invalidateTags(tags: ReadonlyArray<string>): void {
    for (const tag of tags) {
      for (const key of this.tagIndex.keysOf(tag)) this.delete(key)
    }
  }

  /** Deletes every key starting with `prefix`; all of them (and the memory) for `""`. */
  /** Removes the keys that start with `prefix` and whose rest `matches`. */
  deleteMatching(prefix: string, matches: (rest: string) => boolean): void {
    for (const [key, slot] of this.slotByKey) {
      if (key.startsWith(prefix) && matches(key.slice(prefix.length))) this.removeSlot(slot)
    }
  }

  clear(prefix: string): void {
    if (prefix === "") return this.reset()
    for (const [key, slot] of this.slotByKey) {
      if (key.startsWith(prefix)) this.removeSlot(slot)
    }
  }

  private reset(): void {
    this.slotByKey.clear()
    this.tagIndex.clear()
    this.capacity = 0
    this.used = 1
    this.freeHead = SENTINEL
    this.keys = []
    this.values = []
    this.schemas = []
    this.tags = undefined
    this.next = new Int32Array(0)
    this.prev = new Int32Array(0)
    this.times = new Float64Array(0)
    this.negative = new Uint8Array(0)
    this.sizes = this.maxBytes === undefined ? undefined : new Uint32Array(0)
    this.totalBytes = 0
    this.grow(Math.min(INITIAL_SLOTS, this.maxEntries) + 1)
  }

  /** Expired entries at the LRU end would be evicted first anyway; dropping them now frees their memory sooner. */
  private dropExpiredTail(now: number): void {
    for (let i = 0; i < 2; i++) {
      const tail = this.prev[SENTINEL]
      if (tail === SENTINEL || now < this.times[tail * TIMES_PER_SLOT + STALE_UNTIL]) return
      this.removeSlot(tail)
    }
  }

  private allocate(): number {
    if (this.freeHead !== SENTINEL) {
      const slot = this.freeHead
      this.freeHead = this.next[slot]
      return slot
    }
    if (this.used === this.capacity) this.grow(Math.min(this.maxEntries, (this.capacity - 1) * 2) + 1)
    return this.used++
  }

  private removeSlot(slot: number): void {
    const key = this.keys[slot]!
    this.slotByKey.delete(key)
    this.forgetTagsAndSize(slot, key)
    this.unlink(slot)
    this.keys[slot] = undefined
    this.values[slot] = undefined
    this.schemas[slot] = undefined
    this.next[slot] = this.freeHead
    this.freeHead = slot
  }

  private forgetTagsAndSize(slot: number, key: string): void {
    const tags = this.tags?.[slot]
    if (tags !== undefined) {
      this.tagIndex.remove(key, tags)
      this.tags![slot] = undefined
    }
    if (this.sizes !== undefined) {
      this.totalBytes -= this.sizes[slot]
      this.sizes[slot] = 0
    }
  }

  private touch(slot: number): void {
    if (this.next[SENTINEL] === slot) return
    this.unlink(slot)
    this.linkAtHead(slot)
  }

  private unlink(slot: number): void {
    const before = this.prev[slot]
    const after = this.next[slot]
    this.next[before] = after
    this.prev[after] = before
  }

  private linkAtHead(slot: number): void {
    const first = this.next[SENTINEL]
    this.next[slot] = first
    this.prev[slot] = SENTINEL
    this.prev[first] = slot
    this.next[SENTINEL] = slot
  }

  private grow(capacity: number): void {
    this.keys = grownArray(this.keys, capacity)
    this.values = grownArray(this.values, capacity)
    this.schemas = grownArray(this.schemas, capacity)
    if (this.tags !== undefined) this.tags = grownArray(this.tags, capacity)
    this.next = grownTyped(this.next, new Int32Array(capacity))
    this.prev = grownTyped(this.prev, new Int32Array(capacity))
    this.times = grownTyped(this.times, new Float64Array(capacity * TIMES_PER_SLOT))
    this.negative = grownTyped(this.negative, new Uint8Array(capacity))
    if (this.sizes !== undefined) this.sizes = grownTyped(this.sizes, new Uint32Array(capacity))
    this.capacity = capacity
  }
}

/** A copy of `array` of exactly `length` elements: V8's own growth would leave up to 50% slack. */
const grownArray = <T>(array: Array<T | undefined>, length: number): Array<T | undefined> => {
  const grown = new Array<T | undefined>(length).fill(undefined)
  for (let i = 0; i < array.length; i++) grown[i] = array[i]
  return grown
}

const grownTyped = <T extends Int32Array | Float64Array | Uint8Array | Uint32Array>(from: T, to: T): T => {
  to.set(from)
  return to
}
