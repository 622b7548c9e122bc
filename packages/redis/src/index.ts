/**
 * @since 0.1.0
 */
export * as RedisConnection from "./RedisConnection.js"

/**
 * @since 0.1.0
 */
export * as RedisTier from "./RedisTier.js"

/**
 * @since 0.1.0
 */
export * as RedisBus from "./RedisBus.js"

/**
 * @since 0.1.0
 */
export * as RedisLock from "./RedisLock.js"

/**
 * @since 0.1.0
 */
export * as RedisStreams from "./RedisStreams.js"
