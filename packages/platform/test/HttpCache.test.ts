import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { Cache, CacheTier, InvalidationBus } from "@layercake/core"
import { LocalTier, SharedTier } from "@layercake/core/testing"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as HttpCache from "../src/HttpCache.js"

/** A cache of its own for each test (a LocalTier's store lives as long as the value `make` returns). */
const CacheLive = Layer.suspend(() =>
  Cache.layer({ namespace: "http" }).pipe(Layer.provide(LocalTier.make({ name: "l1" }).layer))
)

type Respond = (
  request: HttpServerRequest.HttpServerRequest,
  call: number
) => Effect.Effect<HttpServerResponse.HttpServerResponse, unknown>

/** An origin that counts its calls and keeps the requests it saw, behind the middleware. */
const originWith = (respond: Respond, options?: HttpCache.Options) =>
  Effect.gen(function*() {
    const calls = yield* Ref.make(0)
    const seen: Array<HttpServerRequest.HttpServerRequest> = []
    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      seen.push(request)
      const call = yield* Ref.updateAndGet(calls, (n) => n + 1)
      return yield* respond(request, call)
    })
    const cached = HttpCache.middleware(options)(app)
    /** As a server would see it: the path as the URL, the authority in `Host`. */
    const send = (url: string, init?: RequestInit) => {
      const headers = new Headers(init?.headers)
      if (!headers.has("host")) headers.set("host", new URL(url).host)
      const request = HttpServerRequest.fromWeb(new Request(url, { ...init, headers }))
      return Effect.provideService(cached, HttpServerRequest.HttpServerRequest, request)
    }
    return { calls: Ref.get(calls), seen, send }
  })

/** An origin answering `text` (with its call number) and these headers. */
const origin = (headers: Record<string, string>, options?: HttpCache.Options) =>
  originWith((_, call) => Effect.succeed(HttpServerResponse.text(`body ${call}`, { headers })), options)

const text = (response: HttpServerResponse.HttpServerResponse): string =>
  response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""

const status = (response: HttpServerResponse.HttpServerResponse) => response.headers["cache-status"]

describe("HttpCache: freshness (RFC 9111 §4.2)", () => {
  it.effect("max-age: stored, served with Age and Cache-Status while fresh, fetched again after", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "max-age=60" })
      const first = yield* send("http://x/a")
      assert.strictEqual(status(first), "layercake; fwd=uri-miss; fwd-status=200; stored")
      yield* TestClock.adjust("30 seconds")
      const second = yield* send("http://x/a")
      assert.strictEqual(text(second), "body 1")
      assert.strictEqual(second.headers["age"], "30")
      assert.strictEqual(status(second), "layercake; hit; ttl=30")
      yield* TestClock.adjust("31 seconds")
      assert.strictEqual(text(yield* send("http://x/a")), "body 2")
      assert.strictEqual(yield* calls, 2)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("s-maxage wins over max-age in a shared cache", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "max-age=600, s-maxage=10" })
      yield* send("http://x/a")
      yield* TestClock.adjust("11 seconds")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 2)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("Expires counts from Date; an invalid Expires is already expired", () =>
    Effect.gen(function*() {
      const date = new Date(0).toUTCString()
      const { calls, send } = yield* origin({ date, expires: new Date(20_000).toUTCString() })
      yield* send("http://x/a")
      yield* TestClock.adjust("19 seconds")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 1)
      yield* TestClock.adjust("2 seconds")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 2)
      const invalid = yield* origin({ date, expires: "0" })
      yield* invalid.send("http://x/b")
      yield* invalid.send("http://x/b")
      assert.strictEqual(yield* invalid.calls, 2)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("an Age from upstream shortens the freshness left", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "max-age=60", age: "50" })
      yield* send("http://x/a")
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual((yield* send("http://x/a")).headers["age"], "59")
      yield* TestClock.adjust("2 seconds")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 2)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("Last-Modified alone gives no freshness unless heuristicFreshness is set", () =>
    Effect.gen(function*() {
      const headers = { date: new Date(100_000_000).toUTCString(), "last-modified": new Date(0).toUTCString() }
      const strict = yield* origin(headers)
      yield* strict.send("http://x/a")
      yield* strict.send("http://x/a")
      assert.strictEqual(yield* strict.calls, 2, "revalidated every time")
      assert.strictEqual(strict.seen[1].headers["if-modified-since"], headers["last-modified"])
      const heuristic = yield* origin(headers, { heuristicFreshness: 0.1, keyPrefix: "h" })
      yield* heuristic.send("http://x/a")
      yield* heuristic.send("http://x/a")
      assert.strictEqual(yield* heuristic.calls, 1, "fresh for 10 % of Date - Last-Modified")
    }).pipe(Effect.provide(CacheLive)))
})

