/**
 * The deadline sweep on responsive time: the time the event loop was blocked
 * by the process itself does not count against the calls waiting on it, and
 * an overdue call is expired only after a poll phase (real time: the sweep
 * reads `performance.now()`, which is what it is about).
 */
import { assert, describe, it } from "@effect/vitest"
import { Deadlines, type Expiring } from "../src/internal/deadlines.js"

const call = (deadlines: Deadlines, timeout: number) => {
  const expiring: Expiring & { done: boolean; expiredAt: number | undefined } = {
    at: deadlines.now() + timeout,
    done: false,
    expiredAt: undefined,
    expire() {
      this.done = true
      this.expiredAt = performance.now()
    }
  }
  deadlines.add(expiring)
  return expiring
}

const blockFor = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // the process's own work: the event loop cannot run
  }
}

const turns = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Lets the event loop run until `pending` is expired, for at most a second (a loaded CI machine is slow). */
const untilExpired = async (pending: { done: boolean }) => {
  const until = performance.now() + 1_000
  while (!pending.done && performance.now() < until) await turns(5)
}

describe("Deadlines", () => {
  it("expires a call once its timeout has passed", async () => {
    const deadlines = new Deadlines(5)
    const started = performance.now()
    const pending = call(deadlines, 20)
    await untilExpired(pending)
    assert.isTrue(pending.done)
    assert.isAtLeast(pending.expiredAt! - started, 19)
  })

  it("time the event loop was blocked does not count: a 20 ms call survives a 200 ms block", async () => {
    const deadlines = new Deadlines(5)
    const pending = call(deadlines, 20)
    blockFor(200)
    const unblocked = performance.now()
    await new Promise((resolve) => setImmediate(resolve))
    assert.isFalse(pending.done, "expired at the first sweep after the block")
    await untilExpired(pending)
    assert.isTrue(pending.done, "expired once 20 ms of responsive time went by")
    assert.isAtLeast(pending.expiredAt! - unblocked, 5)
  })

  it("a call that finished before its deadline is never expired", async () => {
    const deadlines = new Deadlines(5)
    const finished = call(deadlines, 10)
    finished.done = true
    await turns(40)
    assert.isUndefined(finished.expiredAt)
  })
})
