import { FrequencySketch } from "./frequencySketch.js"
import { HillClimber } from "./hillClimber.js"
import type { EvictionPolicy, StoreAccess } from "./policy.js"
import type { SlotLists } from "./slotLists.js"
import { AREA, FIRST_SLOT, NO_SLOT, RECORD_BYTES, type SlotRecords } from "./slotRecords.js"

/** The three areas, each a list of `SlotLists` (the number is the list). */
const WINDOW = 0
const PROBATION = 1
const PROTECTED = 2

/** Share of the maximum for the main area (probation + protected) at the start; the window has the rest. */
const MAIN_SHARE = 0.99
/** Share of the main area that protected may fill. */
const PROTECTED_SHARE = 0.8
/** A candidate at least this frequent is admitted at random 1 time in 128 even when not more frequent. */
const WARM_FREQUENCY = 6
/** Most entries moved between areas per window resize. */
const MOST_MOVED = 1_000

/**
 * W-TinyLFU (Caffeine's `BoundedLocalCache`): new entries enter a small LRU
 * admission window (1% of the maximum at first); the entries it pushes out
 * are candidates for the main area, a segmented LRU of probation (entries
 * seen once there) and protected (entries read again, up to 80% of the main
 * area). When the store is over a bound, the candidate competes with the
 * least recently used entry of probation, the victim: the one the
 * `FrequencySketch` says was used more often recently stays. So a burst of
 * keys used once flows through the window without displacing the frequently
 * used ones, and recency still gets a chance in the window. A `HillClimber`
 * moves the window's size towards the split that gives the best hit rate.
 *
 * The maximum, the window and protected are measured in weight: 1 per entry,
 * or the estimated bytes with a byte bound (then an entry heavier than the
 * window is a candidate at once).
 * @internal
 */
export class TinyLfuPolicy implements EvictionPolicy {
  private readonly sketch: FrequencySketch
  private readonly climber: HillClimber
  private windowWeight = 0
  private protectedWeight = 0
  private windowMaximum: number
  private protectedMaximum: number
  private random: number

  constructor(
    private readonly records: SlotRecords,
    private readonly lists: SlotLists,
    private readonly store: StoreAccess,
    /** In weight units: `maxEntries`, or `maxBytes` with a byte bound. */
    private readonly maximum: number,
    /** The store's count, or its bytes with a byte bound: the window is not resized before half the maximum. */
    private readonly weightedSize: () => number,
    capacity: number,
    seed: number
  ) {
    this.sketch = new FrequencySketch(capacity)
    this.climber = new HillClimber(maximum)
    this.random = seed | 1
    this.windowMaximum = maximum - Math.floor(MAIN_SHARE * maximum)
    this.protectedMaximum = Math.floor(PROTECTED_SHARE * (maximum - this.windowMaximum))
  }

  inserted(slot: number, hash: number): void {
    this.sketch.increment(hash)
    this.climber.recordMiss()
    const weight = this.store.weightOf(slot)
    this.setArea(slot, WINDOW)
    this.windowWeight += weight
    // too heavy for the window: at its LRU end, the first candidate
    if (weight > this.windowMaximum) this.lists.pushLeastRecent(WINDOW, slot)
    else this.lists.pushMostRecent(WINDOW, slot)
    this.adaptAtEndOfSample()
  }

  accessed(slot: number, hash: number): void {
    this.sketch.increment(hash)
    this.climber.recordHit()
    const area = this.areaOf(slot)
    if (area === PROBATION) this.promote(slot)
    else this.lists.moveToMostRecent(area, slot)
    this.adaptAtEndOfSample()
  }

  reweighed(slot: number, delta: number): void {
    const area = this.areaOf(slot)
    if (area === WINDOW) this.windowWeight += delta
    else if (area === PROTECTED) this.protectedWeight += delta
  }

  removing(slot: number): void {
    this.lists.unlink(slot)
    this.reweighed(slot, -this.store.weightOf(slot))
  }

