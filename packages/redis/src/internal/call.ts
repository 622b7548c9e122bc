/**
 * One Redis call as an Effect: bounded by the operation timeout, through the
 * circuit breaker, failing only with a `TierError`.
 *
 * @internal
 */
import { CacheTier, CircuitBreaker } from "@layercake/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { Activity } from "./activity.js"
import { Deadlines, type Expiring } from "./deadlines.js"

type Operation = CacheTier.TierError["operation"]
type Reason = CacheTier.TierError["reason"]
type Resume<A> = (effect: Effect.Effect<A, CacheTier.TierError>) => void

/** Errors Redis sends while it cannot serve (as opposed to a bad command). */
const UNAVAILABLE_REPLY = /^(LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN|BUSY|READONLY|NOREPLICAS)\b/

const reasonOf = (cause: unknown): Reason => {
  if (cause instanceof Error && cause.name === "ReplyError" && !UNAVAILABLE_REPLY.test(cause.message)) return "Unknown"
  return "Unavailable"
}

/** The class of the default (live) clock, to recognise it. */
const LiveClock = Clock.make().constructor

/** @internal */
export interface CallOptions {
  readonly name: string
  readonly operationTimeout: number
  readonly breaker: { readonly failureThreshold: number; readonly openForMillis: number } | undefined
  /** Tells a silent Redis from a busy one when a call times out; without it every timeout counts as silence. */
  readonly activity?: Activity | undefined
}

/**
 * Where a started call reports its reply or its failure; only the first
 * report counts.
 * @internal
 */
export interface Receiver<R> {
  succeed(reply: R): void
  fail(cause: unknown): void
}

/**
 * Starts a call with `arg`, reporting to `receiver`. A function made once,
 * not per call: on the read path every closure counts.
 * @internal
 */
export type Start<Arg, R> = (arg: Arg, receiver: Receiver<R>) => void

/** @internal */
export interface Calls {
  /** A call whose outcome a promise gives. */
  readonly promise: <A>(
    operation: Operation,
    run: () => Promise<A>,
    node?: string
  ) => Effect.Effect<A, CacheTier.TierError>
  /**
   * A call started by `start(arg, receiver)`; the reply goes through `map`
   * (which must not throw). `node` names the Redis node it goes to (a Cluster
   * master): each node has its own breaker.
   */
  readonly start: <Arg, R, A>(
    operation: Operation,
    start: Start<Arg, R>,
    arg: Arg,
    map: (reply: R) => A,
    node?: string
  ) => Effect.Effect<A, CacheTier.TierError>
}

const startPromise: Start<() => Promise<any>, any> = (run, receiver) => {
  run().then((reply) => receiver.succeed(reply), (cause) => receiver.fail(cause))
}

const identity = <A>(a: A): A => a

/**
 * Starts a call; a `start` that throws fails the call instead.
 * @internal
 */
export const begin = <Arg, R>(start: Start<Arg, R>, arg: Arg, receiver: Receiver<R>): void => {
  try {
    start(arg, receiver)
  } catch (cause) {
    receiver.fail(cause)
  }
}

