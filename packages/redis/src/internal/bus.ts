/**
 * `RedisBus`: invalidation messages over Redis pub/sub, with a Redis Stream
 * per namespace as the log that makes gaps recoverable.
 *
 * Each publish runs one script that takes the namespace's next sequence
 * number (`INCR`), appends the message to the stream under the id `<seq>-0`
 * (`XADD … MAXLEN ~`) and publishes `<seq> <json>` on the namespace's channel
 * (`SPUBLISH` on Cluster, `PUBLISH` elsewhere). The three keys share a hash
 * tag, so they live in one slot.
 *
 * A receiver delivers messages in sequence order. A hole in the sequence, a
 * reconnect of the subscriber, or a health check that finds the counter ahead
 * of what was delivered is a gap: the receiver reads what it missed from the
 * stream (`XRANGE`), and when the stream no longer holds it (trimmed, or Redis
 * lost its data) it emits `Gap`, on which a `Cache` drops its local entries.
 *
 * @internal
 */
import type { InvalidationBus } from "@layercake/core"
import { Validate } from "@layercake/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { Cluster, Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import type * as Api from "../RedisBus.js"
import type { RedisConnection as Connection } from "../RedisConnection.js"
import { tag as RedisConnection } from "./connectionTag.js"
import { keyPrefixOf } from "./keyPrefix.js"
import * as Scripts from "./scripts.js"
import { type Script, script } from "./scripts.js"

type Message = InvalidationBus.Message
type Published = Exclude<Message, InvalidationBus.Gap>

const MODULE = "RedisBus"
const NAMESPACE = /^[A-Za-z0-9_.-]+$/

/** The default clock: bus bookkeeping must not follow a TestClock. */
const liveClock = Clock.make()

/**
 * KEYS: sequence counter, stream, channel, epoch. ARGV: MAXLEN, message JSON,
 * "1" for SPUBLISH, an epoch to start if there is none. A counter that fell
 * behind the stream (deleted on its own) is moved past it. The epoch names
 * the life of the counter: a Redis that lost its data starts a new one, so a
 * receiver tells a restarted sequence from the old one even once it has
 * caught up with the number it had seen.
 */
const publishScript: Script = script(`
local seq = redis.call('INCR', KEYS[1])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
if last then
  local lastSeq = tonumber(string.match(last[1], '^(%d+)'))
  if lastSeq and lastSeq >= seq then
    seq = lastSeq + 1
    redis.call('SET', KEYS[1], seq)
  end
end
local epoch = redis.call('GET', KEYS[4])
if not epoch then
  epoch = ARGV[4]
  redis.call('SET', KEYS[4], epoch)
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], seq .. '-0', 'm', ARGV[2], 'e', epoch)
redis.call(ARGV[3] == '1' and 'SPUBLISH' or 'PUBLISH', KEYS[3], seq .. ' ' .. epoch .. ' ' .. ARGV[2])
return seq
`)

interface Settings {
  readonly keyPrefix: string
  readonly streamMaxLen: number
  readonly healthCheckMillis: number
  readonly operationTimeout: number
  readonly publishAttempts: number
}

const settingsOf = (options: Api.Options): Settings => {
  const keyPrefix = keyPrefixOf(MODULE, options.keyPrefix)
  return {
    keyPrefix,
    streamMaxLen: options.streamMaxLen === undefined
      ? 10_000
      : Validate.integer(MODULE, "streamMaxLen", options.streamMaxLen, 1, 100_000_000),
    healthCheckMillis: Validate.optionalDuration(MODULE, "healthCheckInterval", options.healthCheckInterval, 1_000),
    operationTimeout: Validate.optionalDuration(MODULE, "operationTimeout", options.operationTimeout, 1_000),
    publishAttempts: options.publishAttempts === undefined
      ? 20
      : Validate.integer(MODULE, "publishAttempts", options.publishAttempts, 1, 1_000)
  }
}

/** The keys of a namespace's log; one hash tag, so one Cluster slot. */
const keysOf = (keyPrefix: string, namespace: string) => {
  const base = `{${keyPrefix}~bus:${namespace}}`
  return { seq: `${base}:seq`, stream: `${base}:stream`, channel: `${base}:channel`, epoch: `${base}:epoch` }
}

