import { assert, describe, it } from "@effect/vitest"
import { CircuitBreaker } from "@layercake/core"
import * as Effect from "effect/Effect"

const make = () => {
  const events: Array<string> = []
  const breaker = CircuitBreaker.make({ failureThreshold: 3, openForMillis: 1_000 }, {
    opened: (failures) => Effect.sync(() => void events.push(`opened after ${failures}`)),
    closed: Effect.sync(() => void events.push("closed"))
  })
  return { breaker, events }
}

describe("circuit breaker", () => {
  it("opens after `failureThreshold` consecutive failures, not before", () => {
    const { breaker } = make()
    assert.strictEqual(breaker.admit(0), "Run")
    assert.isUndefined(breaker.failed("Run", 0))
    assert.isUndefined(breaker.failed("Run", 0))
    assert.strictEqual(breaker.state(0), "Closed")
    assert.isDefined(breaker.failed("Run", 10))
    assert.strictEqual(breaker.state(10), "Open")
    assert.strictEqual(breaker.admit(500), "Reject")
  })

  it("a success resets the count of consecutive failures", () => {
    const { breaker } = make()
    breaker.failed("Run", 0)
    breaker.failed("Run", 0)
    assert.isUndefined(breaker.succeeded("Run"))
    breaker.failed("Run", 0)
    breaker.failed("Run", 0)
    assert.strictEqual(breaker.state(0), "Closed")
  })

  it("after `openFor`, lets exactly one probe through; its success closes the circuit", () => {
    const { breaker, events } = make()
    for (let i = 0; i < 3; i++) Effect.runSync(breaker.failed("Run", 0) ?? Effect.void)
    assert.strictEqual(breaker.admit(999), "Reject")
    assert.strictEqual(breaker.state(1_000), "HalfOpen")
    assert.strictEqual(breaker.admit(1_000), "Probe")
    assert.strictEqual(breaker.admit(1_001), "Reject")
    Effect.runSync(breaker.succeeded("Probe") ?? Effect.void)
    assert.strictEqual(breaker.state(1_001), "Closed")
    assert.strictEqual(breaker.admit(1_001), "Run")
    assert.deepStrictEqual(events, ["opened after 3", "closed"])
  })

  it("a failed probe opens the circuit for another `openFor`", () => {
    const { breaker } = make()
    for (let i = 0; i < 3; i++) breaker.failed("Run", 0)
    assert.strictEqual(breaker.admit(1_000), "Probe")
    breaker.failed("Probe", 1_200)
    assert.strictEqual(breaker.admit(2_100), "Reject")
    assert.strictEqual(breaker.admit(2_200), "Probe")
  })

  it("late failures of calls admitted before it opened do not extend the open period", () => {
    const { breaker } = make()
    for (let i = 0; i < 3; i++) breaker.failed("Run", 0)
    breaker.failed("Run", 900)
    assert.strictEqual(breaker.admit(1_000), "Probe")
  })

  it("an abandoned (interrupted) probe frees the way for the next one", () => {
    const { breaker } = make()
    for (let i = 0; i < 3; i++) breaker.failed("Run", 0)
    assert.strictEqual(breaker.admit(1_000), "Probe")
    breaker.abandoned("Probe")
    assert.strictEqual(breaker.admit(1_000), "Probe")
  })

  it("late successes of calls admitted before it opened do not close it: only the probe does", () => {
    const { breaker, events } = make()
    for (let i = 0; i < 3; i++) Effect.runSync(breaker.failed("Run", 0) ?? Effect.void)
    for (let i = 0; i < 10; i++) assert.isUndefined(breaker.succeeded("Run"))
    assert.strictEqual(breaker.state(500), "Open")
    assert.strictEqual(breaker.admit(500), "Reject")
    assert.strictEqual(breaker.admit(1_000), "Probe")
    Effect.runSync(breaker.succeeded("Probe") ?? Effect.void)
    assert.strictEqual(breaker.state(1_000), "Closed")
    assert.deepStrictEqual(events, ["opened after 3", "closed"])
  })
})
