/**
 * A small timing harness.
 *
 * - Every case gets its own compiled loop (`new Function`), so the call to the
 *   operation is a monomorphic call site that V8 may inline, for every case
 *   alike (a loop shared by all cases would make every call megamorphic).
 * - A case is calibrated first: the number of operations per sample is chosen
 *   so that one sample takes about `targetMs`. Warm-up samples follow.
 * - Samples are taken round-robin across the cases of a group, so a burst of
 *   noise from other processes on the machine hits every case a little rather
 *   than one case a lot. We report the median ns/op and the min..max range.
 * - Effect-based cases time N operations inside ONE Effect program
 *   (`Effect.runPromise` once per sample); promise-based cases time N awaited
 *   calls in one async loop; sync cases a plain loop. Nothing else (no data
 *   generation, no allocation of the test value) happens inside the loop.
 */
import * as Effect from "effect/Effect"

export interface Result {
  readonly group: string
  readonly name: string
  /** Median over the samples. */
  readonly nsPerOp: number
  readonly minNs: number
  readonly maxNs: number
  readonly opsPerSample: number
  readonly samples: number
}

export interface Case {
  readonly name: string
  /** Operations done per iteration of the loop (256 for a batch of concurrent requests). */
  readonly opsPerIteration: number
  /** Runs `iterations` iterations and returns the elapsed time in ns. */
  readonly run: (iterations: number) => Promise<number>
  /** Skip calibration and always run this many iterations (for cases with a fixed cost per run). */
  readonly fixedIterations?: number | undefined
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Defeats dead-code elimination: every loop writes its last result here. */
export const sink: { value: unknown } = { value: undefined }

type SyncLoop = (body: () => unknown, iterations: number, sink: { value: unknown }) => number
type AsyncLoop = (body: () => PromiseLike<unknown>, iterations: number, sink: { value: unknown }) => Promise<number>

const compileSyncLoop = (): SyncLoop =>
  new Function(
    "body",
    "iterations",
    "sink",
    `let last
    const start = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) last = body()
    const elapsed = Number(process.hrtime.bigint() - start)
    sink.value = last
    return elapsed`
  ) as SyncLoop

const compileAsyncLoop = (): AsyncLoop =>
  new Function(
    `return async function loop(body, iterations, sink) {
      let last
      const start = process.hrtime.bigint()
      for (let i = 0; i < iterations; i++) last = await body()
      const elapsed = Number(process.hrtime.bigint() - start)
      sink.value = last
      return elapsed
    }`
  )() as AsyncLoop

/** A synchronous operation, timed in a plain loop. */
export const syncCase = (name: string, body: () => unknown): Case => {
  const loop = compileSyncLoop()
  return { name, opsPerIteration: 1, run: (iterations) => Promise.resolve(loop(body, iterations, sink)) }
}

/** A promise-returning operation, each call awaited before the next one starts. */
export const asyncCase = (name: string, body: () => PromiseLike<unknown>): Case => {
  const loop = compileAsyncLoop()
  return { name, opsPerIteration: 1, run: (iterations) => loop(body, iterations, sink) }
}

/**
 * `inFlight` calls of a promise-returning operation started together and
 * awaited with `Promise.all`, batch after batch.
 */
export const promiseBatchCase = (name: string, inFlight: number, body: () => PromiseLike<unknown>): Case => {
  const promises = new Array<PromiseLike<unknown>>(inFlight)
  const batch = () => {
    for (let i = 0; i < inFlight; i++) promises[i] = body()
    return Promise.all(promises)
  }
  const loop = compileAsyncLoop()
  return { name, opsPerIteration: inFlight, run: (iterations) => loop(batch, iterations, sink) }
}

/**
 * `workers` async loops running side by side, each awaiting `iterations` calls
 * one after the other (like `workers` concurrent request handlers).
 */
export const promiseWorkersCase = (
  name: string,
  workers: number,
  body: (worker: number) => PromiseLike<unknown>
): Case => {
  const worker = async (w: number, iterations: number) => {
    let last: unknown
    for (let i = 0; i < iterations; i++) last = await body(w)
    return last
  }
  const loops = new Array<Promise<unknown>>(workers)
  return {
    name,
    opsPerIteration: workers,
    run: async (iterations) => {
      const start = process.hrtime.bigint()
      for (let w = 0; w < workers; w++) loops[w] = worker(w, iterations)
      sink.value = await Promise.all(loops)
      return Number(process.hrtime.bigint() - start)
    }
  }
}

/**
 * An Effect program running `iterations` iterations, built by `makeProgram`
 * (outside the timing) and run once per sample with `Effect.runPromise`.
 */
export const effectCase = <E>(
  name: string,
  makeProgram: (iterations: number) => Effect.Effect<unknown, E>,
  opsPerIteration = 1,
  fixedIterations?: number
): Case => {
  let built: { readonly iterations: number; readonly program: Effect.Effect<unknown, E> } | undefined
  return {
    name,
    opsPerIteration,
    fixedIterations,
    run: async (iterations) => {
      if (built?.iterations !== iterations) built = { iterations, program: makeProgram(iterations) }
      const program = built.program
      const start = process.hrtime.bigint()
      sink.value = await Effect.runPromise(program)
      return Number(process.hrtime.bigint() - start)
    }
  }
}

/**
 * `n` sequential runs of `effect` in one program, chained with `flatMap` and
 * `suspend` (no generator). Note: in Effect 3.22 this costs more per step than
 * `genLoop`, whose generator runs as one `OP_ITERATOR` instruction.
 */
export const repeat = <E>(effect: Effect.Effect<unknown, E>, n: number): Effect.Effect<void, E> =>
  Effect.suspend(() => {
    let i = 0
    const next: Effect.Effect<void, E> = Effect.suspend(() => (i++ < n
      ? Effect.flatMap(effect, () => next)
      : Effect.void)
    )
    return next
  })

/** `n` sequential runs of `effect` in one program, as an `Effect.gen` for-loop (how most user code reads). */
export const genLoop = <E>(effect: Effect.Effect<unknown, E>, n: number): Effect.Effect<void, E> =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

export interface MeasureOptions {
  readonly samples?: number
  readonly warmups?: number
  /** Wall time aimed at per sample. */
  readonly targetMs?: number
  readonly onProgress?: (message: string) => void
}

/** Calibrates, warms up and samples every case of a group, round-robin. */
export const measure = async (
  group: string,
  cases: ReadonlyArray<Case>,
  { onProgress, samples = 9, targetMs = 60, warmups = 2 }: MeasureOptions = {}
): Promise<ReadonlyArray<Result>> => {
  const iterations: Array<number> = []
  for (const c of cases) {
    if (c.fixedIterations !== undefined) {
      for (let i = 0; i < warmups + 1; i++) await c.run(c.fixedIterations)
      iterations.push(c.fixedIterations)
      onProgress?.(`  fixed ${c.name}: ${c.fixedIterations * c.opsPerIteration} ops/sample`)
      continue
    }
    let n = 16
    let elapsed = await c.run(n)
    while (elapsed < 10e6) {
      n *= 4
      elapsed = await c.run(n)
    }
    n = Math.max(1, Math.round(n * (targetMs * 1e6) / elapsed))
    for (let i = 0; i < warmups; i++) await c.run(n)
    iterations.push(n)
    onProgress?.(`  calibrated ${c.name}: ${n * c.opsPerIteration} ops/sample`)
  }
  const times: Array<Array<number>> = cases.map(() => [])
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]
      times[i].push((await c.run(iterations[i])) / (iterations[i] * c.opsPerIteration))
    }
  }
  return cases.map((c, i) => ({
    group,
    name: c.name,
    nsPerOp: median(times[i]),
    minNs: Math.min(...times[i]),
    maxNs: Math.max(...times[i]),
    opsPerSample: iterations[i] * c.opsPerIteration,
    samples
  }))
}

const formatNs = (ns: number) => (ns >= 100 ? ns.toFixed(0) : ns.toFixed(1))

const ratio = (value: number, base: number) => {
  const r = value / base
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`
}

/**
 * A markdown table of a group. Each baseline adds a "vs <baseline>" column:
 * the case's median divided by the baseline's median (above 1 = slower).
 */
export const timeTable = (results: ReadonlyArray<Result>, baselines: ReadonlyArray<string>) => {
  const bases = baselines.map((name) => {
    const found = results.find((result) => result.name === name)
    if (found === undefined) throw new Error(`baseline "${name}" is not among the results`)
    return found.nsPerOp
  })
  const header = `| case | ns/op (median) | min..max | ${baselines.map((name) => `vs ${name}`).join(" | ")} |`
  const align = `|---|---:|---:|${baselines.map(() => "---:").join("|")}|`
  const rows = results.map((result) =>
    `| ${result.name} | ${formatNs(result.nsPerOp)} | ${formatNs(result.minNs)}..${formatNs(result.maxNs)} | ${
      bases.map((base) => ratio(result.nsPerOp, base)).join(" | ")
    } |`
  )
  return [header, align, ...rows].join("\n")
}
