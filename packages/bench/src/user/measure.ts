/**
 * What a child process times and how: the contract between a contender and
 * the child that runs it, and the loops every contender shares (so that no
 * contender gets a loop of its own making).
 */
import { performance, PerformanceObserver } from "node:perf_hooks"

/** One timed sample: the row's value (µs per op, or ms for a stampede) and numbers to show beside it. */
export interface Sample {
  readonly value: number
  /** Share of the sample's wall time spent in GC (0..1), from `gc` performance entries. */
  readonly gcShare: number
  /** This process's CPU time (user + system) during the sample, in the unit of `value`. */
  readonly cpu: number
  readonly extras?: Readonly<Record<string, number>> | undefined
}

/** A contender of one row, living in its own child process. */
export interface Contender {
  /** Warm-up (and, for in-memory rows, the choice of operations per sample); before any `sample`. */
  readonly warmUp: () => Promise<void>
  readonly sample: (index: number) => Promise<Sample>
  readonly close: () => Promise<void>
}

/** What a child tells its contender: where Redis is, a key prefix of its own, the wall time aimed at per sample. */
export interface Env {
  readonly redisUrl: string
  readonly prefix: string
  readonly targetMs: number
}

const gcEntries: Array<{ readonly start: number; readonly end: number }> = []
let observer: PerformanceObserver | undefined

const recordGc = (entries: ReadonlyArray<{ readonly startTime: number; readonly duration: number }>) => {
  for (const entry of entries) gcEntries.push({ start: entry.startTime, end: entry.startTime + entry.duration })
}

const observeGc = () => {
  if (observer !== undefined) return
  observer = new PerformanceObserver((list) => recordGc(list.getEntries()))
  observer.observe({ entryTypes: ["gc"] })
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** GC time that overlapped `[start, end]` (performance.now() times), then forgets older entries. */
const gcBetween = async (start: number, end: number) => {
  // gc entries are delivered after the collection, from the event loop
  await tick()
  await tick()
  recordGc(observer?.takeRecords() ?? [])
  let total = 0
  for (const entry of gcEntries) total += Math.max(0, Math.min(end, entry.end) - Math.max(start, entry.start))
  gcEntries.length = 0
  return total
}

/**
 * Runs `body` once and gives its wall time in ms, the process's CPU time in
 * ms (what the client itself spent, apart from waiting on Redis) and the
 * share of the wall time spent in GC.
 */
export const timed = async <A>(body: () => Promise<A>) => {
  observeGc()
  const cpuStart = process.cpuUsage()
  const start = performance.now()
  const result = await body()
  const end = performance.now()
  const cpuUsed = process.cpuUsage(cpuStart)
  const ms = end - start
  return { ms, cpuMs: (cpuUsed.user + cpuUsed.system) / 1000, gcShare: (await gcBetween(start, end)) / ms, result }
}

/** Defeats dead-code elimination: every loop keeps its last result here. */
export const sink: { value: unknown } = { value: undefined }

/** `n` calls, each awaited before the next one starts (a handler serving one request after another). */
export const awaitEach = async (n: number, call: (i: number) => PromiseLike<unknown>) => {
  let last: unknown
  for (let i = 0; i < n; i++) last = await call(i)
  sink.value = last
  return last
}

/**
 * `n` calls with `inFlight` of them outstanding at any time, each its own
 * promise: a finished call starts the next one at once (a server with
 * `inFlight` requests open). Resolves with the last call's value.
 */
export const keepInFlight = (n: number, inFlight: number, call: (i: number) => PromiseLike<unknown>) =>
  new Promise<unknown>((resolve, reject) => {
    let launched = 0
    let done = 0
    let last: unknown
    const onDone = (value: unknown) => {
      done++
      last = value
      if (launched < n) launch()
      else if (done === n) {
        sink.value = last
        resolve(last)
      }
    }
    const launch = () => {
      const i = launched++
      call(i).then(onDone, reject)
    }
    for (let k = 0; k < Math.min(inFlight, n); k++) launch()
  })

/**
 * A contender of an in-memory row: `batch(n)` runs `n` operations and gives
 * the last result, which `check` inspects after every run. The warm-up grows
 * `n` until a run takes a while, then sets it (several times, as the JIT
 * warms) so a sample takes about `targetMs`. Each sample reports µs per operation. `prepare` runs before
 * every run, untimed (to put back an entry a long run may have seen expire).
 */
export const calibrated = (options: {
  readonly targetMs: number
  readonly batch: (n: number) => Promise<unknown>
  readonly check: (last: unknown) => void | Promise<void>
  readonly prepare?: (() => Promise<unknown>) | undefined
  readonly close?: (() => Promise<void>) | undefined
}): Contender => {
  const { batch, check, targetMs } = options
  let n = 256
  const run = async () => {
    await options.prepare?.()
    const { cpuMs, gcShare, ms, result } = await timed(() => batch(n))
    await check(result)
    return { ms, cpuMs, gcShare }
  }
  return {
    warmUp: async () => {
      let { ms } = await run()
      while (ms < targetMs / 5) {
        n *= 4
        ;({ ms } = await run())
      }
      // the first runs are the slowest (cold JIT): refine n a few times as the code warms
      for (let pass = 0; pass < 4; pass++) {
        n = Math.max(1, Math.round((n * targetMs) / ms))
        ;({ ms } = await run())
      }
      n = Math.max(1, Math.round((n * targetMs) / ms))
    },
    sample: async () => {
      const { cpuMs, gcShare, ms } = await run()
      return { value: (ms * 1000) / n, cpu: (cpuMs * 1000) / n, gcShare, extras: { ops: n } }
    },
    close: options.close ?? (() => Promise.resolve())
  }
}
