/**
 * The Redis `DistributedLock`: one key per held lease, `SET NX PX` to take
 * it, owner-checked Lua scripts to extend and release it.
 *
 * @internal
 */
import { DistributedLock, Validate } from "@layercake/core"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { randomUUID } from "node:crypto"
import type { RedisConnection as Connection } from "../RedisConnection.js"
import type * as Api from "../RedisLock.js"
import { tag as RedisConnection } from "./connectionTag.js"
import { keyPrefixOf, keyStart } from "./keyPrefix.js"
import * as Scripts from "./scripts.js"
import { type Script, script } from "./scripts.js"

/** @internal */
export const DistributedLockTag = DistributedLock.DistributedLock

const MODULE = "RedisLock"

interface Settings {
  /** Normalized: empty or ending with `:`. */
  readonly keyPrefix: string
  readonly leaseMillis: number
  readonly waitTimeoutMillis: number
  readonly operationTimeout: number
}

/** Throws an `InvalidOptionError` naming the first invalid option. */
const settingsOf = (options: Api.Options): Settings => {
  const keyPrefix = keyPrefixOf(MODULE, options.keyPrefix)
  // PX takes whole milliseconds
  const leaseMillis = Math.ceil(Validate.optionalDuration(MODULE, "lease", options.lease, 10_000))
  return {
    keyPrefix: keyStart(keyPrefix),
    leaseMillis,
    waitTimeoutMillis: Validate.optionalDuration(MODULE, "waitTimeout", options.waitTimeout, 2 * leaseMillis),
    operationTimeout: Validate.optionalDuration(MODULE, "operationTimeout", options.operationTimeout, 250)
  }
}

/** Resets the lease to ARGV[2] ms when KEYS[1] still holds the owner's token ARGV[1]. Reply: 1, or 0 when lost. */
const extendScript = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

/** Deletes KEYS[1] when it still holds the owner's token ARGV[1]. Reply: 1, or 0 when lost. */
const releaseScript = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

/** What the lock uses of a client; `Redis` and `Cluster` both have it (a Cluster routes it by its key). */
interface Caller extends Scripts.Caller {
  call(command: string, args: Array<string | number>): Promise<unknown>
}

/** EVALSHA (EVAL on NOSCRIPT) of a script over one key. */
const runScript = (client: Caller, script: Script, key: string, args: ReadonlyArray<string>) =>
  Scripts.run(client, script, [key], args)

const ILL_FORMED_KEY = "the key is not well-formed Unicode (a lone surrogate): in Redis it would share a lock"

const ignore = () => {}

/** @internal */
export const make = (options: Api.Options = {}): Effect.Effect<DistributedLock.DistributedLock, never, Connection> =>
  Effect.gen(function*() {
    // an invalid option throws an InvalidOptionError naming it: a defect of the build
    const settings = yield* Effect.sync(() => settingsOf(options))
    const connection = yield* RedisConnection
    return makeLock(settings, connection.client)
  })

const makeLock = (settings: Settings, client: Caller): DistributedLock.DistributedLock => {
  const { keyPrefix, leaseMillis, operationTimeout, waitTimeoutMillis } = settings
  const lockPrefix = `${keyPrefix}~lock:`
  const lease = String(leaseMillis)

  /**
   * One Redis call, bounded by `operationTimeout` on the Effect `Clock`. The
   * reply, the deadline and an interruption of the caller race for one flag:
   * a reply that comes after the call was given up goes to `late` instead.
   */
  const call = <A>(
    operation: DistributedLock.DistributedLockError["operation"],
    key: string,
    run: () => Promise<A>,
    late: (reply: A) => void = ignore
  ): Effect.Effect<A, DistributedLock.DistributedLockError> =>
    Effect.suspend(() => {
      let decided = false
      const reply = Effect.async<A, DistributedLock.DistributedLockError>((resume) => {
        const fail = (cause: unknown) => {
          if (decided) return
          decided = true
          resume(Effect.fail(new DistributedLock.DistributedLockError({ operation, key, cause })))
        }
        const succeed = (value: A) => {
          if (decided) return late(value)
          decided = true
          resume(Effect.succeed(value))
        }
        try {
          run().then(succeed, fail)
        } catch (cause) {
          fail(cause)
        }
        return Effect.sync(() => {
          decided = true
        })
      })
      const deadline = Effect.flatMap(Effect.sleep(operationTimeout), () => {
        // the reply came first and is on its way
        if (decided) return Effect.never
        decided = true
        return Effect.fail(
          new DistributedLock.DistributedLockError({
            operation,
            key,
            cause: `no reply from Redis within ${operationTimeout} ms`
          })
        )
      })
      // interruptible even when called from an uninterruptible region (a Cache releases its lease in a
      // finalizer): the race must be able to interrupt its loser, or it waits for it forever
      return Effect.interruptible(Effect.raceFirst(reply, deadline))
    })

  const illFormed = (operation: DistributedLock.DistributedLockError["operation"], key: string) =>
    Effect.fail(new DistributedLock.DistributedLockError({ operation, key, cause: ILL_FORMED_KEY }))

  const release = (lockKey: string, token: string) => runScript(client, releaseScript, lockKey, [token])

  return {
    [DistributedLock.TypeId]: DistributedLock.TypeId,
    leaseMillis,
    waitTimeoutMillis,
    tryAcquire: (key) =>
      Effect.suspend(() => {
        if (!Validate.isWellFormed(key)) return illFormed("acquire", key)
        const lockKey = lockPrefix + key
        // a token per run, not per effect value: a retried effect is a new owner
        const token = randomUUID()
        return Effect.map(
          call(
            "acquire",
            key,
            () => client.call("set", [lockKey, token, "PX", lease, "NX"]),
            // taken after we stopped waiting: nobody will use it, so others need not wait a lease for it
            (reply) => {
              if (reply === "OK") release(lockKey, token).catch(ignore)
            }
          ),
          (reply) => reply === "OK" ? Option.some({ key, token }) : Option.none()
        )
      }),
    extend: ({ key, token }) =>
      Validate.isWellFormed(key)
        ? Effect.map(
          call("extend", key, () => runScript(client, extendScript, lockPrefix + key, [token, lease])),
          (reply) => reply === 1
        )
        : illFormed("extend", key),
    release: ({ key, token }) =>
      Validate.isWellFormed(key)
        ? Effect.asVoid(call("release", key, () => release(lockPrefix + key, token)))
        : illFormed("release", key)
  }
}
