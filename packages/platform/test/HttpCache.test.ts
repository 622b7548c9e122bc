import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { Cache } from "@layercake/core"
import { LocalTier } from "@layercake/core/testing"
import { Effect, Layer, Ref, TestClock } from "effect"
import * as HttpCache from "../src/HttpCache.js"

const CacheLive = Cache.layer({ namespace: "http" }).pipe(Layer.provide(LocalTier.make({ name: "l1" }).layer))

const run = (app: any, url: string, init?: RequestInit) =>
  Effect.provideService(
    app,
    HttpServerRequest.HttpServerRequest,
    HttpServerRequest.fromWeb(new Request(url, init))
  ) as Effect.Effect<HttpServerResponse.HttpServerResponse, never, Cache.Cache>

describe("HttpCache", () => {
  it.effect("stores a max-age response, serves a hit, expires it", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const app = HttpCache.middleware(Effect.zipRight(
        Ref.update(calls, (n) => n + 1),
        HttpServerResponse.text("hi", { headers: { "cache-control": "max-age=60", etag: "\"a\"" } })
      ))
      const first = yield* run(app, "http://x/a")
      assert.strictEqual(first.headers["cache-status"], "layercake; fwd=uri-miss; stored")
      const second = yield* run(app, "http://x/a")
      assert.strictEqual(second.headers["cache-status"], "layercake; hit")
      const notModified = yield* run(app, "http://x/a", { headers: { "if-none-match": "W/\"a\"" } })
      assert.strictEqual(notModified.status, 304)
      assert.strictEqual(yield* Ref.get(calls), 1)
      yield* TestClock.adjust("61 seconds")
      yield* run(app, "http://x/a")
      assert.strictEqual(yield* Ref.get(calls), 2)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("never stores no-store; POST invalidates", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const app = HttpCache.middleware(Effect.zipRight(
        Ref.update(calls, (n) => n + 1),
        HttpServerResponse.text("hi", { headers: { "cache-control": "no-store" } })
      ))
      yield* run(app, "http://x/b")
      yield* run(app, "http://x/b")
      assert.strictEqual(yield* Ref.get(calls), 2)
      const cached = HttpCache.middleware(Effect.zipRight(
        Ref.update(calls, (n) => n + 1),
        HttpServerResponse.text("hi", { headers: { "cache-control": "max-age=60" } })
      ))
      yield* run(cached, "http://x/c")
      yield* run(cached, "http://x/c", { method: "POST" })
      yield* run(cached, "http://x/c")
      assert.strictEqual(yield* Ref.get(calls), 5)
    }).pipe(Effect.provide(CacheLive)))
})
