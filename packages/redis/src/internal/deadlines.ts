/**
 * Timeouts for many short calls without a timer per call: each call registers
 * a deadline, and one interval, running only while calls are pending, expires
 * the overdue ones. A call times out between `timeout` and `timeout +
 * resolution` after it started. A timer per call cost about 5 µs of a ~75 µs
 * Redis round trip.
 *
 * @internal
 */
export class Deadlines {
  private readonly pending = new Set<Deadline>()
  private interval: ReturnType<typeof setInterval> | undefined = undefined

  constructor(private readonly resolution: number, private readonly now: () => number) {}

  /** Calls `expire` once the deadline `at` has passed, unless `cancel`ed first. */
  add(at: number, expire: () => void): Deadline {
    const deadline = new Deadline(at, expire, this.pending)
    this.pending.add(deadline)
    if (this.interval === undefined) {
      this.interval = setInterval(() => this.sweep(), this.resolution)
      this.interval.unref?.()
    }
    return deadline
  }

  private sweep(): void {
    if (this.pending.size === 0) {
      clearInterval(this.interval)
      this.interval = undefined
      return
    }
    const now = this.now()
    for (const deadline of this.pending) {
      if (now >= deadline.at) {
        this.pending.delete(deadline)
        deadline.expire()
      }
    }
  }
}

/** @internal */
export class Deadline {
  constructor(readonly at: number, readonly expire: () => void, private readonly pending: Set<Deadline>) {}

  cancel(): void {
    this.pending.delete(this)
  }
}
