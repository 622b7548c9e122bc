/**
 * The HTTP cache middleware: per request, find the stored response the
 * request selects (the URL's entry, then its variant), use it as its
 * freshness and the request allow, or go to the origin — coalesced per key —
 * and store what RFC 9111 lets a shared cache store.
 *
 * One request's path, read top to bottom in `Exchange`; the pieces it uses
 * (directives, freshness, keys, bodies, what is stored, the options) are the
 * modules of `http/`.
 *
 * @internal
 */
import * as Cookies from "@effect/platform/Cookies"
import * as PlatformHeaders from "@effect/platform/Headers"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cache } from "@layercake/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Api from "../HttpCache.js"
import * as Body from "./http/body.js"
import * as CacheControl from "./http/cacheControl.js"
import * as Freshness from "./http/freshness.js"
import * as Keys from "./http/keys.js"
import { type Settings, settingsOf } from "./http/settings.js"
import * as Stored from "./http/stored.js"

/** Statuses a shared cache stores (RFC 9110 §15.1 heuristically cacheable, plus explicit freshness); no 206: ranges are not cached. */
const STORABLE_STATUS = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501])
/** Origin answers that let `stale-if-error` serve the stored response (RFC 5861 §4). */
const ERROR_STATUS = new Set([500, 502, 503, 504])
const CONDITIONALS = ["if-none-match", "if-modified-since"] as const

type Headers = Readonly<Record<string, string | undefined>>

/** What the origin's answer came to: the response to send, and what goes under the key. */
interface Fetched {
  readonly response: HttpServerResponse.HttpServerResponse
  readonly stored: Stored.Stored
}

const tagsOf = (header: string | undefined): ReadonlyArray<string> =>
  header === undefined ? [] : header.split(/[,\s]+/).filter((tag) => tag !== "")

const withStatus = (response: HttpServerResponse.HttpServerResponse, status: string) =>
  HttpServerResponse.setHeader(response, "cache-status", status)

/** One request through the cache. */
class Exchange<E, R> {
  readonly headers: Headers
  readonly authorized: boolean
  private options: Cache.EntryOptions<Stored.Stored> | undefined

  constructor(
    readonly settings: Settings,
    readonly cache: Cache.Cache,
    readonly request: HttpServerRequest.HttpServerRequest,
    readonly app: HttpApp.Default<E, R>,
    readonly target: Keys.Target
  ) {
    this.headers = request.headers
    this.authorized = request.headers["authorization"] !== undefined
  }

  /** The options of what this exchange stores; made when it stores something (a hit stores nothing). */
  get flightOptions(): Cache.EntryOptions<Stored.Stored> {
    const target = this.target
    return this.options ??= {
      ttl: (stored) => Duration.millis(this.ttlOf(stored)),
      tags: (stored) => stored._tag === "Response" ? [target.tag, ...stored.tags] : [target.tag],
      // HTTP freshness is decided here, not by the layer's defaults
      refreshAfter: Duration.infinity,
      staleWhileRevalidate: 0,
      staleIfError: 0,
      softTimeout: Duration.infinity,
      hardTimeout: Duration.infinity
    }
  }

  status(detail: string): string {
    return `${this.settings.name}; ${detail}`
  }

  ttlOf(stored: Stored.Stored): number {
    if (stored._tag !== "Response") return stored.ttlMs
    const freshness = Stored.freshnessOf(stored, this.now, this.settings.heuristic)
    return Freshness.usefulFor(freshness, this.settings.keepForRevalidation, this.settings.maxTtl)
  }

  now = 0

  get clockNow(): Effect.Effect<number> {
    return Effect.map(Clock.currentTimeMillis, (now) => (this.now = now))
  }

