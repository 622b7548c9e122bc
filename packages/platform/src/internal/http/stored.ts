/**
 * What the cache keeps under an HTTP key, and how a kept response is served.
 *
 * @internal
 */
import * as Cookies from "@effect/platform/Cookies"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Schema from "effect/Schema"
import * as Dates from "./dates.js"
import * as Freshness from "./freshness.js"

/** A stored response: its policy (`http-cache-semantics`' serialised form, headers included) and its body. */
const Response = Schema.TaggedStruct("Response", {
  policy: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  body: Schema.Uint8ArrayFromBase64,
  /** `Set-Cookie` lines, kept only with `storeSetCookie`. */
  setCookies: Schema.Array(Schema.String),
  tags: Schema.Array(Schema.String)
})

/** @internal */
export type Response = typeof Response.Type

/** Under the URL's key when its responses vary: the request headers that select a variant. */
const Vary = Schema.TaggedStruct("Vary", { fields: Schema.Array(Schema.String), ttlMs: Schema.Number })

/** The URL's response could not be stored: fetch it without waiting for others ("hit-for-pass"). */
const Pass = Schema.TaggedStruct("Pass", { ttlMs: Schema.Number })

/** @internal */
export const Stored = Schema.Union(Response, Vary, Pass)

/** @internal */
export type Stored = typeof Stored.Type

/** @internal */
export const response = (
  policy: Freshness.Policy,
  body: Uint8Array,
  setCookies: ReadonlyArray<string>,
  tags: ReadonlyArray<string>
): Response => ({ _tag: "Response", policy: Freshness.toObject(policy), body, setCookies, tags })

/** @internal */
export const pass = (ttlMs: number): Stored => ({ _tag: "Pass", ttlMs })

/** @internal */
export const vary = (fields: ReadonlyArray<string>, ttlMs: number): Stored => ({ _tag: "Vary", fields, ttlMs })

/** What serving a stored response needs, worked out once per stored object (its policy revived, its headers cleaned). */
interface Prepared {
  readonly policy: Freshness.Policy
  readonly status: number
  readonly contentType: string | undefined
  /** The headers served, without hop-by-hop ones and those the platform sets; `Age` and `Cache-Status` added per answer. */
  readonly headers: Readonly<Record<string, string>>
  readonly heuristic: number
  readonly rules: Freshness.Rules
}

const prepared = new WeakMap<Response, Prepared>()

const prepare = (stored: Response, heuristic: number): Prepared => {
  let ready = prepared.get(stored)
  if (ready === undefined || ready.heuristic !== heuristic) {
    const policy = ready?.policy ?? Freshness.fromObject(stored.policy)
    const current = Freshness.at(0, () => policy.responseHeaders()) as Record<string, string>
    const original = Freshness.headersOf(policy)
    const headers: Record<string, string> = {}
    for (const name in current) {
      if (!NOT_REPLAYED.has(name) && name !== "age" && name !== "date") headers[name] = current[name]
    }
    if (original["date"] !== undefined) headers["date"] = original["date"]
    ready = {
      policy,
      status: Freshness.statusOf(policy),
      contentType: original["content-type"],
      headers,
      heuristic,
      rules: Freshness.rulesOf(policy, heuristic)
    }
    prepared.set(stored, ready)
  }
  return ready
}

/** The stored response's policy, revived once per stored object. @internal */
export const policyOf = (stored: Response): Freshness.Policy => prepare(stored, 0).policy

/** The stored response's freshness at `now`. @internal */
export const freshnessOf = (stored: Response, now: number, heuristic: number): Freshness.Freshness =>
  Freshness.freshnessAt(prepare(stored, heuristic).rules, now)

/** Headers a cache adds or the platform sets itself: never replayed from the store. */
const NOT_REPLAYED = new Set(["content-length", "content-type", "set-cookie", "transfer-encoding"])

/** Headers a 304 carries (RFC 9110 §15.4.5). */
const NOT_MODIFIED_HEADERS = ["cache-control", "content-location", "date", "etag", "expires", "vary", "age"]

const weakEqual = (a: string, b: string): boolean => a.replace(/^W\//, "") === b.replace(/^W\//, "")

/**
 * Whether the client's conditional headers match the representation
 * (RFC 9110 §13.1.2 weak comparison for `If-None-Match`; `If-Modified-Since`
 * only without it).
 * @internal
 */
export const notModified = (
  requestHeaders: Readonly<Record<string, string | undefined>>,
  headers: Readonly<Record<string, string | undefined>>
): boolean => {
  const ifNoneMatch = requestHeaders["if-none-match"]
  if (ifNoneMatch !== undefined) {
    const etag = headers["etag"]
    if (etag === undefined) return false
    return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || weakEqual(tag.trim(), etag.trim()))
  }
  const ifModifiedSince = Dates.parse(requestHeaders["if-modified-since"])
  const lastModified = Dates.parse(headers["last-modified"] ?? headers["date"])
  return ifModifiedSince !== undefined && lastModified !== undefined && lastModified <= ifModifiedSince
}

/** A 304 for `headers` (the ones RFC 9110 asks for). @internal */
export const notModifiedResponse = (
  headers: Readonly<Record<string, string | undefined>>,
  extra: Record<string, string>
): HttpServerResponse.HttpServerResponse => {
  const kept: Record<string, string> = {}
  for (const name of NOT_MODIFIED_HEADERS) {
    const value = headers[name]
    if (value !== undefined) kept[name] = value
  }
  return HttpServerResponse.empty({ status: 304, headers: { ...kept, ...extra } })
}

/**
 * The stored response as served at `now`: its headers without hop-by-hop
 * ones, `Age` brought up to date, and `extra` (e.g. `Cache-Status`) added; a
 * 304 when the request's conditionals match.
 * @internal
 */
export const serve = (
  stored: Response,
  now: number,
  requestHeaders: Readonly<Record<string, string | undefined>>,
  heuristic: number,
  extra: Record<string, string>
): HttpServerResponse.HttpServerResponse => {
  const ready = prepare(stored, heuristic)
  const headers: Record<string, string> = { ...ready.headers, ...extra }
  headers["age"] = String(Math.max(0, Math.round(Freshness.freshnessAt(ready.rules, now).age)))
  if (notModified(requestHeaders, headers)) return notModifiedResponse(headers, extra)
  const served = ready.contentType === undefined && stored.body.length === 0
    ? HttpServerResponse.empty({ status: ready.status, headers })
    : ready.contentType === undefined
    ? HttpServerResponse.uint8Array(stored.body, { status: ready.status, headers })
    : HttpServerResponse.uint8Array(stored.body, { status: ready.status, headers, contentType: ready.contentType })
  return stored.setCookies.length === 0
    ? served
    : HttpServerResponse.mergeCookies(served, Cookies.fromSetCookie(stored.setCookies))
}
