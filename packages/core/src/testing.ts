/**
 * Test kit for code that uses layercake: an in-memory stand-in for a shared
 * tier (Redis) and a tier that fails or stalls on command.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as SharedTier from "./testing/SharedTier.js"

/**
 * @since 0.1.0
 */
export * as FaultyTier from "./testing/FaultyTier.js"

/**
 * @since 0.1.0
 */
export * as LocalTier from "./testing/LocalTier.js"

/**
 * @since 0.1.0
 */
export * as TestHelpers from "./testing/TestHelpers.js"
