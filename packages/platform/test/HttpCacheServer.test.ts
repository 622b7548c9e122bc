/**
 * HttpCache end to end: a real Node server (`@effect/platform-node`) serving an
 * `HttpRouter` app behind `HttpCache.middleware()`, over `Cache` + `MemoryTier`,
 * asked with real `fetch` (or `node:http` where the raw bytes matter). Every
 * origin counts its calls; the live clock, and expiry only through `max-age=1`
 * and polling, so no test waits much more than a second.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { assert, describe, it } from "@effect/vitest"
import { Cache } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { Context, Deferred, Effect, Layer, Ref, Stream } from "effect"
import { createHash } from "node:crypto"
import * as Http from "node:http"
import { createServer } from "node:http"
import { gunzipSync, gzipSync } from "node:zlib"
import * as HttpCache from "../src/HttpCache.js"

const CacheLive = Cache.layer({ namespace: "http-server-test" }).pipe(Layer.provide(MemoryTier.layer()))

/**
 * Serves `app` behind the middleware on a fresh port with a fresh cache, for
 * the scope. `around` wraps the cached app (to see requests before the cache).
 */
const serve = <E>(
  app: HttpApp.Default<E, never>,
  options?: {
    readonly cache?: HttpCache.Options
    readonly around?: (app: HttpApp.Default<E, Cache.Cache>) => HttpApp.Default<E, Cache.Cache>
  }
) =>
  Effect.gen(function*() {
    const cached = HttpCache.middleware(options?.cache)(app)
    const context = yield* Layer.build(
      HttpServer.serve(options?.around ? options.around(cached) : cached).pipe(
        Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: 0 })),
        Layer.provideMerge(CacheLive)
      )
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
    const base = `http://127.0.0.1:${address.port}`
    return { base, url: (path: string) => `${base}${path}`, cache: Context.get(context, Cache.Cache) }
  })

/** Counts an origin's calls per name. */
const makeCalls = Effect.map(Ref.make<Record<string, number>>({}), (ref) => ({
  count: (name: string) => Ref.update(ref, (calls) => ({ ...calls, [name]: (calls[name] ?? 0) + 1 })),
  of: (name: string) => Effect.map(Ref.get(ref), (calls) => calls[name] ?? 0)
}))

interface Received {
  readonly status: number
  readonly headers: Headers
  readonly body: string
}

const get = (url: string, init?: RequestInit): Effect.Effect<Received> =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, headers: response.headers, body: await response.text() }
  })

/**
 * A GET through `node:http`, sending exactly `headers` and not decoding the
 * body. `fetch` would gunzip it, and (Fetch standard, HTTP-network-or-cache
 * fetch) adds `Cache-Control: no-cache` to a request carrying `If-None-Match`
 * or `If-Modified-Since`, which rightly makes the cache revalidate.
 */
const rawGet = (url: string, headers: Record<string, string>) =>
  Effect.async<Received & { readonly bytes: Buffer }>((resume) => {
    const request = Http.get(url, { headers }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("end", () => {
        const bytes = Buffer.concat(chunks)
        const received = new Headers()
        for (const [name, value] of Object.entries(response.headers)) {
          for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
            received.append(name, one)
          }
        }
        resume(Effect.succeed({ status: response.statusCode ?? 0, headers: received, body: bytes.toString(), bytes }))
      })
      response.on("error", (error) => resume(Effect.die(error)))
    })
    request.on("error", (error) => resume(Effect.die(error)))
  })

/** The parameters of our `Cache-Status` entry (RFC 9211): `["hit", "ttl=30"]`, `["fwd=uri-miss", "stored"]`. */
const cacheStatus = (value: string | null | undefined): ReadonlyArray<string> => {
  const [name, ...parameters] = (value ?? "").split(";").map((part) => part.trim())
  return name === "layercake" ? parameters : []
}

const isHit = (received: Received) => cacheStatus(received.headers.get("cache-status")).includes("hit")

/**
 * Repeats `request` every 50 ms until its response is no longer a fresh hit
 * (the entry went stale after its `max-age=1`); at most 4 s.
 */
const untilStale = (request: Effect.Effect<Received>) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 80; attempt++) {
      const received = yield* request
      if (!isHit(received)) return received
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.dieMessage("the entry never went stale")
  })