describe("HttpCache: response directives (RFC 9111 §5.2.2)", () => {
  it.effect("no-store and private are never stored", () =>
    Effect.gen(function*() {
      for (const cacheControl of ["no-store", "private, max-age=60", "max-age=60, no-store"]) {
        const { calls, send } = yield* origin({ "cache-control": cacheControl })
        yield* send(`http://x/${encodeURIComponent(cacheControl)}`)
        const second = yield* send(`http://x/${encodeURIComponent(cacheControl)}`)
        assert.strictEqual(yield* calls, 2, cacheControl)
        assert.include(status(second), "fwd=")
      }
    }).pipe(Effect.provide(CacheLive)))

  it.effect("no-cache is stored but revalidated before every use; the origin's 304 serves the stored body", () =>
    Effect.gen(function*() {
      const { calls, seen, send } = yield* originWith((request, call) =>
        Effect.succeed(
          call > 1 && request.headers["if-none-match"] === "\"v1\""
            ? HttpServerResponse.empty({ status: 304, headers: { etag: "\"v1\"", "cache-control": "no-cache" } })
            : HttpServerResponse.text("version 1", { headers: { etag: "\"v1\"", "cache-control": "no-cache" } })
        )
      )
      yield* send("http://x/a")
      const second = yield* send("http://x/a")
      assert.strictEqual(yield* calls, 2)
      assert.strictEqual(seen[1].headers["if-none-match"], "\"v1\"")
      assert.strictEqual(second.status, 200)
      assert.strictEqual(text(second), "version 1")
      assert.strictEqual(status(second), "layercake; fwd=stale; fwd-status=304; stored")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("must-revalidate: served while fresh without asking the origin, never served stale", () =>
    Effect.gen(function*() {
      let down = false
      const { calls, send } = yield* originWith((_, call) =>
        down ? Effect.fail("origin down") : Effect.succeed(HttpServerResponse.text(`body ${call}`, {
          headers: { "cache-control": "max-age=10, must-revalidate, stale-if-error=600", etag: "\"e\"" }
        }))
      )
      yield* send("http://x/a")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 1, "fresh: a hit, although http-cache-semantics would revalidate")
      yield* TestClock.adjust("11 seconds")
      down = true
      const exit = yield* Effect.exit(send("http://x/a", { headers: { "cache-control": "max-stale=600" } }))
      assert.deepStrictEqual(exit, Exit.fail("origin down"))
    }).pipe(Effect.provide(CacheLive)))

  it.effect("proxy-revalidate keeps a fresh response usable (it only forbids serving it stale)", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "max-age=10, proxy-revalidate" })
      yield* send("http://x/a")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 1)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("Set-Cookie is never stored, even with public; storeSetCookie stores and replays it", () =>
    Effect.gen(function*() {
      const withCookie = () =>
        originWith((_, call) =>
          Effect.succeed(
            HttpServerResponse.text(`body ${call}`, { headers: { "cache-control": "public, max-age=60" } })
          )
            .pipe(Effect.flatMap(HttpServerResponse.setCookie("session", "secret")))
        )
      const plain = yield* withCookie()
      yield* plain.send("http://x/a")
      yield* plain.send("http://x/a")
      assert.strictEqual(yield* plain.calls, 2)
      const header = yield* origin({ "cache-control": "public, max-age=60", "set-cookie": "a=b" })
      yield* header.send("http://x/b")
      yield* header.send("http://x/b")
      assert.strictEqual(yield* header.calls, 2)
      const allowed = yield* originWith(
        (_, call) =>
          Effect.succeed(
            HttpServerResponse.text(`body ${call}`, { headers: { "cache-control": "public, max-age=60" } })
          )
            .pipe(Effect.flatMap(HttpServerResponse.setCookie("theme", "dark"))),
        { storeSetCookie: true, keyPrefix: "cookies" }
      )
      yield* allowed.send("http://x/c")
      const hit = yield* allowed.send("http://x/c")
      assert.strictEqual(yield* allowed.calls, 1)
      assert.strictEqual(hit.cookies.cookies["theme"]?.value, "dark")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("a malformed Cache-Control never crashes: bad values read as absent, a quoted one is accepted", () =>
    Effect.gen(function*() {
      const broken = yield* origin({ "cache-control": "max-age=abc, , =, ;;" })
      yield* broken.send("http://x/a")
      yield* broken.send("http://x/a")
      assert.strictEqual(yield* broken.calls, 2, "no usable freshness, no validator: not stored")
      const quoted = yield* origin({ "cache-control": "max-age=\"60\", foo=\"a,b\"" })
      yield* quoted.send("http://x/b")
      yield* quoted.send("http://x/b")
      assert.strictEqual(yield* quoted.calls, 1)
      const twice = yield* origin({ "cache-control": "max-age=60, max-age=0" })
      yield* twice.send("http://x/c")
      yield* twice.send("http://x/c")
      assert.strictEqual(yield* twice.calls, 1, "the first occurrence wins (§4.2.1)")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("statuses: 404 is stored, 500 and 206 are not", () =>
    Effect.gen(function*() {
      for (const [code, stored] of [[404, true], [500, false], [206, false]] as const) {
        const { calls, send } = yield* originWith(() =>
          Effect.succeed(HttpServerResponse.text("x", { status: code, headers: { "cache-control": "max-age=60" } }))
        )
        yield* send(`http://x/${code}`)
        yield* send(`http://x/${code}`)
        assert.strictEqual(yield* calls, stored ? 1 : 2, String(code))
      }
    }).pipe(Effect.provide(CacheLive)))
})

describe("HttpCache: request directives (RFC 9111 §5.2.1)", () => {
  it.effect("no-cache, max-age and min-fresh make the cache revalidate; max-stale accepts a stale response", () =>
    Effect.gen(function*() {
      // with a validator, a stale response is kept (to be revalidated), which lets max-stale use it
      const { calls, send } = yield* origin({ "cache-control": "max-age=60", etag: "\"e\"" })
      yield* send("http://x/a")
      yield* TestClock.adjust("30 seconds")
      yield* send("http://x/a", { headers: { "cache-control": "no-cache" } })
      assert.strictEqual(yield* calls, 2)
      yield* TestClock.adjust("10 seconds")
      yield* send("http://x/a", { headers: { "cache-control": "max-age=5" } })
      assert.strictEqual(yield* calls, 3)
      yield* send("http://x/a", { headers: { "cache-control": "min-fresh=120" } })
      assert.strictEqual(yield* calls, 4)
      yield* TestClock.adjust("70 seconds")
      const stale = yield* send("http://x/a", { headers: { "cache-control": "max-stale=30" } })
      assert.strictEqual(yield* calls, 4)
      assert.include(status(stale), "hit; ttl=-")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("only-if-cached: 504 without a stored response; no-store bypasses the cache", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "max-age=60" })
      const missing = yield* send("http://x/a", { headers: { "cache-control": "only-if-cached" } })
      assert.strictEqual(missing.status, 504)
      assert.strictEqual(yield* calls, 0)
      const bypassed = yield* send("http://x/a", { headers: { "cache-control": "no-store" } })
      assert.strictEqual(status(bypassed), "layercake; fwd=request")
      const third = yield* send("http://x/a", { headers: { "cache-control": "only-if-cached" } })
      assert.strictEqual(third.status, 504, "the no-store request stored nothing")
    }).pipe(Effect.provide(CacheLive)))
})

describe("HttpCache: keys and variants (RFC 9111 §4.1)", () => {
  it.effect("scheme, host, path and query make the key; HEAD is served from a GET entry, never the reverse", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "max-age=60" })
      yield* send("http://x/a?q=1")
      yield* send("http://x/a?q=2")
      yield* send("http://y/a?q=1")
      yield* send("https://x/a?q=1", { headers: { "x-forwarded-proto": "https" } })
      assert.strictEqual(yield* calls, 4)
      const head = yield* send("http://x/a?q=1", { method: "HEAD" })
      assert.strictEqual(status(head), "layercake; hit; ttl=60")
      assert.strictEqual(yield* calls, 4)
      yield* send("http://x/h", { method: "HEAD" })
      yield* send("http://x/h")
      assert.strictEqual(yield* calls, 6, "a HEAD stores nothing")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("Vary: one variant per value of the named headers; Vary: * is never stored", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* originWith((request, call) =>
        Effect.succeed(HttpServerResponse.text(`${request.headers["accept-language"]} ${call}`, {
          headers: { "cache-control": "max-age=60", vary: "Accept-Language" }
        }))
      )
      const en = { headers: { "accept-language": "en" } }
      const fr = { headers: { "accept-language": "fr" } }
      assert.strictEqual(text(yield* send("http://x/a", en)), "en 1")
      assert.strictEqual(text(yield* send("http://x/a", fr)), "fr 2")
      assert.strictEqual(text(yield* send("http://x/a", en)), "en 1")
      assert.strictEqual(text(yield* send("http://x/a", { headers: { "accept-language": " fr " } })), "fr 2")
      assert.strictEqual(yield* calls, 2)
      const star = yield* origin({ "cache-control": "max-age=60", vary: "*" })
      yield* star.send("http://x/b")
      yield* star.send("http://x/b")
      assert.strictEqual(yield* star.calls, 2)
    }).pipe(Effect.provide(CacheLive)))
})

describe("HttpCache: conditional requests (RFC 9110 §13, RFC 9111 §4.3)", () => {
  it.effect("If-None-Match (weak comparison) and If-Modified-Since are answered 304 from the cache", () =>
    Effect.gen(function*() {
      const lastModified = new Date(0).toUTCString()
      const { calls, send } = yield* origin({
        "cache-control": "max-age=60",
        etag: "\"abc\"",
        "last-modified": lastModified
      })
      yield* send("http://x/a")
      const weak = yield* send("http://x/a", { headers: { "if-none-match": "W/\"abc\", \"other\"" } })
      assert.strictEqual(weak.status, 304)
      assert.strictEqual(weak.headers["etag"], "\"abc\"")
      assert.strictEqual(status(weak), "layercake; hit; ttl=60")
      const since = yield* send("http://x/a", { headers: { "if-modified-since": new Date(1000).toUTCString() } })
      assert.strictEqual(since.status, 304)
      const changed = yield* send("http://x/a", { headers: { "if-none-match": "\"old\"" } })
      assert.strictEqual(changed.status, 200)
      assert.strictEqual(yield* calls, 1)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("on a miss the client's validators are not sent to the origin: the cache fills and answers 304 itself", () =>
    Effect.gen(function*() {
      const { seen, send } = yield* origin({ "cache-control": "max-age=60", etag: "\"abc\"" })
      const first = yield* send("http://x/a", { headers: { "if-none-match": "\"abc\"" } })
      assert.strictEqual(first.status, 304)
      assert.isUndefined(seen[0].headers["if-none-match"])
      assert.strictEqual(text(yield* send("http://x/a")), "body 1", "the full body was stored")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("a stale entry is revalidated with its ETag; the 304's headers renew it", () =>
    Effect.gen(function*() {
      const { calls, seen, send } = yield* originWith((request, call) =>
        Effect.succeed(
          request.headers["if-none-match"] === "\"v1\""
            ? HttpServerResponse.empty({ status: 304, headers: { "cache-control": "max-age=100", etag: "\"v1\"" } })
            : HttpServerResponse.text(`body ${call}`, { headers: { "cache-control": "max-age=10", etag: "\"v1\"" } })
        )
      )
      yield* send("http://x/a")
      yield* TestClock.adjust("11 seconds")
      const renewed = yield* send("http://x/a")
      assert.strictEqual(renewed.status, 200)
      assert.strictEqual(text(renewed), "body 1")
      assert.strictEqual(seen[1].headers["if-none-match"], "\"v1\"")
      yield* TestClock.adjust("50 seconds")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 2, "the 304's max-age=100 now applies")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("generateEtag adds a weak ETag to stored bodies that have none", () =>
    Effect.gen(function*() {
      const { send } = yield* origin({ "cache-control": "max-age=60" }, { generateEtag: true })
      const first = yield* send("http://x/a")
      const etag = first.headers["etag"]!
      assert.match(etag, /^W\/"/)
      assert.strictEqual((yield* send("http://x/a", { headers: { "if-none-match": etag } })).status, 304)
    }).pipe(Effect.provide(CacheLive)))
})

describe("HttpCache: stale-while-revalidate and stale-if-error (RFC 5861)", () => {
  it.effect("stale-while-revalidate serves the stale response at once and refreshes it in the background", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "max-age=10, stale-while-revalidate=30" })
      yield* send("http://x/a")
      yield* TestClock.adjust("15 seconds")
      const stale = yield* send("http://x/a")
      assert.strictEqual(text(stale), "body 1")
      assert.strictEqual(status(stale), "layercake; hit; ttl=-5; detail=stale-while-revalidate")
      yield* Effect.yieldNow()
      yield* Effect.yieldNow()
      assert.strictEqual(yield* calls, 2)
      assert.strictEqual(text(yield* send("http://x/a")), "body 2")
      yield* TestClock.adjust("45 seconds")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 3, "past the window the request waits for the origin")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("stale-if-error serves the stale response when the origin fails or answers 5xx, within its window", () =>
    Effect.gen(function*() {
      let mode: "up" | "fail" | "503" = "up"
      const { send } = yield* originWith((_, call) =>
        mode === "fail"
          ? Effect.fail("origin down")
          : Effect.succeed(
            mode === "503"
              ? HttpServerResponse.text("unavailable", { status: 503 })
              : HttpServerResponse.text(`body ${call}`, {
                headers: { "cache-control": "max-age=10, stale-if-error=60" }
              })
          )
      )
      yield* send("http://x/a")
      yield* TestClock.adjust("20 seconds")
      mode = "fail"
      const failed = yield* send("http://x/a")
      assert.strictEqual(text(failed), "body 1")
      assert.strictEqual(status(failed), "layercake; fwd=stale; detail=stale-if-error")
      mode = "503"
      const unavailable = yield* send("http://x/a")
      assert.strictEqual(text(unavailable), "body 1")
      assert.strictEqual(status(unavailable), "layercake; fwd=stale; fwd-status=503; detail=stale-if-error")
      yield* TestClock.adjust("60 seconds")
      assert.strictEqual((yield* send("http://x/a")).status, 503, "past the window the error is the answer")
    }).pipe(Effect.provide(CacheLive)))
})

describe("HttpCache: what is never stored", () => {
  it.effect("a response to an Authorization request, unless public / s-maxage / must-revalidate", () =>
    Effect.gen(function*() {
      const auth = { headers: { authorization: "Bearer a" } }
      const privateToUser = yield* origin({ "cache-control": "max-age=60" })
      yield* privateToUser.send("http://x/a", auth)
      yield* privateToUser.send("http://x/a", auth)
      yield* privateToUser.send("http://x/a")
      assert.strictEqual(yield* privateToUser.calls, 3)
      const shared = yield* origin({ "cache-control": "public, max-age=60" }, { keyPrefix: "public" })
      yield* shared.send("http://x/a", auth)
      yield* shared.send("http://x/a", auth)
      assert.strictEqual(yield* shared.calls, 1)
      const stored = yield* origin({ "cache-control": "max-age=60" }, { keyPrefix: "anon" })
      yield* stored.send("http://x/a")
      yield* stored.send("http://x/a", auth)
      assert.strictEqual(
        yield* stored.calls,
        2,
        "a response stored for anonymous requests is not served to an authorized one"
      )
    }).pipe(Effect.provide(CacheLive)))

  it.effect("bodies over maxBodyBytes (whole or streamed) are passed through intact and not stored; smaller streams are", () =>
    Effect.gen(function*() {
      const big = new Uint8Array(5000).fill(7)
      const { calls, send } = yield* originWith((request) =>
        Effect.succeed(
          request.url.endsWith("/bytes")
            ? HttpServerResponse.uint8Array(big, { headers: { "cache-control": "max-age=60" } })
            : request.url.endsWith("/stream")
            ? HttpServerResponse.stream(Stream.fromIterable(Array.from({ length: 10 }, () => big.subarray(0, 500))), {
              headers: { "cache-control": "max-age=60" }
            })
            : HttpServerResponse.stream(Stream.make(new Uint8Array([1, 2, 3])), {
              headers: { "cache-control": "max-age=60" },
              contentType: "application/x-small"
            })
        ), { maxBodyBytes: 1000 })
      const bytes = yield* send("http://x/bytes")
      assert.strictEqual(bytes.body._tag, "Uint8Array")
      yield* send("http://x/bytes")
      const streamed = yield* send("http://x/stream")
      assert.strictEqual(streamed.body._tag, "Stream")
      if (streamed.body._tag === "Stream") {
        const chunks = yield* Stream.runCollect(streamed.body.stream)
        assert.strictEqual(Chunk.reduce(chunks, 0, (n, chunk) => n + chunk.length), 5000)
      }
      yield* send("http://x/stream")
      assert.strictEqual(yield* calls, 4)
      yield* send("http://x/small")
      const small = yield* send("http://x/small")
      assert.strictEqual(yield* calls, 5)
      assert.strictEqual(small.body._tag === "Uint8Array" && small.body.contentType, "application/x-small")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("a Raw body is passed through, not stored", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* originWith(() =>
        Effect.succeed(HttpServerResponse.raw("raw", { headers: { "cache-control": "max-age=60" } }))
      )
      yield* send("http://x/a")
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 2)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("a URL whose response was not storable is fetched without waiting for others (hit-for-pass)", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "private" })
      yield* send("http://x/a")
      const second = yield* send("http://x/a")
      assert.strictEqual(status(second), "layercake; fwd=bypass; detail=pass; fwd-status=200")
      assert.strictEqual(yield* calls, 2)
    }).pipe(Effect.provide(CacheLive)))
})

describe("HttpCache: bodies, invalidation, coalescing, tags", () => {
  it.effect("Content-Type and Content-Encoding are stored and served intact", () =>
    Effect.gen(function*() {
      const gzipped = new Uint8Array([31, 139, 8, 0])
      const { send } = yield* originWith(() =>
        Effect.succeed(HttpServerResponse.uint8Array(gzipped, {
          contentType: "application/json",
          headers: { "content-encoding": "gzip", "cache-control": "max-age=60" }
        }))
      )
      yield* send("http://x/a")
      const hit = yield* send("http://x/a")
      assert.strictEqual(hit.headers["content-encoding"], "gzip")
      assert.strictEqual(hit.body._tag === "Uint8Array" && hit.body.contentType, "application/json")
      assert.deepStrictEqual(hit.body._tag === "Uint8Array" && [...hit.body.body], [...gzipped])
    }).pipe(Effect.provide(CacheLive)))

  it.effect("a successful unsafe method invalidates its URL and same-host Location / Content-Location; a failed one does not", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* originWith((request, call) =>
        Effect.succeed(
          request.method === "GET"
            ? HttpServerResponse.text(`body ${call}`, { headers: { "cache-control": "max-age=60" } })
            : HttpServerResponse.empty({
              status: request.url.includes("fail") ? 500 : 201,
              headers: { location: "/items/2", "content-location": "http://elsewhere/items/3" }
            })
        )
      )
      for (const path of ["/items", "/items/2", "/items/3"]) yield* send(`http://x${path}`)
      yield* send("http://x/items?fail", { method: "POST" })
      for (const path of ["/items", "/items/2", "/items/3"]) yield* send(`http://x${path}`)
      assert.strictEqual(yield* calls, 4, "a 500 invalidates nothing")
      const posted = yield* send("http://x/items", { method: "POST" })
      assert.strictEqual(status(posted), "layercake; fwd=method")
      for (const path of ["/items", "/items/2", "/items/3"]) yield* send(`http://x${path}`)
      assert.strictEqual(yield* calls, 7, "/items and /items/2 fetched again, /items/3 (another host's URL) kept")
    }).pipe(Effect.provide(CacheLive)))

  it.effect("concurrent requests for one cold URL make one origin call; the others are collapsed", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* originWith((_, call) =>
        Effect.as(
          Effect.sleep("100 millis"),
          HttpServerResponse.text(`body ${call}`, { headers: { "cache-control": "max-age=60" } })
        )
      )
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 50 }, () => send("http://x/a")), {
        concurrency: "unbounded"
      }))
      yield* TestClock.adjust("100 millis")
      const responses = yield* Fiber.join(fiber)
      assert.strictEqual(yield* calls, 1)
      assert.isTrue(responses.every((response) => text(response) === "body 1"))
      assert.strictEqual(responses.filter((response) => status(response)!.includes("collapsed")).length, 49)
    }).pipe(Effect.provide(CacheLive)))

  it.effect("Cache-Tag values tag the stored response for invalidateTags; the header is not sent to clients", () =>
    Effect.gen(function*() {
      const { calls, send } = yield* origin({ "cache-control": "max-age=60", "cache-tag": "user-1, users" })
      yield* send("http://x/a")
      const hit = yield* send("http://x/a")
      assert.isUndefined(hit.headers["cache-tag"])
      yield* Cache.invalidateTags(["users"])
      yield* send("http://x/a")
      assert.strictEqual(yield* calls, 2)
    }).pipe(Effect.provide(CacheLive)))

  it.scoped("an unsafe method on one instance drops the URL from another instance's memory (through the bus)", () =>
    Effect.gen(function*() {
      const shared = Layer.succeed(CacheTier.CacheTier, SharedTier.make({ name: "l2" }))
      const bus = Layer.succeedContext(yield* Layer.build(InvalidationBus.layerMemory))
      const instance = () =>
        Effect.map(
          Layer.build(
            Cache.layer({ namespace: "http" }).pipe(
              Layer.provide(CacheTier.stack(LocalTier.make({ name: "l1" }).layer, shared)),
              Layer.provide(bus)
            )
          ),
          Context.get(Cache.Cache)
        )
      const a = yield* instance()
      const b = yield* instance()
      const { calls, send } = yield* origin({ "cache-control": "max-age=60" })
      yield* Effect.provideService(send("http://x/a"), Cache.Cache, b)
      yield* Effect.provideService(send("http://x/a"), Cache.Cache, b)
      assert.strictEqual(yield* calls, 1)
      yield* Effect.provideService(send("http://x/a", { method: "DELETE" }), Cache.Cache, a)
      // the bus delivers in b's subscriber fiber
      yield* Effect.repeatN(Effect.yieldNow(), 10)
      yield* Effect.provideService(send("http://x/a"), Cache.Cache, b)
      assert.strictEqual(yield* calls, 3, "b fetched the URL again")
    }))

  it("invalid options are a defect naming the option", () => {
    assert.throws(() => HttpCache.middleware({ maxBodyBytes: -1 }), /HttpCache option "maxBodyBytes"/)
    assert.throws(() => HttpCache.middleware({ heuristicFreshness: 2 }), /heuristicFreshness/)
  })
})