type Keys = ReturnType<typeof keysOf>

/** One namespace this process listens to. */
interface Channel {
  readonly namespace: string
  readonly keys: Keys
  /** The last sequence number delivered; `undefined` until the counter could be read. */
  lastSeq: number | undefined
  /** The epoch of the sequence `lastSeq` belongs to; `undefined` until one is seen. */
  epoch: string | undefined
  readonly queues: Set<Queue.Queue<Message>>
}

type Event =
  | { readonly _tag: "Received"; readonly channel: string; readonly payload: string }
  | { readonly _tag: "Check"; readonly reason: string }

const evalScript = (client: Redis | Cluster, keys: ReadonlyArray<string>, args: ReadonlyArray<string>) =>
  Scripts.run(client, publishScript, keys, args)

const parseSeq = (id: string): number => Number(id.slice(0, id.indexOf("-")))

const decode = (json: string): Published | undefined => {
  try {
    const message = JSON.parse(json) as Published
    return typeof message === "object" && message !== null && typeof message._tag === "string" ? message : undefined
  } catch {
    return undefined
  }
}

/** @internal */
export const make = (
  options: Api.Options = {}
): Effect.Effect<InvalidationBus.InvalidationBus, never, Connection | Scope.Scope> =>
  Effect.gen(function*() {
    const settings = yield* Effect.sync(() => settingsOf(options))
    const connection = yield* RedisConnection
    const subscriber = yield* connection.duplicate
    const fibers = yield* FiberSet.make<void, never>()
    const events = yield* Effect.acquireRelease(Queue.unbounded<Event>(), Queue.shutdown)
    const health = { connected: subscriber.status === "ready", gaps: 0, replayed: 0, dropped: 0, publishRetries: 0 }
    const channels = new Map<string, Channel>()
    const byChannelName = new Map<string, Channel>()
    const all = new Set<Queue.Queue<Message>>()
    const sharded = connection.isCluster
    const client = connection.client

    const timed = <A>(what: string, run: () => Promise<A>): Effect.Effect<A, Error> =>
      Effect.tryPromise({ try: run, catch: (cause) => cause instanceof Error ? cause : new Error(String(cause)) }).pipe(
        Effect.timeoutFail({
          duration: settings.operationTimeout,
          onTimeout: () => new Error(`${what} timed out after ${settings.operationTimeout} ms`)
        }),
        Effect.withClock(liveClock)
      )

    const deliver = (channel: Channel, message: Message) =>
      Effect.forEach([...channel.queues, ...all], (queue) => Queue.offer(queue, message), { discard: true })

    /** Reads what `channel` missed after `lastSeq` from the stream and delivers it, or a Gap when it is gone. */
    const replay = (channel: Channel, upTo: number): Effect.Effect<void> =>
      Effect.gen(function*() {
        const from = channel.lastSeq
        if (from === undefined || upTo <= from) return
        health.gaps++
        const entries = yield* timed(
          "XRANGE",
          () => client.xrange(channel.keys.stream, `(${from}-0`, "+")
        )
        const first = entries.length === 0 ? Infinity : parseSeq(entries[0][0])
        if (first !== from + 1) {
          health.dropped++
          yield* Effect.logWarning(
            `layercake: RedisBus missed messages of "${channel.namespace}" that its stream no longer holds; dropping local entries`
          ).pipe(Effect.annotateLogs({ from, upTo, firstKept: first }))
          yield* deliver(channel, { _tag: "Gap", namespace: channel.namespace })
        }
        for (const [id, fields] of entries) {
          const seq = parseSeq(id)
          const epoch = fields[3]
          if (epoch !== undefined && channel.epoch !== undefined && epoch !== channel.epoch) {
            return yield* reset(channel, parseSeq(entries[entries.length - 1][0]), epoch, "its epoch changed")
          }
          if (epoch !== undefined) channel.epoch = epoch
          const message = decode(fields[1] ?? "")
          channel.lastSeq = Math.max(channel.lastSeq ?? seq, seq)
          if (message !== undefined) {
            health.replayed++
            yield* deliver(channel, message)
          }
        }
        channel.lastSeq = Math.max(channel.lastSeq ?? upTo, upTo)
      }).pipe(
        Effect.catchAll((error) =>
          Effect.logWarning(`layercake: RedisBus could not replay "${channel.namespace}"; retrying at the next check`)
            .pipe(Effect.annotateLogs({ error: error.message }))
        )
      )

    /** The namespace's sequence restarted (Redis lost its data): what was missed is unknown, so local entries go. */
    const reset = (channel: Channel, seq: number, epoch: string | undefined, why: string): Effect.Effect<void> => {
      health.gaps++
      health.dropped++
      channel.lastSeq = seq
      channel.epoch = epoch
      return Effect.zipRight(
        Effect.logWarning(
          `layercake: RedisBus found the sequence of "${channel.namespace}" restarted (${why}; Redis lost its data); dropping local entries`
        ),
        deliver(channel, { _tag: "Gap", namespace: channel.namespace })
      )
    }

    /** Compares the namespace's counter with what was delivered: another epoch or behind is a reset, ahead is a gap. */
    const check = (channel: Channel): Effect.Effect<void> =>
      timed("MGET", () => client.mget(channel.keys.seq, channel.keys.epoch)).pipe(
        Effect.flatMap(([rawSeq, epoch]) => {
          const remote = rawSeq === null ? 0 : Number(rawSeq)
          if (channel.lastSeq === undefined) {
            channel.lastSeq = remote
            channel.epoch = epoch ?? undefined
            return Effect.void
          }
          if (channel.epoch !== undefined && epoch !== channel.epoch) {
            return reset(channel, remote, epoch ?? undefined, "its epoch changed")
          }
          if (remote < channel.lastSeq) return reset(channel, remote, epoch ?? undefined, "the counter went back")
          if (channel.epoch === undefined && epoch !== null) channel.epoch = epoch
          return replay(channel, remote)
        }),
        Effect.catchAll(() => Effect.void)
      )

    const handle = (event: Event): Effect.Effect<void> => {
      if (event._tag === "Check") return Effect.forEach(channels.values(), check, { discard: true })
      const channel = byChannelName.get(event.channel)
      if (channel === undefined) return Effect.void
      const first = event.payload.indexOf(" ")
      const second = event.payload.indexOf(" ", first + 1)
      const seq = Number(event.payload.slice(0, first))
      const epoch = event.payload.slice(first + 1, second)
      if (channel.lastSeq === undefined) return check(channel)
      if (channel.epoch !== undefined && epoch !== channel.epoch) return reset(channel, seq, epoch, "its epoch changed")
      channel.epoch = epoch
      if (seq <= channel.lastSeq) return Effect.void
      if (seq > channel.lastSeq + 1) return replay(channel, seq)
      channel.lastSeq = seq
      const message = decode(event.payload.slice(second + 1))
      return message === undefined ? Effect.void : deliver(channel, message)
    }

    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(events), handle)))
    yield* Effect.forkScoped(
      Effect.repeat(
        Queue.offer(events, { _tag: "Check", reason: "health" }),
        Schedule.spaced(Duration.millis(settings.healthCheckMillis))
      ).pipe(Effect.withClock(liveClock))
    )

    const offer = (event: Event) => {
      Queue.unsafeOffer(events, event)
    }
    const onMessage = (channel: string, payload: string) => offer({ _tag: "Received", channel, payload })
    const onDown = () => {
      health.connected = false
    }
    const onReady = () => {
      health.connected = true
      offer({ _tag: "Check", reason: "reconnected" })
    }
    subscriber.on(sharded ? "smessage" : "message", onMessage)
    subscriber.on("ready", onReady)
    subscriber.on("close", onDown)
    subscriber.on("-subscriber", onDown)
    subscriber.on("+subscriber", onReady)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        subscriber.off(sharded ? "smessage" : "message", onMessage)
        subscriber.off("ready", onReady)
        subscriber.off("close", onDown)
        subscriber.off("-subscriber", onDown)
        subscriber.off("+subscriber", onReady)
      })
    )

    const join = (namespace: string): Effect.Effect<Channel> =>
      Effect.suspend(() => {
        const existing = channels.get(namespace)
        if (existing !== undefined) return Effect.succeed(existing)
        const channel: Channel = {
          namespace,
          keys: keysOf(settings.keyPrefix, namespace),
          lastSeq: undefined,
          epoch: undefined,
          queues: new Set()
        }
        channels.set(namespace, channel)
        byChannelName.set(channel.keys.channel, channel)
        // The counter first, then the subscription: whatever is published in between is a hole, replayed.
        const subscribe = timed(
          "SUBSCRIBE",
          () =>
            sharded
              ? (subscriber as Cluster).ssubscribe(channel.keys.channel)
              : (subscriber as Redis).subscribe(channel.keys.channel)
        )
        const retried = Effect.retry(
          subscribe,
          Schedule.exponential("20 millis").pipe(Schedule.union(Schedule.spaced("1 second")))
        ).pipe(
          Effect.zipRight(Effect.sync(() => offer({ _tag: "Check", reason: "subscribed" }))),
          Effect.withClock(liveClock),
          Effect.ignore
        )
        return timed("MGET", () => client.mget(channel.keys.seq, channel.keys.epoch)).pipe(
          Effect.map(([raw, epoch]) => {
            channel.lastSeq = raw === null ? 0 : Number(raw)
            channel.epoch = epoch ?? undefined
          }),
          Effect.zipRight(subscribe),
          Effect.catchAll((error) =>
            Effect.zipRight(
              Effect.logDebug(`layercake: RedisBus subscription to "${namespace}" not made yet; retrying`).pipe(
                Effect.annotateLogs({ error: error.message })
              ),
              FiberSet.run(fibers, retried)
            )
          ),
          Effect.as(channel)
        )
      })

    const subscribeTo = (namespace: string) =>
      Effect.gen(function*() {
        if (!NAMESPACE.test(namespace)) Validate.raise(MODULE, "namespace", namespace, "letters, digits, _ . - only")
        const queue = yield* Effect.acquireRelease(Queue.unbounded<Message>(), Queue.shutdown)
        const channel = yield* join(namespace)
        channel.queues.add(queue)
        yield* Effect.addFinalizer(() => Effect.sync(() => channel.queues.delete(queue)))
        return queue as Queue.Dequeue<Message>
      })

    const send = (message: Published) => {
      const keys = keysOf(settings.keyPrefix, message.namespace)
      return timed(
        "publish",
        () =>
          evalScript(client, [keys.seq, keys.stream, keys.channel, keys.epoch], [
            String(settings.streamMaxLen),
            JSON.stringify(message),
            sharded ? "1" : "0",
            randomUUID()
          ])
      )
    }

    const retryInBackground = (message: Published, error: Error) =>
      Effect.zipRight(
        Effect.logWarning(
          `layercake: RedisBus could not publish an invalidation of "${message.namespace}"; retrying in the background`
        ).pipe(Effect.annotateLogs({ error: error.message, message: message._tag })),
        FiberSet.run(
          fibers,
          Effect.retry(
            Effect.tapError(send(message), () => Effect.sync(() => health.publishRetries++)),
            Schedule.exponential("50 millis").pipe(
              Schedule.union(Schedule.spaced("2 seconds")),
              Schedule.intersect(Schedule.recurs(settings.publishAttempts))
            )
          ).pipe(
            Effect.withClock(liveClock),
            Effect.catchAll((error) =>
              Effect.logError(
                `layercake: RedisBus gave up publishing an invalidation of "${message.namespace}"; other instances may keep old values until their entries expire`
              ).pipe(Effect.annotateLogs({ error: error.message, message: JSON.stringify(message) }))
            ),
            Effect.asVoid
          )
        )
      )

    const bus: InvalidationBus.InvalidationBus = {
      publish: (message) =>
        Effect.catchAll(Effect.asVoid(send(message)), (error) => Effect.asVoid(retryInBackground(message, error))),
      subscribe: Effect.acquireRelease(
        Effect.map(Queue.unbounded<Message>(), (queue) => {
          all.add(queue)
          return queue
        }),
        (queue) => Effect.zipRight(Effect.sync(() => all.delete(queue)), Queue.shutdown(queue))
      ),
      subscribeTo,
      health: Effect.sync(() => ({ ...health }))
    }
    return bus
  })
