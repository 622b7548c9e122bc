/**
 * A small timing harness: each case runs `ops` operations per sample inside one
 * program (an Effect program for Effect-based caches, a plain loop otherwise),
 * after a warm-up; we report the median ns/op over the samples.
 */
import * as Effect from "effect/Effect"

export interface Result {
  readonly name: string
  readonly nsPerOp: number
}

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

export const timeSync = (name: string, ops: number, body: (i: number) => unknown, samples = 7): Result => {
  let sink: unknown
  const sample = () => {
    const start = process.hrtime.bigint()
    for (let i = 0; i < ops; i++) sink = body(i)
    return Number(process.hrtime.bigint() - start) / ops
  }
  for (let i = 0; i < 3; i++) sample()
  const times = Array.from({ length: samples }, sample)
  if (sink === Symbol.for("never")) console.log(sink)
  return { name, nsPerOp: median(times) }
}

export const timeEffect = async <E>(
  name: string,
  ops: number,
  makeLoop: (ops: number) => Effect.Effect<void, E>,
  samples = 7
): Promise<Result> => {
  const loop = makeLoop(ops)
  const sample = async () => {
    const start = process.hrtime.bigint()
    await Effect.runPromise(loop)
    return Number(process.hrtime.bigint() - start) / ops
  }
  for (let i = 0; i < 3; i++) await sample()
  const times: Array<number> = []
  for (let i = 0; i < samples; i++) times.push(await sample())
  return { name, nsPerOp: median(times) }
}

/** `n` sequential runs of `effect` in one program, without generator overhead per op. */
export const repeat = <E>(effect: Effect.Effect<unknown, E>, n: number): Effect.Effect<void, E> =>
  Effect.suspend(() => {
    let i = 0
    const next: Effect.Effect<void, E> = Effect.suspend(() => (i++ < n
      ? Effect.flatMap(effect, () => next)
      : Effect.void)
    )
    return next
  })

export const table = (results: ReadonlyArray<Result>, baseline: string) => {
  const base = results.find((result) => result.name === baseline)!.nsPerOp
  const rows = results.map((result) =>
    `| ${result.name} | ${result.nsPerOp.toFixed(1)} | ${(result.nsPerOp / base).toFixed(2)}× |`
  )
  return [`| case | ns/op | vs ${baseline} |`, "|---|---:|---:|", ...rows].join("\n")
}
