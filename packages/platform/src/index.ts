/**
 * @since 0.1.0
 */

/**
 * A `CacheTier` over any `@effect/platform` `KeyValueStore`.
 *
 * @since 0.1.0
 */
export * as KeyValueStoreTier from "./KeyValueStoreTier.js"

/**
 * A persistent `CacheTier` of one file per key, for Node.
 *
 * @since 0.1.0
 */
export * as FileSystemTier from "./FileSystemTier.js"

/**
 * HTTP response caching for `@effect/platform` servers (RFC 9111 shared cache; first slice).
 *
 * @since 0.1.0
 */
export * as HttpCache from "./HttpCache.js"
