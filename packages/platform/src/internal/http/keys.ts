/**
 * Cache keys of HTTP responses: one per URL (scheme, host, path, query), and
 * under it one per variant when the response names `Vary` headers.
 *
 * @internal
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"

/** @internal */
export interface Target {
  /** The absolute URL, as the cache sees it. */
  readonly url: URL
  /** `scheme://host/path?query`: what identifies the resource. */
  readonly resource: string
  /** The key of the URL's entry (a response, or the list of `Vary` headers). */
  readonly key: string
  /** The tag every entry of the URL carries, for invalidation. */
  readonly tag: string
}

const resourceOf = (url: URL): string => `${url.protocol}//${url.host}${url.pathname}${url.search}`

/** @internal */
export const target = (keyPrefix: string, url: URL): Target => {
  const resource = resourceOf(url)
  return { url, resource, key: `${keyPrefix}:${resource}`, tag: `${keyPrefix}:url:${resource}` }
}

/** The absolute URL of the request: `Host` and `X-Forwarded-Proto` over its path. @internal */
export const urlOf = (request: HttpServerRequest.HttpServerRequest): URL | undefined => {
  const host = request.headers["host"] ?? "localhost"
  const scheme = request.headers["x-forwarded-proto"] === "https" ? "https" : "http"
  try {
    return new URL(request.url, `${scheme}://${host}`)
  } catch {
    return undefined
  }
}

/** `Vary` as a list of lower-case header names; `["*"]` for `Vary: *`. @internal */
export const varyOf = (vary: string | undefined): ReadonlyArray<string> =>
  vary === undefined
    ? []
    : [...new Set(vary.toLowerCase().split(",").map((name) => name.trim()).filter((name) => name !== ""))].sort()

/** A header value as `Vary` compares it: trimmed, inner whitespace collapsed. */
const normalized = (value: string): string => value.trim().replace(/\s+/g, " ")

/** The key of the variant the request selects. @internal */
export const variantKey = (
  target: Target,
  fields: ReadonlyArray<string>,
  headers: Readonly<Record<string, string | undefined>>
): string =>
  `${target.key}#${
    fields.map((name) => {
      const value = headers[name]
      return value === undefined ? name : `${name}=${encodeURIComponent(normalized(value))}`
    }).join("&")
  }`

/**
 * The URLs an unsafe method's success invalidates (RFC 9111 §4.4): its own,
 * and `Location` / `Content-Location` when they name the same host.
 * @internal
 */
export const invalidatedBy = (
  keyPrefix: string,
  url: URL,
  headers: Readonly<Record<string, string | undefined>>
): ReadonlyArray<Target> => {
  const targets = [target(keyPrefix, url)]
  for (const name of ["location", "content-location"]) {
    const value = headers[name]
    if (value === undefined) continue
    try {
      const other = new URL(value, url)
      if (other.host === url.host && other.protocol === url.protocol) targets.push(target(keyPrefix, other))
    } catch {
      // a malformed URL invalidates nothing
    }
  }
  return targets
}
