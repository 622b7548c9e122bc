/**
 * The server process of `bench:http`: `server.ts origin|cached`. One route,
 * `GET /users`, whose handler stands for a cheap real endpoint: ~1 ms of CPU
 * (a busy wait, as a query plus a template would cost) and then a ~1 KB JSON
 * render built fresh per request. `cached` puts the same app behind
 * `HttpCache.middleware()` over `Cache` + `MemoryTier`; the response says
 * `public, max-age=3600` with an ETag, so after the first request every GET
 * is a hit. `GET /floor` sends the same bytes with no work and no cache
 * headers (the bench asks it of the `origin` server): the server's own cost.
 * Prints `{"port":N}` on stdout once listening on a free port.
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cache } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { HttpCache } from "@layercake/platform"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"

const mode = process.argv[2]
if (mode !== "origin" && mode !== "cached") throw new Error("usage: server.ts origin|cached")

/** ~1 ms of CPU, as the origin's work. */
const work = () => {
  const until = process.hrtime.bigint() + 1_000_000n
  while (process.hrtime.bigint() < until) {
    // busy: the event loop is held, as real synchronous work holds it
  }
}

/** ~1 KB of JSON: 12 users. */
const render = () =>
  JSON.stringify({
    users: Array.from({ length: 12 }, (_, id) => ({ id, name: `user-${id}`, email: `user-${id}@example.com` }))
  })

const rendered = render()

export const app = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/users",
    Effect.sync(() => {
      work()
      return HttpServerResponse.text(render(), {
        contentType: "application/json",
        headers: { "cache-control": "public, max-age=3600", etag: "\"users-v1\"" }
      })
    })
  ),
  // The floor: the same bytes with no work and no cache headers, what the server itself costs.
  HttpRouter.get("/floor", Effect.sync(() => HttpServerResponse.text(rendered, { contentType: "application/json" })))
)

const announce = Layer.effectDiscard(Effect.flatMap(HttpServer.HttpServer, ({ address }) =>
  Effect.sync(() => {
    if (address._tag === "TcpAddress") process.stdout.write(`${JSON.stringify({ port: address.port })}\n`)
  })))

const served = mode === "cached"
  ? HttpServer.serve(HttpCache.middleware()(app)).pipe(
    Layer.provide(Cache.layer({ namespace: "bench-http" })),
    Layer.provide(MemoryTier.layer())
  )
  : HttpServer.serve(app)

Layer.launch(
  Layer.merge(served, announce).pipe(
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" }))
  )
).pipe(NodeRuntime.runMain)
