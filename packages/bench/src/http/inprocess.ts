/**
 * `tsx --conditions=@layercake/source src/http/inprocess.ts`: the middleware's
 * own cost on a hit, without a server: one request through the app alone and
 * through `HttpCache.middleware()` (an L1 hit), µs per request; with
 * `PROFILE=1`, the top self-time functions of 100 000 hits (node:inspector).
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { HttpCache } from "@layercake/platform"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { Session } from "node:inspector/promises"

const body = JSON.stringify({ id: 1, items: Array.from({ length: 20 }, (_, i) => ({ i, name: `item ${i}` })) })
const app = Effect.succeed(
  HttpServerResponse.text(body, {
    contentType: "application/json",
    headers: { "cache-control": "public, max-age=600", etag: "\"v1\"" }
  })
)
const cached = HttpCache.middleware()(app)
const runtime = ManagedRuntime.make(
  Cache.layer({ namespace: "h" }).pipe(Layer.provide(CacheTier.stack(MemoryTier.layer())))
)
const request = HttpServerRequest.fromWeb(
  new Request("http://localhost/users/1", {
    headers: { host: "localhost:3000", accept: "application/json", "user-agent": "bench" }
  })
)
const one = Effect.provideService(cached, HttpServerRequest.HttpServerRequest, request)
const plain = Effect.provideService(app, HttpServerRequest.HttpServerRequest, request)
const loop = (effect: Effect.Effect<any, any, any>, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })
const main = async () => {
  await runtime.runPromise(one)
  for (const [name, eff] of [["plain", plain], ["cached", one]] as const) {
    await runtime.runPromise(loop(eff, 20000))
    const t = performance.now()
    await runtime.runPromise(loop(eff, 50000))
    console.log(name, ((performance.now() - t) / 50000 * 1000).toFixed(2), "µs per request")
  }
  if (process.env.PROFILE) {
    const session = new Session()
    session.connect()
    await session.post("Profiler.enable")
    await session.post("Profiler.start")
    await runtime.runPromise(loop(one, 100000))
    const { profile: cpu } = await session.post("Profiler.stop")
    const byId = new Map(cpu.nodes.map((n) => [n.id, n]))
    const self = new Map<string, number>()
    let total = 0
    cpu.samples!.forEach((id, i) => {
      const n = byId.get(id)!
      const k = `${n.callFrame.functionName || "(anon)"} ${
        n.callFrame.url.split("/").slice(-2).join("/")
      }:${n.callFrame.lineNumber}`
      const dt = cpu.timeDeltas![i] ?? 0
      self.set(k, (self.get(k) ?? 0) + dt)
      total += dt
    })
    for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
      console.log(((t / total) * 100).toFixed(1) + "%", k)
    }
  }
  await runtime.dispose()
}
main()