  dropExpired(now: number): void {
    for (let area = WINDOW; area <= PROTECTED; area++) {
      for (let i = 0; i < 2; i++) {
        const last = this.lists.leastRecent(area)
        if (last < FIRST_SLOT || !this.store.isExpired(last, now)) break
        this.store.evict(last)
      }
    }
  }

  evictWhileOver(now: number): void {
    const candidate = this.moveWindowOverflowToProbation()
    if (this.store.isOverBounds()) this.evictFromMain(candidate, now)
  }

  grow(capacity: number): void {
    this.sketch.grow(capacity)
  }

  slotsInOrder(): Array<number> {
    const slots: Array<number> = []
    for (let area = WINDOW; area <= PROTECTED; area++) {
      for (let slot = this.lists.leastRecent(area); slot >= FIRST_SLOT; slot = this.lists.newer(slot)) slots.push(slot)
    }
    return slots
  }

  /** Where `slot` is, for tests. */
  areaName(slot: number): "window" | "probation" | "protected" {
    return (["window", "probation", "protected"] as const)[this.areaOf(slot)]
  }

  /** The areas' current maximums, for tests and benches. */
  get maximums(): { readonly window: number; readonly protected: number } {
    return { window: this.windowMaximum, protected: this.protectedMaximum }
  }

  private areaOf(slot: number): number {
    return this.records.bytes[slot * RECORD_BYTES + AREA]
  }

  private setArea(slot: number, area: number): void {
    this.records.bytes[slot * RECORD_BYTES + AREA] = area
  }

  /** A second read in probation earns protection (unless the entry is heavier than protected may be). */
  private promote(slot: number): void {
    const weight = this.store.weightOf(slot)
    if (weight > this.protectedMaximum) return this.lists.moveToMostRecent(PROBATION, slot)
    this.move(slot, PROTECTED)
    this.demoteProtectedOverflow()
  }

  /** Moves `slot` to the most recent end of `area`, keeping the areas' weights. */
  private move(slot: number, area: number): void {
    const weight = this.store.weightOf(slot)
    this.reweighed(slot, -weight)
    this.lists.unlink(slot)
    this.setArea(slot, area)
    this.lists.pushMostRecent(area, slot)
    this.reweighed(slot, weight)
  }

  private demoteProtectedOverflow(): void {
    for (let i = 0; i < MOST_MOVED && this.protectedWeight > this.protectedMaximum; i++) {
      const slot = this.lists.leastRecent(PROTECTED)
      if (slot < FIRST_SLOT) return
      this.move(slot, PROBATION)
    }
  }

  /** Moves the window's least recent entries to probation while the window is over its size; returns the first. */
  private moveWindowOverflowToProbation(): number {
    let first = NO_SLOT
    while (this.windowWeight > this.windowMaximum && !this.lists.isEmpty(WINDOW)) {
      const slot = this.lists.leastRecent(WINDOW)
      this.move(slot, PROBATION)
      if (first === NO_SLOT) first = slot
    }
    return first
  }

  /**
   * Caffeine's `evictFromMain`: candidates (from the window, most recently
   * moved last) against victims (probation's least recent first, then
   * protected's, then the window's), the less frequent one evicted, until the
   * store is within its bounds. An expired entry is evicted without a contest.
   */
  private evictFromMain(firstCandidate: number, now: number): void {
    const { lists, store } = this
    let candidate = firstCandidate
    let candidateArea = PROBATION
    let victimArea = PROBATION
    let victim = lists.leastRecent(PROBATION)
    if (victim < FIRST_SLOT) victim = NO_SLOT
    while (store.isOverBounds()) {
      if (candidate === NO_SLOT && candidateArea === PROBATION) {
        candidate = this.orNone(lists.leastRecent(WINDOW))
        candidateArea = WINDOW
      }
      if (candidate === NO_SLOT && victim === NO_SLOT) {
        if (victimArea === WINDOW) return
        victimArea = victimArea === PROBATION ? PROTECTED : WINDOW
        victim = this.orNone(lists.leastRecent(victimArea))
        continue
      }
      if (victim === NO_SLOT) {
        candidate = this.evictAndAdvance(candidate)
      } else if (candidate === NO_SLOT) {
        victim = this.evictAndAdvance(victim)
      } else if (candidate === victim) {
        victim = this.evictAndAdvance(victim)
        candidate = NO_SLOT
      } else if (store.isExpired(victim, now)) {
        victim = this.evictAndAdvance(victim)
      } else if (store.isExpired(candidate, now) || store.weightOf(candidate) > this.maximum) {
        candidate = this.evictAndAdvance(candidate)
      } else if (this.admits(candidate, victim)) {
        victim = this.evictAndAdvance(victim)
        candidate = this.orNone(lists.newer(candidate))
      } else {
        candidate = this.evictAndAdvance(candidate)
      }
    }
  }