  /** The app, for the request without the client's conditionals (the cache answers those), plus `extra`. */
  origin(extra: Record<string, string> = {}): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R> {
    const headers: Record<string, string> = {}
    for (const name in this.headers) {
      if (!(CONDITIONALS as ReadonlyArray<string>).includes(name)) headers[name] = this.headers[name]!
    }
    Object.assign(headers, extra)
    const request = this.request.modify({ headers: PlatformHeaders.fromInput(headers) })
    return Effect.provideService(this.app, HttpServerRequest.HttpServerRequest, request) as Effect.Effect<
      HttpServerResponse.HttpServerResponse,
      E,
      R
    >
  }

  /** The app for the request as it came, nothing stored. */
  bypass(detail: string): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R> {
    return Effect.map(
      this.app as Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
      (response) => withStatus(response, this.status(detail))
    )
  }

  /** The request's view of the policy: what storability and revalidation need, no other header. */
  policyRequest(fields: ReadonlyArray<string>): Freshness.Request {
    const headers: Record<string, string> = { host: this.target.url.host }
    for (const name of ["cache-control", "pragma", ...fields]) {
      const value = this.headers[name]
      if (value !== undefined) headers[name] = value
    }
    if (this.authorized) headers["authorization"] = "present"
    return { method: "GET", url: this.target.url.pathname + this.target.url.search, headers }
  }