describe("HttpCache over a Node server", () => {
  it.scopedLive("answers a matching If-None-Match (weak comparison) with a 304 from the cache", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/etag",
        Effect.as(
          calls.count("etag"),
          HttpServerResponse.text("tagged", { headers: { "cache-control": "max-age=60", etag: "\"v1\"" } })
        )
      )))
      const first = yield* get(server.url("/etag"))
      assert.strictEqual(first.status, 200)
      assert.strictEqual(first.body, "tagged")
      assert.includeMembers([...cacheStatus(first.headers.get("cache-status"))], ["fwd=uri-miss", "stored"])
      const hit = yield* get(server.url("/etag"))
      assert.isTrue(isHit(hit))
      assert.match(hit.headers.get("age") ?? "", /^\d+$/)

      const weak = yield* rawGet(server.url("/etag"), { "if-none-match": "W/\"v1\"" })
      assert.strictEqual(weak.status, 304)
      assert.strictEqual(weak.body, "")
      assert.strictEqual(weak.headers.get("etag"), "\"v1\"")
      const inList = yield* rawGet(server.url("/etag"), { "if-none-match": "\"v0\", \"v1\"" })
      assert.strictEqual(inList.status, 304)
      const other = yield* rawGet(server.url("/etag"), { "if-none-match": "\"v0\"" })
      assert.strictEqual(other.status, 200)
      assert.strictEqual(other.body, "tagged")
      assert.isTrue(isHit(other))
      assert.strictEqual(yield* calls.of("etag"), 1)
    }))

  it.scopedLive("answers an If-Modified-Since not before Last-Modified with a 304 from the cache", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const lastModified = "Tue, 01 Dec 2026 00:00:00 GMT"
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/dated",
        Effect.as(
          calls.count("dated"),
          HttpServerResponse.text("dated", {
            headers: { "cache-control": "max-age=60", "last-modified": lastModified }
          })
        )
      )))
      assert.strictEqual((yield* get(server.url("/dated"))).status, 200)

      const same = yield* rawGet(server.url("/dated"), { "if-modified-since": lastModified })
      assert.strictEqual(same.status, 304)
      assert.strictEqual(same.body, "")
      const later = yield* rawGet(server.url("/dated"), { "if-modified-since": "Wed, 02 Dec 2026 00:00:00 GMT" })
      assert.strictEqual(later.status, 304)
      const earlier = yield* rawGet(server.url("/dated"), { "if-modified-since": "Mon, 30 Nov 2026 00:00:00 GMT" })
      assert.strictEqual(earlier.status, 200)
      assert.strictEqual(earlier.body, "dated")
      assert.strictEqual(yield* calls.of("dated"), 1)
    }))

  it.scopedLive("keeps one variant per Accept-Language under Vary", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/hello",
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          yield* calls.count("hello")
          const greeting = request.headers["accept-language"] === "fr" ? "bonjour" : "hello"
          return HttpServerResponse.text(greeting, {
            headers: { "cache-control": "max-age=60", vary: "Accept-Language" }
          })
        })
      )))
      const ask = (language: string) => get(server.url("/hello"), { headers: { "accept-language": language } })
      assert.strictEqual((yield* ask("en")).body, "hello")
      assert.strictEqual((yield* ask("fr")).body, "bonjour")
      assert.strictEqual(yield* calls.of("hello"), 2)

      const en = yield* ask("en")
      const fr = yield* ask("fr")
      assert.strictEqual(en.body, "hello")
      assert.strictEqual(fr.body, "bonjour")
      assert.isTrue(isHit(en))
      assert.isTrue(isHit(fr))
      assert.strictEqual(yield* calls.of("hello"), 2)
    }))

  it.scopedLive("stores by s-maxage, max-age, Expires and Age; never no-store, private or Vary: *; revalidates no-cache", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const route = (
        name: string,
        headers: Record<string, string>,
        notModified: (request: HttpServerRequest.HttpServerRequest) => boolean = () => false
      ) =>
        HttpRouter.get(
          `/${name}`,
          Effect.gen(function*() {
            const request = yield* HttpServerRequest.HttpServerRequest
            yield* calls.count(name)
            return notModified(request)
              ? HttpServerResponse.empty({ status: 304, headers })
              : HttpServerResponse.text(name, { headers })
          })
        )
      const server = yield* serve(HttpRouter.empty.pipe(
        route("s-maxage", { "cache-control": "max-age=0, s-maxage=60" }),
        route("expires", { expires: new Date(Date.now() + 60_000).toUTCString() }),
        route("aged", { "cache-control": "max-age=60", age: "60" }),
        route("no-store", { "cache-control": "no-store, max-age=60" }),
        route("private", { "cache-control": "private, max-age=60" }),
        route("vary-star", { "cache-control": "max-age=60", vary: "*" }),
        route(
          "no-cache",
          { "cache-control": "no-cache, max-age=60", etag: "\"n1\"" },
          (request) => request.headers["if-none-match"] === "\"n1\""
        )
      ))
      const twice = (name: string) => Effect.flatMap(get(server.url(`/${name}`)), () => get(server.url(`/${name}`)))

      for (const name of ["s-maxage", "expires"]) {
        const second = yield* twice(name)
        assert.strictEqual(second.body, name)
        assert.isTrue(isHit(second), name)
        assert.strictEqual(yield* calls.of(name), 1, name)
      }
      // Age: 60 of max-age=60: stale on arrival; no-store, private, Vary: * never stored.
      for (const name of ["aged", "no-store", "private", "vary-star"]) {
        const second = yield* twice(name)
        assert.strictEqual(second.body, name)
        assert.isFalse(isHit(second), name)
        assert.strictEqual(yield* calls.of(name), 2, name)
      }
      // no-cache: stored, but every use asks the origin first (here with the ETag, answered 304).
      const revalidated = yield* twice("no-cache")
      assert.strictEqual(revalidated.status, 200)
      assert.strictEqual(revalidated.body, "no-cache")
      assert.include(cacheStatus(revalidated.headers.get("cache-status")), "fwd-status=304")
      assert.strictEqual(yield* calls.of("no-cache"), 2)
    }))

  it.scopedLive("serves a HEAD after a GET from the GET's entry: no body, the GET's headers", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const page = (name: string) =>
        Effect.as(
          calls.count(name),
          HttpServerResponse.text(`<p>${name}</p>`, {
            contentType: "text/html",
            headers: { "cache-control": "max-age=60", etag: "\"page\"" }
          })
        )
      const server = yield* serve(HttpRouter.empty.pipe(
        HttpRouter.get("/page", page("page")),
        HttpRouter.get("/other", page("other"))
      ))
      const got = yield* get(server.url("/page"))
      const head = yield* get(server.url("/page"), { method: "HEAD" })
      assert.strictEqual(head.status, 200)
      assert.strictEqual(head.body, "")
      assert.isTrue(isHit(head))
      for (const name of ["content-type", "etag", "cache-control"]) {
        assert.strictEqual(head.headers.get(name), got.headers.get(name), name)
      }
      // RFC 9110 §9.3.2 lets a HEAD omit Content-Length, but not send another one.
      const headLength = head.headers.get("content-length")
      if (headLength !== null) assert.strictEqual(headLength, got.headers.get("content-length"))
      assert.strictEqual(yield* calls.of("page"), 1)

      // A HEAD miss goes to the origin and stores nothing: the GET after it is a miss too.
      yield* get(server.url("/other"), { method: "HEAD" })
      const afterHead = yield* get(server.url("/other"))
      assert.strictEqual(afterHead.body, "<p>other</p>")
      assert.strictEqual(yield* calls.of("other"), 2)
    }))

  it.scopedLive("does not store the response to an Authorization request unless it says public", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const server = yield* serve(HttpRouter.empty.pipe(
        HttpRouter.get(
          "/mine",
          Effect.as(
            calls.count("mine"),
            HttpServerResponse.text("mine", { headers: { "cache-control": "max-age=60" } })
          )
        ),
        HttpRouter.get(
          "/shared",
          Effect.as(
            calls.count("shared"),
            HttpServerResponse.text("shared", { headers: { "cache-control": "public, max-age=60" } })
          )
        )
      ))
      const authorized = { headers: { authorization: "Bearer secret" } }
      assert.strictEqual((yield* get(server.url("/mine"), authorized)).body, "mine")
      assert.strictEqual((yield* get(server.url("/mine"), authorized)).body, "mine")
      assert.strictEqual((yield* get(server.url("/mine"))).body, "mine")
      assert.strictEqual(yield* calls.of("mine"), 3)

      yield* get(server.url("/shared"), authorized)
      const again = yield* get(server.url("/shared"), authorized)
      assert.strictEqual(again.body, "shared")
      assert.isTrue(isHit(again))
      assert.strictEqual(yield* calls.of("shared"), 1)
    }))

  it.scopedLive("does not store a response that sets a cookie (unless storeSetCookie), and passes the cookie on", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/login",
        Effect.as(
          calls.count("login"),
          HttpServerResponse.text("welcome", { headers: { "cache-control": "max-age=60", "set-cookie": "session=1" } })
        )
      )))
      const first = yield* get(server.url("/login"))
      const second = yield* get(server.url("/login"))
      assert.strictEqual(first.headers.get("set-cookie"), "session=1")
      assert.strictEqual(second.headers.get("set-cookie"), "session=1")
      assert.isFalse(isHit(second))
      assert.strictEqual(yield* calls.of("login"), 2)

      // With storeSetCookie the response is stored and replayed, cookie included,
      // whether set through the response's cookies or as a header.
      const storing = yield* serve(
        HttpRouter.empty.pipe(
          HttpRouter.get(
            "/cookies",
            Effect.as(
              calls.count("cookies"),
              HttpServerResponse.text("welcome", { headers: { "cache-control": "max-age=60" } }).pipe(
                HttpServerResponse.unsafeSetCookie("session", "1")
              )
            )
          ),
          HttpRouter.get(
            "/header",
            Effect.as(
              calls.count("header"),
              HttpServerResponse.text("welcome", {
                headers: { "cache-control": "max-age=60", "set-cookie": "session=1" }
              })
            )
          )
        ),
        { cache: { storeSetCookie: true } }
      )
      for (const name of ["cookies", "header"]) {
        yield* get(storing.url(`/${name}`))
        const stored = yield* get(storing.url(`/${name}`))
        assert.isTrue(isHit(stored), name)
        assert.strictEqual(yield* calls.of(name), 1, name)
        assert.strictEqual(stored.headers.get("set-cookie"), "session=1", name)
      }
    }))

  it.scopedLive("invalidates on a successful POST (its URL, Location and Content-Location), PUT and DELETE", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const item = Effect.gen(function*() {
        const { id } = yield* HttpRouter.params
        yield* calls.count(`item ${id}`)
        return HttpServerResponse.text(`item ${id}`, { headers: { "cache-control": "max-age=60" } })
      })
      const server = yield* serve(HttpRouter.empty.pipe(
        HttpRouter.get(
          "/items",
          Effect.as(
            calls.count("items"),
            HttpServerResponse.text("all", { headers: { "cache-control": "max-age=60" } })
          )
        ),
        HttpRouter.get("/items/:id", item),
        HttpRouter.post(
          "/items",
          Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
            HttpServerResponse.text("created", {
              status: 201,
              headers: { location: "/items/7", "content-location": `http://${request.headers.host}/items/8` }
            }))
        ),
        HttpRouter.post("/items/:id", HttpServerResponse.text("read-only", { status: 400 })),
        HttpRouter.put("/items/:id", HttpServerResponse.empty({ status: 204 })),
        HttpRouter.del("/items/:id", HttpServerResponse.empty({ status: 204 }))
      ))
      const paths = ["/items", "/items/1", "/items/7", "/items/8"]
      for (const path of paths) yield* get(server.url(path))
      for (const path of paths) assert.isTrue(isHit(yield* get(server.url(path))), path)

      // A failed POST invalidates nothing.
      assert.strictEqual((yield* get(server.url("/items/1"), { method: "POST" })).status, 400)
      assert.isTrue(isHit(yield* get(server.url("/items/1"))))

      assert.strictEqual((yield* get(server.url("/items"), { method: "POST" })).status, 201)
      assert.strictEqual((yield* get(server.url("/items"))).body, "all")
      assert.strictEqual((yield* get(server.url("/items/7"))).body, "item 7")
      assert.strictEqual((yield* get(server.url("/items/8"))).body, "item 8")
      assert.isTrue(isHit(yield* get(server.url("/items/1"))))
      assert.deepStrictEqual(
        yield* Effect.all([calls.of("items"), calls.of("item 1"), calls.of("item 7"), calls.of("item 8")]),
        [2, 1, 2, 2]
      )

      // PUT and DELETE invalidate their URL too.
      assert.strictEqual((yield* get(server.url("/items/1"), { method: "PUT" })).status, 204)
      assert.isFalse(isHit(yield* get(server.url("/items/1"))))
      assert.isTrue(isHit(yield* get(server.url("/items/1"))))
      assert.strictEqual((yield* get(server.url("/items/1"), { method: "DELETE" })).status, 204)
      assert.isFalse(isHit(yield* get(server.url("/items/1"))))
      assert.strictEqual(yield* calls.of("item 1"), 3)
    }))

  it.scopedLive("makes one origin call for 100 concurrent requests of a cold URL", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const arrived = yield* Ref.make(0)
      const allArrived = yield* Deferred.make<void>()
      const server = yield* serve(
        HttpRouter.empty.pipe(HttpRouter.get(
          "/cold",
          Effect.gen(function*() {
            yield* calls.count("cold")
            // Answer only once every request is in, so that each of them joins this call.
            yield* Deferred.await(allArrived).pipe(Effect.timeout("10 seconds"), Effect.ignore)
            return HttpServerResponse.text(`value ${Math.random()}`, { headers: { "cache-control": "max-age=60" } })
          })
        )),
        {
          around: (app) =>
            Effect.zipRight(
              Effect.flatMap(
                Ref.updateAndGet(arrived, (n) => n + 1),
                (n) => n === 100 ? Deferred.succeed(allArrived, undefined) : Effect.void
              ),
              app
            )
        }
      )
      const received = yield* Effect.all(Array.from({ length: 100 }, () => get(server.url("/cold"))), {
        concurrency: "unbounded"
      })
      assert.strictEqual(yield* calls.of("cold"), 1)
      assert.isTrue(received.every((response) => response.status === 200))
      assert.strictEqual(new Set(received.map((response) => response.body)).size, 1)
      assert.match(received[0].body, /^value /)
      const collapsed = received.filter((response) =>
        cacheStatus(response.headers.get("cache-status")).includes("collapsed")
      )
      assert.strictEqual(collapsed.length, 99)
    }))

  it.scopedLive("serves the stale response under stale-if-error when the origin fails or answers 503", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const down = yield* Ref.make(false)
      const headers = { "cache-control": "max-age=1, stale-if-error=60" }
      const server = yield* serve(HttpRouter.empty.pipe(
        HttpRouter.get(
          "/fails",
          Effect.gen(function*() {
            yield* calls.count("fails")
            if (yield* Ref.get(down)) return yield* Effect.fail("the database is down" as const)
            return HttpServerResponse.text("fails v1", { headers })
          })
        ),
        HttpRouter.get(
          "/unavailable",
          Effect.gen(function*() {
            yield* calls.count("unavailable")
            return (yield* Ref.get(down))
              ? HttpServerResponse.text("try later", { status: 503 })
              : HttpServerResponse.text("unavailable v1", { headers })
          })
        )
      ))
      assert.strictEqual((yield* get(server.url("/fails"))).body, "fails v1")
      assert.strictEqual((yield* get(server.url("/unavailable"))).body, "unavailable v1")
      yield* Ref.set(down, true)

      const [fails, unavailable] = yield* Effect.all([
        untilStale(get(server.url("/fails"))),
        untilStale(get(server.url("/unavailable")))
      ], { concurrency: 2 })
      assert.strictEqual(fails.status, 200)
      assert.strictEqual(fails.body, "fails v1")
      assert.strictEqual(unavailable.status, 200)
      assert.strictEqual(unavailable.body, "unavailable v1")
      // The origin was asked (and failed) before the stale responses were served.
      assert.strictEqual(yield* calls.of("fails"), 2)
      assert.strictEqual(yield* calls.of("unavailable"), 2)
    }))

  // What is sane for a malformed Cache-Control: no crash, the response passes
  // through intact, `max-age=abc` gives no freshness and `no-store` in any
  // spelling (even `no-store=`) is no-store, so every request reaches the origin.
  it.scopedLive("survives a malformed Cache-Control: passed through, never served fresh from the cache", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const route = (name: string, cacheControl: string) =>
        HttpRouter.get(
          `/${name}`,
          Effect.as(calls.count(name), HttpServerResponse.text(name, { headers: { "cache-control": cacheControl } }))
        )
      const server = yield* serve(HttpRouter.empty.pipe(
        route("nostore", "max-age=abc, , =, no-store="),
        route("noage", "max-age=abc, , =")
      ))
      for (const name of ["nostore", "noage"]) {
        const first = yield* get(server.url(`/${name}`))
        const second = yield* get(server.url(`/${name}`))
        assert.strictEqual(first.status, 200)
        assert.strictEqual(second.status, 200)
        assert.strictEqual(second.body, name)
        assert.isFalse(isHit(second), name)
        assert.strictEqual(yield* calls.of(name), 2, name)
      }
      const nostore = yield* get(server.url("/nostore"))
      assert.notInclude(cacheStatus(nostore.headers.get("cache-status")), "stored")
    }))

  it.scopedLive("passes a 50 MB streamed body through intact and does not store it", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const chunkBytes = 1 << 20
      const chunkCount = 50
      // Each chunk differs, so a dropped, repeated or reordered chunk changes the digest.
      const chunk = (index: number) => {
        const bytes = new Uint8Array(chunkBytes).fill(index % 251)
        new DataView(bytes.buffer).setUint32(0, index)
        return bytes
      }
      const expected = createHash("sha256")
      for (let index = 0; index < chunkCount; index++) expected.update(chunk(index))
      const expectedDigest = expected.digest("hex")
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/big",
        Effect.as(
          calls.count("big"),
          HttpServerResponse.stream(Stream.map(Stream.range(0, chunkCount - 1), chunk), {
            contentType: "application/octet-stream",
            headers: { "cache-control": "public, max-age=60" }
          })
        )
      )))
      const download = Effect.promise(async () => {
        const response = await fetch(server.url("/big"))
        const digest = createHash("sha256")
        let bytes = 0
        for await (const part of response.body!) {
          digest.update(part)
          bytes += part.byteLength
        }
        return { status: response.status, bytes, digest: digest.digest("hex") }
      })
      for (let round = 1; round <= 2; round++) {
        const received = yield* download
        assert.strictEqual(received.status, 200)
        assert.strictEqual(received.bytes, chunkBytes * chunkCount)
        assert.strictEqual(received.digest, expectedDigest)
        assert.strictEqual(yield* calls.of("big"), round)
      }
    }))

  it.scopedLive("serves a gzip'd body from the cache with its Content-Encoding, still decompressible", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const document = { users: Array.from({ length: 50 }, (_, id) => ({ id, name: `user-${id}` })) }
      const gzipped = gzipSync(JSON.stringify(document))
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/users.json",
        Effect.as(
          calls.count("users"),
          HttpServerResponse.uint8Array(gzipped, {
            contentType: "application/json",
            headers: { "content-encoding": "gzip", "cache-control": "max-age=60", vary: "Accept-Encoding" }
          })
        )
      )))
      const ask = rawGet(server.url("/users.json"), { "accept-encoding": "gzip" })
      const first = yield* ask
      const hit = yield* ask
      assert.strictEqual(yield* calls.of("users"), 1)
      assert.isTrue(isHit(hit))
      for (const received of [first, hit]) {
        assert.strictEqual(received.status, 200)
        assert.strictEqual(received.headers.get("content-encoding"), "gzip")
        assert.strictEqual(received.headers.get("content-type"), "application/json")
        assert.isTrue(received.bytes.equals(gzipped))
        assert.deepStrictEqual(JSON.parse(gunzipSync(received.bytes).toString("utf8")), document)
      }
    }))

  it.scopedLive("revalidates a stale entry with the origin; an origin 304 refreshes it", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const conditional = yield* Ref.make<Array<string | undefined>>([])
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/profile",
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          yield* calls.count("profile")
          const ifNoneMatch = request.headers["if-none-match"]
          yield* Ref.update(conditional, (seen) => [...seen, ifNoneMatch])
          const headers = { "cache-control": "max-age=1", etag: "\"p1\"" }
          return ifNoneMatch === "\"p1\""
            ? HttpServerResponse.empty({ status: 304, headers: { ...headers, "x-refreshed": "yes" } })
            : HttpServerResponse.text("profile", { headers })
        })
      )))
      yield* get(server.url("/profile"))
      const revalidated = yield* untilStale(get(server.url("/profile")))
      assert.strictEqual(revalidated.status, 200)
      assert.strictEqual(revalidated.body, "profile")
      const status = cacheStatus(revalidated.headers.get("cache-status"))
      assert.include(status, "fwd=stale")
      assert.include(status, "fwd-status=304")
      assert.deepStrictEqual(yield* Ref.get(conditional), [undefined, "\"p1\""])

      const after = yield* get(server.url("/profile"))
      assert.isTrue(isHit(after))
      assert.strictEqual(after.body, "profile")
      assert.strictEqual(yield* calls.of("profile"), 2)
      // RFC 9111 §3.2: the 304's header fields are added to the stored ones, new ones too.
      assert.strictEqual(revalidated.headers.get("x-refreshed"), "yes")
      assert.strictEqual(after.headers.get("x-refreshed"), "yes")
    }))

  it.scopedLive("serves within stale-while-revalidate at once and refreshes in the background", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const refreshDone = yield* Ref.make(false)
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/feed",
        Effect.gen(function*() {
          yield* calls.count("feed")
          const version = yield* calls.of("feed")
          // The refresh is slow: a client waiting for it would wait 600 ms.
          if (version > 1) yield* Effect.zipRight(Effect.sleep("600 millis"), Ref.set(refreshDone, true))
          return HttpServerResponse.text(`feed v${version}`, {
            headers: { "cache-control": "max-age=1, stale-while-revalidate=60" }
          })
        })
      )))
      assert.strictEqual((yield* get(server.url("/feed"))).body, "feed v1")
      // Until the entry is stale every answer is v1 from the cache; the first
      // stale request starts the refresh and is answered without waiting for it.
      let whileRefreshing: { readonly received: Received; readonly refreshDone: boolean } | undefined
      for (let attempt = 0; attempt < 80 && whileRefreshing === undefined; attempt++) {
        const received = yield* get(server.url("/feed"))
        assert.strictEqual(received.body, "feed v1")
        if ((yield* calls.of("feed")) === 2) whileRefreshing = { received, refreshDone: yield* Ref.get(refreshDone) }
        else yield* Effect.sleep("50 millis")
      }
      assert.isDefined(whileRefreshing)
      assert.strictEqual(whileRefreshing!.received.status, 200)
      assert.isFalse(whileRefreshing!.refreshDone, "the stale response waited for the refresh")

      // The refresh lands after its 600 ms: v2, from the cache.
      let refreshed = whileRefreshing!.received
      for (let attempt = 0; attempt < 40 && refreshed.body !== "feed v2"; attempt++) {
        yield* Effect.sleep("50 millis")
        refreshed = yield* get(server.url("/feed"))
      }
      assert.strictEqual(refreshed.body, "feed v2")
      assert.isTrue(isHit(refreshed))
      assert.strictEqual(yield* calls.of("feed"), 2)
    }))

  it.scopedLive("tags entries from Cache-Tag, hides the header and invalidates by tag", () =>
    Effect.gen(function*() {
      const calls = yield* makeCalls
      const server = yield* serve(HttpRouter.empty.pipe(HttpRouter.get(
        "/users/:id",
        Effect.gen(function*() {
          const { id } = yield* HttpRouter.params
          yield* calls.count(`user ${id}`)
          return HttpServerResponse.text(`user ${id}`, {
            headers: { "cache-control": "max-age=60", "cache-tag": `users, user-${id}` }
          })
        })
      )))
      const first = yield* get(server.url("/users/1"))
      assert.isNull(first.headers.get("cache-tag"))
      yield* get(server.url("/users/2"))
      const hit = yield* get(server.url("/users/1"))
      assert.isTrue(isHit(hit))
      assert.isNull(hit.headers.get("cache-tag"))

      yield* server.cache.invalidateTags(["user-1"])
      assert.isFalse(isHit(yield* get(server.url("/users/1"))))
      assert.isTrue(isHit(yield* get(server.url("/users/2"))))
      assert.strictEqual(yield* calls.of("user 1"), 2)
      assert.strictEqual(yield* calls.of("user 2"), 1)
    }))
})
