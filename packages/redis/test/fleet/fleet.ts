/**
 * The driver of a multi-process fleet: starts `n` instances (`child.ts`, each
 * its own Node process with its own `Cache`), sends them typed requests, keeps
 * the source of truth (a Redis hash the instances' computes read), and checks
 * coherence: after the writes stop, does every instance answer what the truth
 * holds, and how long did it take?
 *
 * The workload behaves like a well-behaved application: it writes the truth,
 * then tells the cache (a `set`, an `invalidate`, a tag invalidation, ...), and
 * operations on one key (reads included) never overlap: a read that races a
 * write of its own key is the cache-aside race no cache can close, and would
 * make a failure here mean nothing. Operations on different keys run
 * concurrently, on random instances.
 */
import { Redis } from "ioredis"
import { type ChildProcess, fork } from "node:child_process"
import { EventEmitter } from "node:events"
import { dirname, join } from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import type { ChildConfig, ChildEvent, Op, Ops, RedisTarget, Request, Response, Value } from "./child.js"

export type { ChildConfig, RedisTarget, Value } from "./child.js"

const here = dirname(fileURLToPath(import.meta.url))
/** The repository root: tsx and the `@layercake/source` condition resolve from there. */
export const root = join(here, "..", "..", "..", "..")
const childModule = join(here, "child.ts")

const delay = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

// ---------------------------------------------------------------------------
// children and calls

export interface Child {
  readonly index: number
  readonly name: string
  readonly config: ChildConfig
  readonly process: ChildProcess
  readonly pid: number
  /** `computeStarted` events (`{ key, at }`) and `exit`. */
  readonly events: EventEmitter
  /** The last lines the child printed (stdout and stderr), for failure messages. */
  readonly output: Array<string>
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  readonly pending: Map<number, { readonly resolve: (value: any) => void; readonly reject: (error: Error) => void }>
  callTimeoutMillis: number
  alive: boolean
}

export interface FleetOptions {
  readonly n: number
  /** The cache's Redis. */
  readonly redis: RedisTarget
  /** The standalone Redis that holds the truth (default: `redis` when it is a URL). */
  readonly truthUrl?: string | undefined
  readonly bus?: boolean | undefined
  readonly lock?: boolean | undefined
  readonly busOptions?: ChildConfig["busOptions"]
  readonly lockOptions?: ChildConfig["lockOptions"]
  readonly tierOptions?: ChildConfig["tierOptions"]
  /** Default: a fresh random prefix, so that fleets never see each other's keys. */
  readonly keyPrefix?: string | undefined
  readonly namespace?: string | undefined
  /** Per instance (by index); default 0. */
  readonly clockOffsets?: ReadonlyArray<number> | undefined
  /** Bound of every call. Default 10 seconds. */
  readonly callTimeoutMillis?: number | undefined
  /** Bound of a child's start (tsx compiles on the fly). Default 60 seconds. */
  readonly startTimeoutMillis?: number | undefined
}

export interface Fleet {
  readonly options: FleetOptions
  readonly children: ReadonlyArray<Child>
  readonly keyPrefix: string
  readonly namespace: string
  /** The truth hash's key in the truth Redis. */
  readonly truthKey: string
  /** The driver's client of the truth Redis. */
  readonly truth: Redis
  /** The last version written for each key. */
  readonly versions: Map<string, number>
  readonly locks: KeyLocks
}

const lastLines = 200