  private admits(candidate: number, victim: number): boolean {
    return admits(
      this.sketch.frequency(this.store.hashOf(candidate)),
      this.sketch.frequency(this.store.hashOf(victim)),
      this.nextRandom
    )
  }

  private evictAndAdvance(slot: number): number {
    const next = this.orNone(this.lists.newer(slot))
    this.store.evict(slot)
    return next
  }

  private orNone(slot: number): number {
    return slot < FIRST_SLOT ? NO_SLOT : slot
  }

  /** xorshift32: cheap, and seeded with the store so that a bench replays exactly. */
  private readonly nextRandom = (): number => {
    let x = this.random
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.random = x
    return x
  }

  private adaptAtEndOfSample(): void {
    if (this.climber.requests < this.sketch.sampleSize) return
    // as Caffeine: no adapting while the store has not filled up halfway
    if (this.weightedSize() < this.maximum / 2) return this.climber.restartSample()
    const amount = this.climber.adjustment()
    this.demoteProtectedOverflow()
    if (amount > 0) this.growWindow(amount)
    else if (amount < 0) this.shrinkWindow(-amount)
  }

  /** Caffeine's `increaseWindow`: takes the quota from protected, moving main's least recent entries in. */
  private growWindow(amount: number): void {
    if (this.protectedMaximum === 0) return
    let quota = Math.min(amount, this.protectedMaximum)
    this.protectedMaximum -= quota
    this.windowMaximum += quota
    this.demoteProtectedOverflow()
    for (let i = 0; i < MOST_MOVED; i++) {
      let slot = this.lists.leastRecent(PROBATION)
      if (slot < FIRST_SLOT || quota < this.store.weightOf(slot)) slot = this.lists.leastRecent(PROTECTED)
      if (slot < FIRST_SLOT || quota < this.store.weightOf(slot)) break
      quota -= this.store.weightOf(slot)
      this.move(slot, WINDOW)
    }
    // what could not be moved stays with protected
    this.protectedMaximum += quota
    this.windowMaximum -= quota
  }

  /** Caffeine's `decreaseWindow`: gives the quota to protected, moving the window's least recent entries out. */
  private shrinkWindow(amount: number): void {
    if (this.windowMaximum <= 1) return
    let quota = Math.min(amount, Math.max(0, this.windowMaximum - 1))
    this.protectedMaximum += quota
    this.windowMaximum -= quota
    for (let i = 0; i < MOST_MOVED; i++) {
      const slot = this.lists.leastRecent(WINDOW)
      if (slot < FIRST_SLOT || quota < this.store.weightOf(slot)) break
      quota -= this.store.weightOf(slot)
      this.move(slot, PROBATION)
    }
    this.protectedMaximum -= quota
    this.windowMaximum += quota
  }
}

/**
 * Caffeine's `admit`: the more frequent wins and a tie keeps the victim, but a
 * warm candidate wins 1 time in 128 (`random` is called only then) whatever
 * the victim's count: an attacker who makes victims look hot (by hash
 * collisions in the sketch) would otherwise lock every newcomer out.
 * @internal
 */
export const admits = (candidateFrequency: number, victimFrequency: number, random: () => number): boolean =>
  candidateFrequency > victimFrequency || (candidateFrequency >= WARM_FREQUENCY && (random() & 127) === 0)