/** @internal */
export const makeCalls = ({ activity, breaker: breakerOptions, name, operationTimeout }: CallOptions): Calls => {
  /** One breaker per Redis node a call names (a Cluster master), and one for calls that name none. */
  const breakers = new Map<string, CircuitBreaker.CircuitBreaker>()
  const breakerOf = (node: string | undefined): CircuitBreaker.CircuitBreaker | undefined => {
    if (breakerOptions === undefined) return undefined
    const id = node ?? ""
    let breaker = breakers.get(id)
    if (breaker === undefined) {
      const which = node === undefined ? "" : ` (node ${node})`
      breaker = CircuitBreaker.make(breakerOptions, {
        opened: (failures) =>
          Effect.logWarning(
            `layercake: Redis tier "${name}"${which} circuit opened after ${failures} failures; skipping it for ${breakerOptions.openForMillis} ms`
          ),
        closed: Effect.logInfo(`layercake: Redis tier "${name}"${which} circuit closed; Redis answers again`)
      })
      breakers.set(id, breaker)
    }
    return breaker
  }

  const tierError = (operation: Operation, reason: Reason, cause?: unknown) =>
    new CacheTier.TierError({ tier: name, operation, reason, cause })

  /**
   * What a call's outcome says about Redis: a reply (even an error reply such
   * as `NOPERM` or `OOM`) shows it answers; a timeout while the node was
   * sending other data shows it is busy with a big or queued reply, which says
   * nothing of the other keys; only silence and connection errors are failures.
   */
  const verdictOf = <A>(
    result: Either.Either<A, CacheTier.TierError>,
    node: string | undefined,
    startedAt: number
  ): "answered" | "failed" | "neither" => {
    if (Either.isRight(result) || result.left.reason === "Unknown") return "answered"
    if (result.left.reason !== "Timeout" || activity === undefined) return "failed"
    return activity.talkedSince(node, startedAt) ? "neither" : "failed"
  }

  /** Reports the end of a call to the breaker; the result, after the log of a transition if any. */
  const settle = <A>(
    breaker: CircuitBreaker.CircuitBreaker | undefined,
    clock: Clock.Clock,
    admission: CircuitBreaker.Admission,
    result: Either.Either<A, CacheTier.TierError>,
    node: string | undefined,
    startedAt: number
  ): Effect.Effect<A, CacheTier.TierError> => {
    if (breaker === undefined) return result
    const verdict = verdictOf(result, node, startedAt)
    const log = verdict === "answered"
      ? breaker.succeeded(admission)
      : verdict === "failed"
      ? breaker.failed(admission, clock.unsafeCurrentTimeMillis())
      : breaker.abandoned(admission)
    return log === undefined ? result : Effect.zipRight(log, result)
  }

  /** Shared by the calls of this tier: one interval instead of a timer per call. */
  const deadlines = new Deadlines(Math.max(5, Math.round(operationTimeout / 10)))

  /**
   * A call under the live clock: its receiver and its deadline in one object,
   * bounded by the shared deadline sweep. An `Effect.timeout` would race two
   * fibers, which costs more than a Redis round trip on a fast network.
   *
   * The `Effect.async` has no canceller: Effect wraps an async that has one in
   * an interrupt handler, which costs about 5 µs per call. A caller that stops
   * waiting is simply not resumed; the call itself still ends (reply, error or
   * deadline) and the breaker learns how Redis did.
   */
  class LiveCall<R, A> implements Receiver<R>, Expiring {
    done = false
    readonly at = deadlines.now() + operationTimeout
    readonly startedAt = performance.now()

    constructor(
      readonly breaker: CircuitBreaker.CircuitBreaker | undefined,
      /** Dropped once done: the deadline queue keeps a finished call until its sweep, not the fiber it resumed. */
      private resume: Resume<A> | undefined,
      readonly clock: Clock.Clock,
      readonly operation: Operation,
      readonly admission: CircuitBreaker.Admission,
      private map: ((reply: R) => A) | undefined,
      readonly node: string | undefined
    ) {}

    succeed(reply: R): void {
      if (!this.done) this.finish(Either.right(this.map!(reply)))
    }

    fail(cause: unknown): void {
      if (!this.done) this.finish(Either.left(tierError(this.operation, reasonOf(cause), cause)))
    }

    expire(): void {
      this.finish(Either.left(tierError(this.operation, "Timeout")))
    }

    private finish(result: Either.Either<A, CacheTier.TierError>): void {
      this.done = true
      const resume = this.resume!
      this.resume = undefined
      this.map = undefined
      resume(settle(this.breaker, this.clock, this.admission, result, this.node, this.startedAt))
    }
  }

  const liveCall = <Arg, R, A>(
    breaker: CircuitBreaker.CircuitBreaker | undefined,
    clock: Clock.Clock,
    operation: Operation,
    start: Start<Arg, R>,
    arg: Arg,
    map: (reply: R) => A,
    admission: CircuitBreaker.Admission,
    node: string | undefined
  ) =>
    Effect.async<A, CacheTier.TierError>((resume) => {
      const call = new LiveCall(breaker, resume, clock, operation, admission, map, node)
      deadlines.add(call)
      begin(start, arg, call)
    })

  /** With any other clock (a `TestClock`): the same bound through `Effect.timeout`, so that clock decides. */
  const clockCall = <Arg, R, A>(
    breaker: CircuitBreaker.CircuitBreaker | undefined,
    clock: Clock.Clock,
    operation: Operation,
    start: Start<Arg, R>,
    arg: Arg,
    map: (reply: R) => A,
    admission: CircuitBreaker.Admission,
    node: string | undefined
  ) => {
    const startedAt = performance.now()
    return Effect.async<A, CacheTier.TierError>((resume) => {
      let settled = false
      const once = (result: Effect.Effect<A, CacheTier.TierError>) => {
        if (settled) return
        settled = true
        resume(result)
      }
      begin(start, arg, {
        succeed: (reply) => once(Effect.succeed(map(reply))),
        fail: (cause) => once(Effect.fail(tierError(operation, reasonOf(cause), cause)))
      })
    }).pipe(
      Effect.timeoutFail({ duration: operationTimeout, onTimeout: () => tierError(operation, "Timeout") }),
      Effect.either,
      Effect.flatMap((result) => settle(breaker, clock, admission, result, node, startedAt)),
      Effect.onInterrupt(() => Effect.sync(() => breaker?.abandoned(admission)))
    )
  }

  const call = <Arg, R, A>(
    operation: Operation,
    start: Start<Arg, R>,
    arg: Arg,
    map: (reply: R) => A,
    node?: string
  ): Effect.Effect<A, CacheTier.TierError> =>
    Effect.clockWith((clock) => {
      const breaker = breakerOf(node)
      const admission = breaker === undefined ? "Run" : breaker.admit(clock.unsafeCurrentTimeMillis())
      if (admission === "Reject") return Effect.fail(tierError(operation, "CircuitOpen"))
      return clock.constructor === LiveClock
        ? liveCall(breaker, clock, operation, start, arg, map, admission, node)
        : clockCall(breaker, clock, operation, start, arg, map, admission, node)
    })

  return {
    start: call,
    promise: (operation, run, node) => call(operation, startPromise, run, identity, node)
  }
}