const spawnChild = (index: number, config: ChildConfig, options: FleetOptions): Promise<Child> => {
  const child = fork(childModule, [], {
    cwd: root,
    execArgv: ["--import", "tsx", "--conditions=@layercake/source"],
    env: { ...process.env, FLEET_CHILD_CONFIG: JSON.stringify(config) },
    stdio: ["ignore", "pipe", "pipe", "ipc"]
  })
  const output: Array<string> = []
  const record = (data: Buffer) => {
    for (const line of String(data).split("\n")) {
      if (line.trim() === "") continue
      output.push(`[${config.name}] ${line}`)
      if (output.length > lastLines) output.shift()
    }
  }
  child.stdout!.on("data", record)
  child.stderr!.on("data", record)
  const events = new EventEmitter()
  const pending: Child["pending"] = new Map()
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }))
  })
  return new Promise<Child>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(
        new Error(
          `${config.name} did not start within ${options.startTimeoutMillis ?? 60_000} ms\n${output.join("\n")}`
        )
      )
    }, options.startTimeoutMillis ?? 60_000)
    const handle: Child = {
      index,
      name: config.name,
      config,
      process: child,
      pid: child.pid ?? -1,
      events,
      output,
      exited,
      pending,
      callTimeoutMillis: options.callTimeoutMillis ?? 10_000,
      alive: true
    }
    child.on("message", (message: Response | ChildEvent) => {
      if ("event" in message) {
        if (message.event === "ready") {
          clearTimeout(timer)
          resolve(handle)
        } else if (message.event === "fatal") {
          clearTimeout(timer)
          reject(new Error(`${config.name} failed to start: ${message.error}\n${output.join("\n")}`))
        } else {
          events.emit(message.event, message)
        }
        return
      }
      const waiter = pending.get(message.id)
      if (waiter === undefined) return
      pending.delete(message.id)
      if (message.ok) waiter.resolve(message.value)
      else waiter.reject(new Error(message.error))
    })
    void exited.then(({ code, signal }) => {
      handle.alive = false
      clearTimeout(timer)
      reject(new Error(`${config.name} exited (${code ?? signal}) before it was ready\n${output.join("\n")}`))
      for (const waiter of pending.values()) {
        waiter.reject(new Error(`${config.name} exited (${code ?? signal}) with the call pending`))
      }
      pending.clear()
      events.emit("exit", { code, signal })
    })
  })
}

let nextId = 0

/** Sends `op` to `child` and waits for its answer, at most `timeoutMillis` (default the fleet's call timeout). */
export const call = <O extends Op>(
  child: Child,
  op: O,
  args: Ops[O]["req"],
  timeoutMillis: number = child.callTimeoutMillis
): Promise<Ops[O]["res"]> => {
  if (!child.alive) return Promise.reject(new Error(`${child.name} is not running (${op})`))
  const id = ++nextId
  return new Promise<Ops[O]["res"]>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.pending.delete(id)
      reject(new Error(`${child.name}: ${op} did not answer within ${timeoutMillis} ms`))
    }, timeoutMillis)
    child.pending.set(id, {
      resolve: (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      reject: (error) => {
        clearTimeout(timer)
        reject(error)
      }
    })
    child.process.send({ ...args, id, op } as Request, (error) => {
      if (error !== null && child.pending.delete(id)) {
        clearTimeout(timer)
        reject(error)
      }
    })
  })
}

/** Starts `n` instances (in parallel) and waits until each has built its cache. */
export const startFleet = async (options: FleetOptions): Promise<Fleet> => {
  const keyPrefix = options.keyPrefix ?? `fleet-${Math.random().toString(36).slice(2, 10)}`
  const namespace = options.namespace ?? "fleet"
  const truthUrl = options.truthUrl ?? ("url" in options.redis ? options.redis.url : undefined)
  if (truthUrl === undefined) throw new Error("startFleet: a cluster fleet needs a standalone truthUrl")
  const configs = Array.from({ length: options.n }, (_, index): ChildConfig => ({
    name: `instance-${index}`,
    redis: options.redis,
    truthUrl,
    keyPrefix,
    namespace,
    bus: options.bus ?? true,
    lock: options.lock ?? false,
    busOptions: options.busOptions,
    lockOptions: options.lockOptions,
    clockOffsetMillis: options.clockOffsets?.[index] ?? 0,
    tierOptions: options.tierOptions
  }))
  const truth = new Redis(truthUrl, { lazyConnect: true })
  truth.on("error", () => {})
  await truth.connect()
  const started = await Promise.allSettled(configs.map((config, index) => spawnChild(index, config, options)))
  const children = started.flatMap((result) => result.status === "fulfilled" ? [result.value] : [])
  const failed = started.find((result) => result.status === "rejected")
  const fleet: Fleet = {
    options,
    children,
    keyPrefix,
    namespace,
    truthKey: `${keyPrefix}~truth:${namespace}`,
    truth,
    versions: new Map(),
    locks: new KeyLocks()
  }
  if (failed !== undefined) {
    await stopFleet(fleet)
    throw (failed as PromiseRejectedResult).reason
  }
  return fleet
}

