/**
 * `pnpm --filter @layercake/examples http`: an HTTP API behind
 * `HttpCache.middleware()`, a shared HTTP cache over layercake's tiers —
 * memory, then a directory on disk (survives a restart), then Redis when
 * REDIS_URL is set. Listens on PORT (default 3000); CACHE_DIR is the disk
 * tier's directory (default: `layercake-http` in the OS temp directory).
 *
 *   curl -i localhost:3000/users/1                      # miss: ~20 ms, Cache-Status: ...; stored
 *   curl -i localhost:3000/users/1                      # hit: from memory, Age counts up
 *   curl -i localhost:3000/users/1 -H 'If-None-Match: "user-1-v1"'    # 304 from the cache
 *   curl -i -X PUT localhost:3000/users/1 -d '{"name":"Ada"}'         # invalidates /users/1
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cache, CacheTier } from "@layercake/core"
import { MemoryTier } from "@layercake/memory"
import { FileSystemTier, HttpCache } from "@layercake/platform"
import { RedisConnection, RedisTier } from "@layercake/redis"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"

interface User {
  readonly id: number
  readonly name: string
  /** Counts the renames: the ETag changes with it. */
  readonly version: number
}

/** A pretend database: every read takes 20 ms, which the cache saves. */
export class Users extends Context.Tag("examples/Users")<Users, {
  readonly find: (id: number) => Effect.Effect<Option.Option<User>>
  readonly rename: (id: number, name: string) => Effect.Effect<Option.Option<User>>
}>() {
  static readonly layer = Layer.effect(
    Users,
    Effect.map(
      Ref.make(
        new Map(Array.from({ length: 100 }, (_, i) => [i + 1, { id: i + 1, name: `user-${i + 1}`, version: 1 }]))
      ),
      (rows) => ({
        find: (id) =>
          Effect.zipRight(
            Effect.sleep("20 millis"),
            Effect.map(Ref.get(rows), (all) => Option.fromNullable(all.get(id)))
          ),
        rename: (id, name) =>
          Ref.modify(rows, (all) => {
            const user = all.get(id)
            if (user === undefined) return [Option.none(), all]
            const renamed = { ...user, name, version: user.version + 1 }
            return [Option.some(renamed), new Map(all).set(id, renamed)]
          })
      })
    )
  )
}

const etagOf = (user: User) => `"user-${user.id}-v${user.version}"`

const UserParams = HttpRouter.schemaPathParams(Schema.Struct({ id: Schema.NumberFromString }))
const Rename = Schema.Struct({ name: Schema.NonEmptyTrimmedString })

const notFound = HttpServerResponse.text("no such user", { status: 404 })

/**
 * The API. A response says how shared caches may keep it (`public`, 30 s
 * fresh, then served stale for up to 60 s while the cache refreshes it in the
 * background), carries an ETag (the cache answers `If-None-Match` itself, and
 * revalidates with it) and `Cache-Tag`s (for `Cache.invalidateTags`; the
 * middleware removes the header). A successful `PUT` invalidates its URL in
 * the cache — the middleware does that for every unsafe method.
 */
export const app = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/users/:id",
    Effect.gen(function*() {
      const { id } = yield* UserParams
      const user = yield* Effect.flatMap(Users, (users) => users.find(id))
      if (Option.isNone(user)) return notFound
      const request = yield* HttpServerRequest.HttpServerRequest
      const headers = {
        "cache-control": "public, max-age=30, stale-while-revalidate=60",
        etag: etagOf(user.value),
        "cache-tag": `users user-${id}`
      }
      // Answering the cache's conditional request with a 304 saves sending the body again.
      if (request.headers["if-none-match"] === headers.etag) {
        return HttpServerResponse.empty({ status: 304, headers })
      }
      return yield* HttpServerResponse.json(user.value, { headers })
    }).pipe(Effect.catchTag("ParseError", () => Effect.succeed(notFound)))
  ),
  HttpRouter.put(
    "/users/:id",
    Effect.gen(function*() {
      const { id } = yield* UserParams
      const { name } = yield* HttpServerRequest.schemaBodyJson(Rename)
      const user = yield* Effect.flatMap(Users, (users) => users.rename(id, name))
      if (Option.isNone(user)) return notFound
      return yield* HttpServerResponse.json(user.value, { headers: { etag: etagOf(user.value) } })
    }).pipe(
      Effect.catchTags({
        ParseError: () => Effect.succeed(HttpServerResponse.text("expected {\"name\": string}", { status: 400 })),
        RequestError: () => Effect.succeed(HttpServerResponse.text("could not read the body", { status: 400 }))
      })
    )
  )
)

/** Whether Redis is the third tier (REDIS_URL set). */
const usesRedis = process.env.REDIS_URL !== undefined && process.env.REDIS_URL !== ""

/** Memory, then disk, then (with REDIS_URL) Redis: a hit in a lower tier is promoted to the ones above. */
export const tiers = (directory: string): Layer.Layer<CacheTier.CacheTier> => {
  const memory = MemoryTier.layer({ maxEntries: 10_000 })
  const disk = FileSystemTier.layer({ directory })
  return usesRedis
    ? CacheTier.stack(
      memory,
      disk,
      RedisTier.layer({ keyPrefix: "layercake-http" }).pipe(
        Layer.provide(RedisConnection.layerConfig({ url: Config.redacted("REDIS_URL") })),
        Layer.orDie
      )
    )
    : CacheTier.stack(memory, disk)
}

/** The server on `port` (0: any free port), with its cache; `HttpServer` tells the bound address. */
export const layer = (options: { readonly port: number; readonly directory: string }) =>
  HttpServer.serve(HttpCache.middleware()(app)).pipe(
    Layer.provide(Users.layer),
    Layer.provideMerge(Cache.layer({ namespace: "http-api" })),
    Layer.provide(tiers(options.directory)),
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: options.port }))
  )

const logUrl = Layer.effectDiscard(Effect.gen(function*() {
  const { address } = yield* HttpServer.HttpServer
  const port = address._tag === "TcpAddress" ? address.port : 0
  yield* Effect.log(
    `listening on http://localhost:${port}/users/1 (tiers: memory → disk${usesRedis ? " → redis" : ""})`
  )
}))

const main = Layer.unwrapEffect(Effect.gen(function*() {
  const port = yield* Config.port("PORT").pipe(Config.withDefault(3000))
  const directory = yield* Config.string("CACHE_DIR").pipe(Config.withDefault(join(tmpdir(), "layercake-http")))
  return logUrl.pipe(Layer.provideMerge(layer({ port, directory })))
}))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Layer.launch(main).pipe(NodeRuntime.runMain)
}
