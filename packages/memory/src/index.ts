/**
 * @since 0.1.0
 */
export * as MemoryTier from "./MemoryTier.js"
