import * as Cookies from "@effect/platform/Cookies"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cache } from "@layercake/core"
import { Clock, Duration, Effect, Schema } from "effect"
import CachePolicy from "http-cache-semantics"

/** @internal */
export const StoredResponse = Schema.Struct({
  status: Schema.Number,
  headers: Schema.Record({ key: Schema.String, value: Schema.String }),
  body: Schema.Uint8ArrayFromBase64,
  storedAt: Schema.Number,
  ttlMs: Schema.Number,
  stored: Schema.Boolean
})
type StoredResponse = typeof StoredResponse.Type

const keyOf = (request: HttpServerRequest.HttpServerRequest): string => {
  const host = request.headers["host"] ?? "localhost"
  const url = new URL(request.url, `http://${host}`)
  return `GET ${url.protocol}//${url.host}${url.pathname}${url.search}`
}

const bodyBytes = (response: HttpServerResponse.HttpServerResponse): Uint8Array | undefined => {
  switch (response.body._tag) {
    case "Empty":
      return new Uint8Array(0)
    case "Uint8Array":
      return response.body.body
    default:
      return undefined
  }
}

const policyRequest = (request: HttpServerRequest.HttpServerRequest, now: number) => ({
  method: "GET",
  url: request.url,
  headers: { ...request.headers, date: new Date(now).toUTCString() }
})

const etagMatches = (ifNoneMatch: string, etag: string): boolean => {
  const weak = (tag: string) => tag.trim().replace(/^W\//, "")
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || weak(tag) === weak(etag))
}

const serve = (
  request: HttpServerRequest.HttpServerRequest,
  entry: StoredResponse,
  status: string,
  now: number
): HttpServerResponse.HttpServerResponse => {
  const initialAge = Number(entry.headers["age"] ?? 0) || 0
  const age = Math.max(0, Math.floor(initialAge + (now - entry.storedAt) / 1000))
  const headers: Record<string, string> = { ...entry.headers, age: String(age), "cache-status": status }
  const inm = request.headers["if-none-match"]
  if (inm !== undefined && entry.headers["etag"] !== undefined && etagMatches(inm, entry.headers["etag"])) {
    return HttpServerResponse.empty({ status: 304, headers })
  }
  const { "content-length": _cl, "content-type": contentType, ...rest } = headers
  return HttpServerResponse.uint8Array(request.method === "HEAD" ? new Uint8Array(0) : entry.body, {
    status: entry.status,
    headers: rest,
    ...(contentType !== undefined ? { contentType } : {})
  })
}

/** @internal */
export const middleware = <E, R>(
  app: HttpApp.Default<E, R>
): HttpApp.Default<E, R | Cache.Cache | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const cache = yield* Cache.Cache
    const key = keyOf(request)
    if (request.method !== "GET" && request.method !== "HEAD") {
      const response = yield* app
      if (response.status >= 200 && response.status < 400) yield* cache.invalidate(key)
      return response
    }
    const origin = Effect.gen(function*() {
      const response = yield* app
      const now = yield* Clock.currentTimeMillis
      const headers: Record<string, string> = { ...response.headers }
      if (!Cookies.isEmpty(response.cookies)) headers["set-cookie"] = "1"
      const policy = new CachePolicy(policyRequest(request, now), {
        status: response.status,
        headers: { date: new Date(now).toUTCString(), ...headers }
      }, { shared: true })
      const body = bodyBytes(response)
      const contentType = response.body._tag === "Uint8Array" ? response.body.contentType : undefined
      if (contentType !== undefined) headers["content-type"] = contentType
      const storable = body !== undefined && policy.storable() && Cookies.isEmpty(response.cookies)
      const ttlMs = storable && !policy.responseHeaders()["cache-control"]?.includes("no-cache")
        ? policy.timeToLive()
        : 0
      return {
        response,
        entry: {
          status: response.status,
          headers,
          body: body ?? new Uint8Array(0),
          storedAt: now,
          ttlMs,
          stored: ttlMs > 0
        }
      }
    })
    let fromOrigin: HttpServerResponse.HttpServerResponse | undefined
    const entry = yield* cache.getOrCompute(
      key,
      StoredResponse,
      Effect.map(origin, (r) => {
        fromOrigin = r.response
        return r.entry
      }),
      { ttl: (e: StoredResponse) => Duration.millis(e.ttlMs) }
    )
    const now = yield* Clock.currentTimeMillis
    if (fromOrigin !== undefined && !entry.stored) {
      return HttpServerResponse.setHeader(fromOrigin, "cache-status", "layercake; fwd=uri-miss")
    }
    return serve(request, entry, fromOrigin !== undefined ? "layercake; fwd=uri-miss; stored" : "layercake; hit", now)
  }) as any
