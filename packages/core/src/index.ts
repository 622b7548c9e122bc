/**
 * @since 0.1.0
 */
export * as Cache from "./Cache.js"

/**
 * @since 0.1.0
 */
export * as CacheTier from "./CacheTier.js"

/**
 * @since 0.1.0
 */
export * as InvalidationBus from "./InvalidationBus.js"

/**
 * @since 0.1.0
 */
export * as Validate from "./Validate.js"

/**
 * @since 0.1.0
 */
export * as DistributedLock from "./DistributedLock.js"

/**
 * @since 0.1.0
 */
export * as CachedRequestResolver from "./CachedRequestResolver.js"

/**
 * @since 0.1.0
 */
export * as CircuitBreaker from "./CircuitBreaker.js"
