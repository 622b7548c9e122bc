/**
 * How the store and its eviction policy talk. The store keeps the entries and
 * the bounds; the policy orders the slots (in the store's `SlotLists`) and,
 * when the store is over a bound, picks what to evict.
 * @internal
 */
export interface EvictionPolicy {
  /** A new key was written into `slot` (`hash` is its key's hash). */
  readonly inserted: (slot: number, hash: number) => void
  /** `slot` was read (a hit) or written over. */
  readonly accessed: (slot: number, hash: number) => void
  /** The weight of `slot` (its estimated bytes, with a byte bound) changed by `delta`. */
  readonly reweighed: (slot: number, delta: number) => void
  /** `slot` is leaving (deleted, expired or evicted); its weight is still readable. */
  readonly removing: (slot: number) => void
  /** Before a new key is written: lets go of entries already expired where eviction would look first. */
  readonly dropExpired: (now: number) => void
  /** Evicts, through `StoreAccess.evict`, until the store is within its bounds. */
  readonly evictWhileOver: (now: number) => void
  readonly grow: (capacity: number) => void
  /** Every kept slot, the first to be evicted first as far as the order says (for tests). */
  readonly slotsInOrder: () => Array<number>
}

/**
 * What a policy reads from, and asks of, the store.
 * @internal
 */
export interface StoreAccess {
  readonly isOverBounds: () => boolean
  /** 1 per entry, or its estimated bytes with a byte bound. */
  readonly weightOf: (slot: number) => number
  readonly hashOf: (slot: number) => number
  readonly isExpired: (slot: number, now: number) => boolean
  readonly evict: (slot: number) => void
}

/** The eviction policies `MemoryTier` offers. @internal */
export const POLICIES = ["tinylfu", "lru"] as const

/** @internal */
export type PolicyName = (typeof POLICIES)[number]