  lookup(
    key: string,
    fields: ReadonlyArray<string> | undefined
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R> {
    return Effect.flatMap(this.cache.get(key, Stored.Stored), (found) => {
      if (Option.isNone(found)) return this.miss(key, fields)
      const stored = found.value
      switch (stored._tag) {
        case "Pass":
          return this.uncoalesced(key, fields, "fwd=bypass; detail=pass")
        case "Vary":
          return fields === undefined
            ? this.lookup(Keys.variantKey(this.target, stored.fields, this.headers), stored.fields)
            : this.bypass("fwd=bypass")
        case "Response":
          return this.use(key, fields, stored)
      }
    })
  }

  miss(key: string, fields: ReadonlyArray<string> | undefined) {
    const fwd = fields === undefined ? "fwd=uri-miss" : "fwd=vary-miss"
    if (this.request.method === "HEAD") return this.bypass(fwd)
    if (CacheControl.parse(this.headers["cache-control"]).has("only-if-cached")) {
      return Effect.succeed(this.gatewayTimeout())
    }
    if (this.authorized) return this.uncoalesced(key, fields, fwd)
    return this.coalesced(`${key}`, this.fetch(key, fields, fwd), (joined) =>
      joined._tag === "Response"
        ? Effect.map(this.clockNow, (now) => this.serve(joined, now, `${fwd}; collapsed`))
        : joined._tag === "Vary" && fields === undefined
        ? this.lookup(Keys.variantKey(this.target, joined.fields, this.headers), joined.fields)
        : this.bypass(`${fwd}; collapsed`), this.flightOptions)
  }

  /**
   * Runs `fetch` as the key's one flight: this request answers with its own
   * response; a request that joined it gets the stored outcome (`onJoined`).
   */
  coalesced(
    flightKey: string,
    fetch: Effect.Effect<Fetched, E, R>,
    onJoined: (stored: Stored.Stored) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
    options: Cache.EntryOptions<Stored.Stored>
  ): Effect.Effect<HttpServerResponse.HttpServerResponse, E, R> {
    let own: HttpServerResponse.HttpServerResponse | undefined
    const compute = Effect.map(fetch, (fetched) => {
      own = fetched.response
      return fetched.stored
    })
    return Effect.flatMap(
      // no ComputeTimeoutError: the flights' hardTimeout is infinite (see `flightOptions`)
      this.cache.getOrCompute(flightKey, Stored.Stored, compute, options) as Effect.Effect<Stored.Stored, E, R>,
      (stored) => own !== undefined ? Effect.succeed(own) : onJoined(stored)
    )
  }

  /** The origin for this request alone (no flight to join), storing what may be stored. */
  uncoalesced(key: string, fields: ReadonlyArray<string> | undefined, fwd: string) {
    return Effect.flatMap(this.fetch(key, fields, fwd), (fetched) =>
      fetched.stored._tag === "Pass"
        ? Effect.succeed(fetched.response)
        : Effect.as(this.put(key, fetched.stored), fetched.response))
  }

  put(key: string, stored: Stored.Stored): Effect.Effect<void> {
    const ttl = this.ttlOf(stored)
    if (ttl <= 0) return Effect.void
    return Effect.ignore(this.cache.set(key, Stored.Stored, stored, this.flightOptions))
  }

  gatewayTimeout() {
    return HttpServerResponse.empty({
      status: 504,
      headers: { "cache-status": this.status("fwd=miss; detail=only-if-cached") }
    })
  }

  serve(stored: Stored.Response, now: number, detail: string) {
    return Stored.serve(stored, now, this.headers, this.settings.heuristic, { "cache-status": this.status(detail) })
  }

  /** Asks the origin (with `conditional` headers when revalidating), then `admit`s its answer. */
  fetch(key: string, fields: ReadonlyArray<string> | undefined, fwd: string, conditional?: Record<string, string>) {
    return Effect.flatMap(
      this.origin(conditional),
      (response) => Effect.flatMap(this.clockNow, (now) => this.admit(key, fields, response, now, fwd))
    )
  }

  /**
   * Decides whether the origin's response is stored and where: under `key`
   * (returned as `stored`), or under the variant its `Vary` selects (written
   * here, with the URL's entry naming the `Vary` headers).
   */
  admit(
    key: string,
    fields: ReadonlyArray<string> | undefined,
    response: HttpServerResponse.HttpServerResponse,
    now: number,
    fwd: string
  ): Effect.Effect<Fetched> {
    const settings = this.settings
    const notStored = (sent: HttpServerResponse.HttpServerResponse, ttlMs: number): Fetched => {
      const answered = response.status === 200 && Stored.notModified(this.headers, sent.headers)
        ? Stored.notModifiedResponse(sent.headers, {})
        : sent
      return {
        response: withStatus(answered, this.status(`${fwd}; fwd-status=${response.status}`)),
        stored: Stored.pass(ttlMs)
      }
    }
    const hasCookies = !Cookies.isEmpty(response.cookies) || response.headers["set-cookie"] !== undefined
    if (hasCookies && !settings.storeSetCookie) return Effect.succeed(notStored(response, settings.passTtl))
    if (!STORABLE_STATUS.has(response.status)) return Effect.succeed(notStored(response, settings.passTtl))
    return Effect.flatMap(Effect.either(Body.buffer(response.body, settings.maxBodyBytes)), (buffered) => {
      if (Either.isLeft(buffered)) {
        return Effect.succeed(notStored(HttpServerResponse.empty({ status: 502 }), 0))
      }
      if (buffered.right._tag === "PassThrough") {
        return Effect.succeed(notStored(HttpServerResponse.setBody(response, buffered.right.body), settings.passTtl))
      }
      const { bytes, contentType } = buffered.right
      const sent = response.body._tag === "Stream"
        ? HttpServerResponse.setBody(response, HttpBody.uint8Array(bytes, contentType))
        : response
      const { "set-cookie": setCookieHeader, ...headers }: Record<string, string> = response.headers
      const tags = tagsOf(settings.tagHeader && headers[settings.tagHeader])
      if (settings.tagHeader !== undefined) delete headers[settings.tagHeader]
      if (contentType !== undefined) headers["content-type"] = contentType
      if (settings.generateEtag && headers["etag"] === undefined) headers["etag"] = Body.weakEtag(bytes)
      const responseFields = Keys.varyOf(headers["vary"])
      const policy = Freshness.make(
        this.policyRequest(responseFields),
        { status: response.status, headers },
        now
      )
      if (responseFields.includes("*") || !policy.storable()) return Effect.succeed(notStored(sent, settings.passTtl))
      const freshness = Freshness.freshnessOf(policy, now, settings.heuristic)
      const ttl = Freshness.usefulFor(freshness, settings.keepForRevalidation, settings.maxTtl)
      if (ttl <= 0 || (freshness.noCache && !freshness.hasValidator)) {
        return Effect.succeed(notStored(sent, settings.passTtl))
      }
      const setCookies = hasCookies
        ? [...Cookies.toSetCookieHeaders(response.cookies), ...(setCookieHeader === undefined ? [] : [setCookieHeader])]
        : []
      const stored = Stored.response(
        policy,
        bytes,
        setCookies,
        tags
      )
      const served = this.serve(stored, now, `${fwd}; fwd-status=${response.status}; stored`)
      return Effect.map(
        this.placement(key, fields, responseFields, stored, ttl),
        (placed): Fetched => ({ response: served, stored: placed })
      )
    })
  }

  /** Where a storable response goes; writes the entries other than `key`'s and returns `key`'s. */
  placement(
    key: string,
    fields: ReadonlyArray<string> | undefined,
    responseFields: ReadonlyArray<string>,
    stored: Stored.Response,
    ttl: number
  ): Effect.Effect<Stored.Stored> {
    const primary = this.target.key
    const wanted = responseFields.length === 0 ? primary : Keys.variantKey(this.target, responseFields, this.headers)
    if (wanted === key && (fields === undefined) === (responseFields.length === 0)) return Effect.succeed(stored)
    const index = Stored.vary(responseFields, ttl)
    const writes = [this.put(wanted, stored)]
    if (responseFields.length > 0 && key !== primary) writes.push(this.put(primary, index))
    return Effect.as(
      Effect.all(writes, { discard: true }),
      key === primary && responseFields.length > 0 ? index : Stored.pass(0)
    )
  }

  /** Uses a stored response as its freshness and the request allow. */
  use(key: string, fields: ReadonlyArray<string> | undefined, stored: Stored.Response) {
    return Effect.flatMap(this.clockNow, (now) => {
      const policy = Stored.policyOf(stored)
      if (this.authorized && !allowsAuthenticated(policy)) {
        return this.uncoalesced(key, fields, "fwd=bypass; detail=authorization")
      }
      const freshness = Stored.freshnessOf(stored, now, this.settings.heuristic)
      const decision = Freshness.use(freshness, this.headers)
      const ttl = Math.round(freshness.lifetime - freshness.age)
      switch (decision._tag) {
        case "Fresh":
          return Effect.succeed(this.serve(stored, now, `hit; ttl=${ttl}`))
        case "StaleWhileRevalidate":
          return Effect.as(
            this.cache.refresh(
              key,
              Stored.Stored,
              Effect.map(this.revalidate(key, fields, stored, false, false), (fetched) => fetched.stored),
              this.flightOptions
            ),
            this.serve(stored, now, `hit; ttl=${ttl}; detail=stale-while-revalidate`)
          )
        case "Revalidate": {
          if (CacheControl.parse(this.headers["cache-control"]).has("only-if-cached")) {
            return Effect.succeed(this.gatewayTimeout())
          }
          if (this.request.method === "HEAD") return this.bypass("fwd=stale")
          return this.coalesced(
            `${key}@revalidation`,
            this.revalidate(key, fields, stored, decision.staleIfError, true),
            (joined) =>
              joined._tag === "Response"
                ? Effect.map(this.clockNow, (now) => this.serve(joined, now, "fwd=stale; collapsed"))
                : this.bypass("fwd=stale; collapsed"),
            { ...this.flightOptions, ttl: () => Duration.zero }
          )
        }
      }
    })
  }

  /**
   * A conditional request for the stored response: the origin's 304 renews
   * it (headers merged); another answer replaces it; an error or 5xx within
   * `stale-if-error` serves it as it is. With `write` the outcome is
   * written here (a flight that stores nothing), unless the entry was
   * invalidated meanwhile; without, the caller's flight stores it.
   */
  revalidate(
    key: string,
    fields: ReadonlyArray<string> | undefined,
    stored: Stored.Response,
    staleIfError: boolean,
    write: boolean
  ): Effect.Effect<Fetched, E, R> {
    const keep = (fetched: Fetched) =>
      write ? this.keepIfCurrent(key, fetched.stored, fetched) : Effect.succeed(fetched)
    const policy = Stored.policyOf(stored)
    const policyRequest = this.policyRequest(Keys.varyOf(Freshness.headersOf(policy)["vary"]))
    const validators = Freshness.at(this.now, () => policy.revalidationHeaders(policyRequest))
    const conditional: Record<string, string> = {}
    for (const name of CONDITIONALS) if (validators[name] !== undefined) conditional[name] = validators[name] as string
    const stale = (detail: string): Fetched => ({ response: this.serve(stored, this.now, detail), stored })
    return Effect.flatMap(
      Effect.either(this.origin(conditional)),
      (answer) =>
        Effect.flatMap(this.clockNow, (now): Effect.Effect<Fetched, E, R> => {
          if (Either.isLeft(answer)) {
            return staleIfError ? Effect.succeed(stale("fwd=stale; detail=stale-if-error")) : Effect.fail(answer.left)
          }
          const response = answer.right
          if (staleIfError && ERROR_STATUS.has(response.status)) {
            return Effect.succeed(stale(`fwd=stale; fwd-status=${response.status}; detail=stale-if-error`))
          }
          if (response.status === 304) {
            const merged = Freshness.at(
              now,
              () => policy.revalidatedPolicy(policyRequest, { status: 304, headers: { ...response.headers } })
            )
            if (merged.matches || !merged.modified) {
              const renewedPolicy = Freshness.withNewHeaders(merged.policy, { ...response.headers })
              const renewed = Stored.response(renewedPolicy, stored.body, stored.setCookies, stored.tags)
              return keep({ response: this.serve(renewed, now, "fwd=stale; fwd-status=304; stored"), stored: renewed })
            }
            return Effect.flatMap(this.fetch(key, fields, "fwd=stale"), keep)
          }
          return Effect.flatMap(this.admit(key, fields, response, now, "fwd=stale"), keep)
        })
    )
  }

  /** Writes a revalidation's outcome unless the entry it revalidated was invalidated while it ran. */
  keepIfCurrent(key: string, stored: Stored.Stored, fetched: Fetched): Effect.Effect<Fetched> {
    return Effect.flatMap(
      this.cache.get(key, Stored.Stored),
      (current) => Option.isNone(current) ? Effect.succeed(fetched) : Effect.as(this.put(key, stored), fetched)
    )
  }
}

/** RFC 9111 §3.5: a response to an authorized request is shared only with `public`, `s-maxage` or `must-revalidate`. */
const allowsAuthenticated = (policy: Freshness.Policy): boolean => {
  const directives = CacheControl.parse(Freshness.headersOf(policy)["cache-control"])
  return directives.has("public") || directives.has("s-maxage") || directives.has("must-revalidate")
}

const UNSAFE_EXEMPT = new Set(["GET", "HEAD", "OPTIONS", "TRACE"])

/** @internal */
export const middleware = (options: Api.Options = {}) => {
  const settings = settingsOf(options)
  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R | Cache.Cache> =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const cache = yield* Cache.Cache
      const url = Keys.urlOf(request)
      if (url === undefined) return yield* app
      if (request.method !== "GET" && request.method !== "HEAD") {
        const response = yield* app
        if (UNSAFE_EXEMPT.has(request.method) || response.status < 200 || response.status >= 400) return response
        const targets = Keys.invalidatedBy(settings.keyPrefix, url, response.headers)
        yield* cache.invalidateTags(targets.map((target) => target.tag))
        return withStatus(response, `${settings.name}; fwd=method`)
      }
      const exchange = new Exchange(settings, cache, request, app, Keys.target(settings.keyPrefix, url))
      if (
        CacheControl.parse(request.headers["cache-control"]).has("no-store") || request.headers["range"] !== undefined
      ) {
        return yield* exchange.bypass("fwd=request")
      }
      return yield* exchange.lookup(exchange.target.key, undefined)
    })
}
