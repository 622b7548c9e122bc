import type { EvictionPolicy, StoreAccess } from "./policy.js"
import type { SlotLists } from "./slotLists.js"
import { FIRST_SLOT } from "./slotRecords.js"

/** The one list, most recently used first. */
const RECENCY = 0

/**
 * Least recently used: every write and read moves the entry to the front of
 * one list, and eviction takes from the back.
 * @internal
 */
export const makeLruPolicy = (lists: SlotLists, store: StoreAccess): EvictionPolicy => ({
  inserted: (slot) => lists.pushMostRecent(RECENCY, slot),
  accessed: (slot) => lists.moveToMostRecent(RECENCY, slot),
  reweighed: () => {},
  removing: (slot) => lists.unlink(slot),
  dropExpired: (now) => {
    for (let i = 0; i < 2; i++) {
      const last = lists.leastRecent(RECENCY)
      if (last < FIRST_SLOT || !store.isExpired(last, now)) return
      store.evict(last)
    }
  },
  evictWhileOver: () => {
    while (store.isOverBounds() && !lists.isEmpty(RECENCY)) store.evict(lists.leastRecent(RECENCY))
  },
  grow: () => {},
  slotsInOrder: () => {
    const slots: Array<number> = []
    for (let slot = lists.leastRecent(RECENCY); slot >= FIRST_SLOT; slot = lists.newer(slot)) slots.push(slot)
    return slots
  }
})