/** Asks every instance to exit (SIGKILL after 5 s), deletes the truth and closes the driver's client. */
export const stopFleet = async (fleet: Fleet): Promise<void> => {
  await Promise.all(fleet.children.map(async (child) => {
    if (!child.alive) return
    const forced = setTimeout(() => child.process.kill("SIGKILL"), 5_000)
    call(child, "exit", {}, 5_000).catch(() => {})
    await child.exited
    clearTimeout(forced)
  }))
  await fleet.truth.del(fleet.truthKey).catch(() => {})
  fleet.truth.disconnect()
}

/** SIGKILLs an instance (a crash) and waits until it is gone. */
export const killChild = async (child: Child): Promise<void> => {
  child.process.kill("SIGKILL")
  await child.exited
}

/** The first `event` any of `children` sends, within `timeoutMillis`. */
export const nextEvent = <E extends Extract<ChildEvent, { readonly key: string }>["event"]>(
  children: ReadonlyArray<Child>,
  event: E,
  timeoutMillis = 30_000
): Promise<{ readonly child: Child; readonly event: Extract<ChildEvent, { readonly event: E }> }> =>
  new Promise((resolve, reject) => {
    const listeners = children.map((child) => {
      const listener = (message: Extract<ChildEvent, { readonly event: E }>) => {
        done()
        resolve({ child, event: message })
      }
      child.events.on(event, listener)
      return () => child.events.off(event, listener)
    })
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no ${event} within ${timeoutMillis} ms`))
    }, timeoutMillis)
    const done = () => {
      clearTimeout(timer)
      listeners.forEach((off) => off())
    }
  })

/** What every child printed lately, for a failure message. */
export const outputOf = (fleet: Fleet): string => fleet.children.flatMap((child) => child.output).join("\n")

// ---------------------------------------------------------------------------
// keys and the truth

/** `key-00` … : `count` keys in `groups` tag groups (`group:<index % groups>`). */
export const makeKeys = (count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, i) => `key-${String(i).padStart(2, "0")}`)

export const groupCount = 5

export const groupOf = (key: string): number => {
  const digits = /(\d+)$/.exec(key)
  return digits === null ? 0 : Number(digits[1]) % groupCount
}

export const tagsOf = (key: string): ReadonlyArray<string> => [`group:${groupOf(key)}`]

/** Writes a new version of `key` into the truth and returns it. */
export const writeTruth = async (fleet: Fleet, key: string, writer: string): Promise<Value> => {
  const version = (fleet.versions.get(key) ?? 0) + 1
  fleet.versions.set(key, version)
  const value: Value = {
    id: key,
    version,
    body: `${key}@${version}:${Math.random().toString(36).slice(2, 10)}`,
    meta: { group: groupOf(key), writer }
  }
  await fleet.truth.hset(fleet.truthKey, key, JSON.stringify(value))
  return value
}

/** Every key's truth, as the instances' computes read it. */
export const readTruth = async (fleet: Fleet): Promise<Map<string, Value>> => {
  const all = await fleet.truth.hgetall(fleet.truthKey)
  return new Map(Object.entries(all).map(([key, text]) => [key, JSON.parse(text) as Value]))
}

export const sameValue = (a: Value | null | undefined, b: Value | null | undefined): boolean =>
  a != null && b != null && a.id === b.id && a.version === b.version && a.body === b.body &&
  a.meta.group === b.meta.group && a.meta.writer === b.meta.writer

const describe = (value: Value | null | undefined) => value == null ? String(value) : `v${value.version}`

/** Writes version 1 of every key (no cache involved). */
export const seedTruth = async (fleet: Fleet, keys: ReadonlyArray<string>): Promise<void> => {
  for (const key of keys) await writeTruth(fleet, key, "seed")
}

// ---------------------------------------------------------------------------
// writes: the truth first, then the cache (as an application does)

/** The truth, then `set` on `child`. */
export const writeThenSet = async (fleet: Fleet, child: Child, key: string): Promise<Value> => {
  const value = await writeTruth(fleet, key, child.name)
  await call(child, "set", { key, value, tags: tagsOf(key) })
  return value
}

/** The truth of every key, then `invalidate(keys)` on `child`. */
export const writeThenInvalidate = async (fleet: Fleet, child: Child, keys: ReadonlyArray<string>) => {
  for (const key of keys) await writeTruth(fleet, key, child.name)
  await call(child, "invalidate", { keys })
}

/** The truth of every key of `group`, then `invalidateTags(["group:<group>"])` on `child`. */
export const writeThenInvalidateGroup = async (
  fleet: Fleet,
  child: Child,
  keys: ReadonlyArray<string>,
  group: number
) => {
  for (const key of keys.filter((key) => groupOf(key) === group)) await writeTruth(fleet, key, child.name)
  await call(child, "invalidateTags", { tags: [`group:${group}`] })
}

/** The truth of `changed`, then `clear` on `child`. */
export const writeThenClear = async (fleet: Fleet, child: Child, changed: ReadonlyArray<string>) => {
  for (const key of changed) await writeTruth(fleet, key, child.name)
  await call(child, "clear", {})
}

/** The keys `key-<digit>*`: what the glob `key-<digit>*` matches. */
export const keysOfPattern = (keys: ReadonlyArray<string>, digit: number) =>
  keys.filter((key) => key.startsWith(`key-${digit}`))

/** The truth of every key `key-<digit>*`, then `invalidatePattern("key-<digit>*")` on `child`. */
export const writeThenInvalidatePattern = async (
  fleet: Fleet,
  child: Child,
  keys: ReadonlyArray<string>,
  digit: number
) => {
  for (const key of keysOfPattern(keys, digit)) await writeTruth(fleet, key, child.name)
  await call(child, "invalidatePattern", { pattern: `key-${digit}*` })
}

// ---------------------------------------------------------------------------
// the workload

/** Per-key mutual exclusion; several keys are taken in sorted order (no deadlock). */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>()

  async withKeys<A>(keys: ReadonlyArray<string>, f: () => Promise<A>): Promise<A> {
    const releases: Array<() => void> = []
    try {
      for (const key of [...new Set(keys)].sort()) {
        const previous = this.tails.get(key) ?? Promise.resolve()
        let release!: () => void
        const mine = new Promise<void>((resolve) => {
          release = resolve
        })
        this.tails.set(key, previous.then(() => mine))
        releases.push(release)
        await previous
      }
      return await f()
    } finally {
      releases.forEach((release) => release())
    }
  }
}

/** A seeded PRNG (mulberry32), so that a failing run can be replayed. */
export const random = (seed: number) => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <A>(items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)]
  }
}

export type OpKind =
  | "getOrCompute"
  | "get"
  | "set"
  | "invalidate"
  | "invalidateTags"
  | "invalidatePattern"
  | "clear"

export const defaultMix: Readonly<Record<OpKind, number>> = {
  getOrCompute: 40,
  get: 10,
  set: 20,
  invalidate: 14,
  invalidateTags: 8,
  invalidatePattern: 4,
  clear: 2
}

export interface Hook {
  /** Runs once, before the first operation for which this holds. */
  readonly when: (progress: { readonly started: number; readonly elapsedMillis: number }) => boolean
  readonly run: () => Promise<unknown>
}

export interface WorkloadOptions {
  readonly keys: ReadonlyArray<string>
  /** Operations to run (more if a hook has not run yet: the workload ends once every hook ran). */
  readonly ops: number
  /** Operations in flight at once. Default 4. */
  readonly concurrency?: number | undefined
  readonly seed?: number | undefined
  readonly mix?: Partial<Record<OpKind, number>> | undefined
  /** Fault injection at points of the run (a worker runs it; the others go on). */
  readonly hooks?: ReadonlyArray<Hook> | undefined
}

export interface WorkloadResult {
  readonly seed: number
  readonly counts: Readonly<Record<OpKind, number>>
  /** Calls that failed (the cache's operations never fail by contract; a timeout is a failure too). */
  readonly errors: ReadonlyArray<string>
  readonly millis: number
}

/**
 * Random operations on random instances: reads (`getOrCompute`, `get`) and
 * writes of the truth each followed by its cache operation. `invalidatePattern`
 * is left out when the instances do not offer it.
 */
export const runWorkload = async (fleet: Fleet, options: WorkloadOptions): Promise<WorkloadResult> => {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
  const rng = random(seed)
  const { keys } = options
  const capabilities = await call(fleet.children[0], "capabilities", {})
  const mix = { ...defaultMix, ...options.mix }
  if (!capabilities.invalidatePattern) mix.invalidatePattern = 0
  const kinds = Object.keys(mix) as Array<OpKind>
  const total = kinds.reduce((sum, kind) => sum + mix[kind], 0)
  const pickKind = (): OpKind => {
    let roll = rng.next() * total
    for (const kind of kinds) {
      roll -= mix[kind]
      if (roll < 0) return kind
    }
    return "getOrCompute"
  }
  const counts = Object.fromEntries(kinds.map((kind) => [kind, 0])) as Record<OpKind, number>
  const errors: Array<string> = []
  const hooks = (options.hooks ?? []).map((hook) => ({ hook, ran: false }))
  const start = performance.now()
  let started = 0

  const one = async () => {
    const kind = pickKind()
    const child = rng.pick(fleet.children)
    const key = rng.pick(keys)
    counts[kind]++
    const run = (): Promise<unknown> => {
      switch (kind) {
        case "getOrCompute":
          return fleet.locks.withKeys([key], () => call(child, "getOrCompute", { key, tags: tagsOf(key) }))
        case "get":
          return fleet.locks.withKeys([key], () => call(child, "get", { key }))
        case "set":
          return fleet.locks.withKeys([key], () => writeThenSet(fleet, child, key))
        case "invalidate": {
          const some = Array.from({ length: 1 + rng.int(3) }, () => rng.pick(keys))
          const distinct = [...new Set(some)]
          return fleet.locks.withKeys(distinct, () => writeThenInvalidate(fleet, child, distinct))
        }
        case "invalidateTags": {
          const group = rng.int(groupCount)
          return fleet.locks.withKeys(
            keys.filter((key) => groupOf(key) === group),
            () => writeThenInvalidateGroup(fleet, child, keys, group)
          )
        }
        case "invalidatePattern": {
          const digit = rng.int(5)
          return fleet.locks.withKeys(
            keysOfPattern(keys, digit),
            () => writeThenInvalidatePattern(fleet, child, keys, digit)
          )
        }
        case "clear": {
          const changed = [...new Set(Array.from({ length: 5 }, () => rng.pick(keys)))]
          return fleet.locks.withKeys(keys, () => writeThenClear(fleet, child, changed))
        }
      }
    }
    try {
      await run()
    } catch (error) {
      errors.push(`${kind} ${key} on ${child.name}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  const worker = async () => {
    for (;;) {
      const pendingHook = hooks.find(({ hook, ran }) =>
        !ran && hook.when({ started, elapsedMillis: performance.now() - start })
      )
      if (pendingHook !== undefined) {
        pendingHook.ran = true
        await pendingHook.hook.run()
        continue
      }
      if (started >= options.ops && hooks.every(({ ran }) => ran)) return
      started++
      await one()
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker))
  return { seed, counts, errors, millis: performance.now() - start }
}

// ---------------------------------------------------------------------------
// coherence

export interface Mismatch {
  readonly instance: string
  readonly key: string
  readonly op: "get" | "getOrCompute"
  readonly got: string
  readonly truth: string
}

/** One pass: every instance's `get` (nothing, or the truth) and `getOrCompute` (the truth) of every key. */
export const checkCoherence = async (fleet: Fleet, keys: ReadonlyArray<string>): Promise<Array<Mismatch>> => {
  const truth = await readTruth(fleet)
  const results = await Promise.all(
    fleet.children.filter((child) => child.alive).flatMap((child) =>
      keys.map(async (key): Promise<Array<Mismatch>> => {
        const expected = truth.get(key)
        const found: Array<Mismatch> = []
        const got = await call(child, "get", { key })
        if (got !== null && !sameValue(got, expected)) {
          found.push({ instance: child.name, key, op: "get", got: describe(got), truth: describe(expected) })
        }
        const computed = await call(child, "getOrCompute", { key, tags: tagsOf(key) })
        if (!sameValue(computed, expected)) {
          found.push({
            instance: child.name,
            key,
            op: "getOrCompute",
            got: describe(computed),
            truth: describe(expected)
          })
        }
        return found
      })
    )
  )
  return results.flat()
}

export interface Quiescence {
  readonly coherent: boolean
  /** From the call to the first pass in which every instance agreed with the truth (or to the deadline). */
  readonly millis: number
  readonly passes: number
  /** The mismatches of the last pass (empty when coherent). */
  readonly mismatches: ReadonlyArray<Mismatch>
}

/**
 * Polls `checkCoherence` (every `intervalMillis` after a failed pass) until a
 * pass finds no mismatch, or `deadlineMillis` passed. Call it once the writes
 * have stopped.
 */
export const quiesce = async (
  fleet: Fleet,
  keys: ReadonlyArray<string>,
  options: { readonly deadlineMillis?: number | undefined; readonly intervalMillis?: number | undefined } = {}
): Promise<Quiescence> => {
  const start = performance.now()
  const deadline = start + (options.deadlineMillis ?? 10_000)
  let passes = 0
  for (;;) {
    const mismatches = await checkCoherence(fleet, keys)
    passes++
    const millis = performance.now() - start
    if (mismatches.length === 0) return { coherent: true, millis, passes, mismatches }
    if (performance.now() >= deadline) return { coherent: false, millis, passes, mismatches }
    await delay(options.intervalMillis ?? 50)
  }
}

export const formatMismatches = (mismatches: ReadonlyArray<Mismatch>, limit = 20): string =>
  mismatches.slice(0, limit).map((m) => `${m.instance} ${m.op}(${m.key}) = ${m.got}, truth ${m.truth}`).join("\n") +
  (mismatches.length > limit ? `\n… and ${mismatches.length - limit} more` : "")

// ---------------------------------------------------------------------------
// convergence timing

export interface Convergence {
  readonly samples: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly mean: number
  /** Samples in which some instance had not read the new value within the timeout. */
  readonly timedOut: number
}

/** Nearest-rank percentile of sorted `values`. */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]

