/**
 * Profiles the stampede row alone: 1000 `runPromise` callers of one cold key
 * (memory tier, a 50 ms compute), 30 stampedes under node:inspector; prints
 * the launch and the resolution phase and the top self-time functions.
 */
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Session } from "node:inspector/promises"
import { profile, ProfileSchema } from "./profile.js"

const runtime = ManagedRuntime.make(
  Cache.layer({ namespace: "user", defaultTtl: 60_000 }).pipe(
    Layer.provide(CacheTier.stack(MemoryTier.layer({ maxEntries: 10_000 })))
  )
)
const value = profile(7)
let computeEnded = 0
const compute = () =>
  Effect.suspend(() => Effect.as(Effect.sleep(50), value)).pipe(Effect.tap(() => (computeEnded = performance.now())))

const stampede = async (key: string) => {
  const start = performance.now()
  const promises = new Array(1000)
  for (let i = 0; i < 1000; i++) promises[i] = runtime.runPromise(Cache.getOrCompute(key, ProfileSchema, compute()))
  const launched = performance.now()
  await Promise.all(promises)
  const end = performance.now()
  return { total: end - start, launch: launched - start, resolution: end - computeEnded }
}

const main = async () => {
  for (let i = 0; i < 5; i++) await stampede(`warm-${i}`)
  const med = (results: ReadonlyArray<{ total: number; launch: number; resolution: number }>) => {
    const m = (f: (r: typeof results[number]) => number) => results.map(f).sort((a, b) => a - b)[15].toFixed(2)
    return `total ${m((r) => r.total)} ms, launch ${m((r) => r.launch)} ms, after the compute ${
      m((r) => r.resolution)
    } ms`
  }
  const plain = []
  for (let i = 0; i < 30; i++) plain.push(await stampede(`plain-${i}`))
  process.stdout.write(`without the profiler: ${med(plain)}\n`)
  const session = new Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.start")
  const results = []
  for (let i = 0; i < 30; i++) results.push(await stampede(`cold-${i}`))
  const { profile: cpu } = await session.post("Profiler.stop")
  process.stdout.write(`with the profiler: ${med(results)}\n`)
  const byId = new Map(cpu.nodes.map((node) => [node.id, node]))
  const self = new Map<string, number>()
  let busy = 0
  cpu.samples!.forEach((id, i) => {
    const node = byId.get(id)!
    const name = `${node.callFrame.functionName || "(anon)"} ${
      node.callFrame.url.split("/").slice(-2).join("/")
    }:${node.callFrame.lineNumber}`
    const dt = cpu.timeDeltas![i] ?? 0
    self.set(name, (self.get(name) ?? 0) + dt)
    if (name.startsWith("(idle)") === false) busy += dt
  })
  for (
    const [name, time] of [...self].filter(([n]) => !n.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, 30)
  ) {
    process.stdout.write(`${((time / busy) * 100).toFixed(1)}% ${name}\n`)
  }
  await runtime.dispose()
}
main()
