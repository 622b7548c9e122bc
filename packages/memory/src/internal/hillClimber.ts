/** Hit-rate change past which the climber starts over with a full step. */
const RESTART_THRESHOLD = 0.05
/** The first step, as a share of the maximum. */
const STEP_PERCENT = 0.0625
/** Each step after the first is this share of the previous one. */
const STEP_DECAY = 0.98
/** The smallest first step, so that small caches can adapt too. */
const MIN_FIRST_STEP = 2
/** At or below this maximum, the first step grows the window rather than shrinking it. */
const SMALL_MAXIMUM = 512

/**
 * Sizes the tinylfu admission window by hill climbing on the hit rate, as
 * Caffeine 3.x does (`BoundedLocalCache.determineAdjustment`, before its
 * hit-density rework): over each sample (as many requests as
 * the sketch's aging period) it compares the hit rate with the previous
 * sample's; if it improved it keeps moving the window's size the same way,
 * otherwise it turns around. Steps shrink by 2% per sample and start over at
 * 6.25% of the maximum when the hit rate jumps by 5 points (a new workload).
 * @internal
 */
export class HillClimber {
  private hits = 0
  private misses = 0
  private previousHitRate = 0
  private step: number

  constructor(private readonly maximum: number) {
    const firstStep = Math.max(STEP_PERCENT * maximum, MIN_FIRST_STEP)
    this.step = maximum <= SMALL_MAXIMUM ? firstStep : -firstStep
  }

  recordHit(): void {
    this.hits++
  }

  recordMiss(): void {
    this.misses++
  }

  get requests(): number {
    return this.hits + this.misses
  }

  /** Starts a new sample without adjusting (while the cache is still filling up). */
  restartSample(): void {
    this.hits = 0
    this.misses = 0
    this.previousHitRate = 0
  }

  /**
   * Ends the sample: the number of weight units to move from the main area
   * into the window (negative: out of the window).
   */
  adjustment(): number {
    const hitRate = this.hits / (this.hits + this.misses)
    const change = hitRate - this.previousHitRate
    const amount = change >= 0 ? this.step : -this.step
    this.step = Math.abs(change) >= RESTART_THRESHOLD
      ? (amount < 0 ? -1 : 1) * Math.max(STEP_PERCENT * this.maximum, MIN_FIRST_STEP)
      : STEP_DECAY * amount
    this.previousHitRate = hitRate
    this.hits = 0
    this.misses = 0
    return Math.trunc(amount)
  }
}