const round = (millis: number) => Math.round(millis * 100) / 100

/** Polls `child`'s `getOrCompute(key)` until it gives `value`; the time it first did, or `undefined` at `until`. */
const readsValue = async (child: Child, key: string, value: Value, until: number): Promise<number | undefined> => {
  for (;;) {
    const got = await call(child, "getOrCompute", { key, tags: tagsOf(key) })
    const now = performance.now()
    if (sameValue(got, value)) return now
    if (now >= until) return undefined
    await delay(1)
  }
}

/**
 * `samples` writes, each on one instance (round robin) to a key every
 * instance holds in its L1: the truth, then `set`. Each sample is the time
 * from the acknowledged `set` until every other instance reads the new value.
 */
export const measureConvergence = async (
  fleet: Fleet,
  options: { readonly samples: number; readonly keys: ReadonlyArray<string>; readonly timeoutMillis?: number }
): Promise<Convergence> => {
  const latencies: Array<number> = []
  let timedOut = 0
  const timeout = options.timeoutMillis ?? 5_000
  for (let i = 0; i < options.samples; i++) {
    const key = options.keys[i % options.keys.length]
    const writer = fleet.children[i % fleet.children.length]
    const others = fleet.children.filter((child) => child !== writer)
    await fleet.locks.withKeys([key], async () => {
      await Promise.all(fleet.children.map((child) => call(child, "getOrCompute", { key, tags: tagsOf(key) })))
      const value = await writeTruth(fleet, key, writer.name)
      await call(writer, "set", { key, value, tags: tagsOf(key) })
      const acked = performance.now()
      const reads = await Promise.all(others.map((child) => readsValue(child, key, value, acked + timeout)))
      if (reads.some((at) => at === undefined)) timedOut++
      else latencies.push(Math.max(...(reads as Array<number>)) - acked)
    })
  }
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    samples: options.samples,
    p50: round(percentile(sorted, 0.5)),
    p99: round(percentile(sorted, 0.99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
    mean: round(sorted.reduce((sum, x) => sum + x, 0) / sorted.length),
    timedOut
  }
}

// ---------------------------------------------------------------------------
// faults

/**
 * `CLIENT KILL TYPE pubsub` on `url` every `everyMillis` until `stop`, which
 * resolves with how many connections were killed.
 */
export const pubsubKillLoop = (url: string, everyMillis = 50) => {
  const client = new Redis(url, { maxRetriesPerRequest: 1 })
  client.on("error", () => {})
  let running = true
  let kills = 0
  let rounds = 0
  const loop = (async () => {
    while (running) {
      try {
        kills += Number(await client.call("CLIENT", "KILL", "TYPE", "pubsub"))
      } catch {
        // the server may be restarting: the loop goes on
      }
      rounds++
      await delay(everyMillis)
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      client.disconnect()
      return { kills, rounds }
    }
  }
}
