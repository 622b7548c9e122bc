/**
 * `pnpm --filter @layercake/examples prometheus`: the cache's metrics for a
 * Prometheus scrape, at `GET /metrics` on PORT (default 9464), beside a small
 * API whose reads go through the cache. The tiers are memory over the
 * in-process `SharedTier`, or over Redis when REDIS_URL is set.
 *
 *   curl localhost:9464/users/1     # a miss, then hits
 *   curl localhost:9464/metrics     # layercake_hits_total{namespace="prometheus-example"} ...
 *
 * A Prometheus job for it:
 *
 *   scrape_configs:
 *     - job_name: layercake
 *       static_configs: [{ targets: ["localhost:9464"] }]
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cache } from "@layercake/core"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Schema from "effect/Schema"
import { createServer } from "node:http"
import { pathToFileURL } from "node:url"
import * as PrometheusText from "./prometheusText.js"
import { tiers, usesRedis } from "./tiers.js"

const User = Schema.Struct({ id: Schema.Number, name: Schema.String })
const UserParams = HttpRouter.schemaPathParams(Schema.Struct({ id: Schema.NumberFromString }))

/**
 * `GET /metrics`: every Effect metric of the process in the Prometheus text
 * format. It reads the cache's `stats` first, which feeds the counters
 * gained since the last feed (they are fed every second anyway) into the
 * metrics, so a scrape sees every operation made before it.
 */
export const metricsRoute = HttpRouter.get(
  "/metrics",
  Effect.gen(function*() {
    const cache = yield* Cache.Cache
    yield* cache.stats
    const snapshot = yield* Metric.snapshot
    return HttpServerResponse.text(PrometheusText.render(snapshot), { contentType: PrometheusText.contentType })
  })
)

/** `GET /users/:id`: a pretend database read (20 ms) behind `Cache.getOrCompute`. */
const usersRoute = HttpRouter.get(
  "/users/:id",
  Effect.gen(function*() {
    const { id } = yield* UserParams
    const cache = yield* Cache.Cache
    const user = yield* cache.getOrCompute(
      `user:${id}`,
      User,
      Effect.as(Effect.sleep("20 millis"), { id, name: `user-${id}` }),
      { ttl: "30 seconds" }
    )
    return yield* HttpServerResponse.json(user)
  }).pipe(Effect.catchTag("ParseError", () => Effect.succeed(HttpServerResponse.text("bad id", { status: 400 }))))
)

export const app = HttpRouter.empty.pipe(metricsRoute, usersRoute)

/** The server on `port` (0: any free port) with its cache; `HttpServer` tells the bound address. */
export const layer = (options: { readonly port: number; readonly namespace?: string | undefined }) =>
  HttpServer.serve(app).pipe(
    Layer.provideMerge(Cache.layer({ namespace: options.namespace ?? "prometheus-example" })),
    Layer.provide(tiers),
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: options.port }))
  )

const logUrl = Layer.effectDiscard(Effect.gen(function*() {
  const { address } = yield* HttpServer.HttpServer
  const port = address._tag === "TcpAddress" ? address.port : 0
  yield* Effect.log(
    `scrape http://localhost:${port}/metrics; read through the cache at http://localhost:${port}/users/1 (tiers: memory → ${
      usesRedis ? "redis" : "shared (in-process)"
    })`
  )
}))

const main = Layer.unwrapEffect(
  Effect.map(
    Config.port("PORT").pipe(Config.withDefault(9464)),
    (port) => logUrl.pipe(Layer.provideMerge(layer({ port })))
  )
)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Layer.launch(main).pipe(NodeRuntime.runMain)
}
