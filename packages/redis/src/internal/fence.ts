/**
 * Fenced writes: no write of a compute that started before an invalidation of
 * its key can land after it, whatever the instances' clocks say.
 *
 * Order comes from the clock of the Redis server that holds the key (`TIME`,
 * in microseconds), never from an instance's clock. Before a compute starts,
 * the `Cache` takes a fence point for its key (`now`, below). Every
 * invalidation of a key (a delete, a `set`, a clear) records its server time
 * in the key's fence key, which lives for the fence window. A compute's write
 * lands only if no invalidation was recorded at or after its fence point, and
 * only within the window (past it the record may be gone, so the write is not
 * trusted).
 *
 * On Cluster the fence key carries a hash tag chosen to fall in the value
 * key's slot, so each script touches one slot. A clear is fenced through a
 * marker of the namespace, read by the write script on a single server; on
 * Cluster a clear is not fenced (a marker per slot would cost 16 384 writes).
 *
 * @internal
 */
import { type Script, script } from "./scripts.js"
import { slotOf, tagOfSlot } from "./slot.js"

/** Lua: the server's time in µs, as a number and as exact text (a number argument would be rounded to 14 digits). */
const serverTime = `local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local nowText = string.format('%.0f', now)`

/** The server's time in microseconds, on the node of KEYS[1]. @internal */
export const now: Script = script(`${serverTime}
return now`)

/**
 * A compute's write, stamped (the envelope's last 8 bytes) with its fence
 * point. Refused when the key was invalidated at or after that point, and
 * when the value there now comes from a compute (or a `set`) that started
 * at or after it: an older compute (a holder paused past its lease) never
 * overwrites a newer one. KEYS: value, fence. ARGV: bytes, px, fence point (µs),
 * window (µs), clear marker key or "". Reply 1 when written, 0 when fenced off.
 * @internal
 */
export const write: Script = script(`${serverTime}
local basis = tonumber(ARGV[3])
if now - basis > tonumber(ARGV[4]) then return 0 end
local fenced = tonumber(redis.call('GET', KEYS[2]) or '')
if fenced and fenced >= basis then return 0 end
if ARGV[5] ~= '' then
  local cleared = tonumber(redis.call('GET', ARGV[5]) or '')
  if cleared and cleared >= basis then return 0 end
end
local current = redis.pcall('GET', KEYS[1])
if type(current) == 'string' and #current >= 42 and string.sub(current, 1, 3) == string.sub(ARGV[1], 1, 3) then
  if struct.unpack('>d', current, #current - 7) >= basis then return 0 end
end
redis.call('SET', KEYS[1], string.sub(ARGV[1], 1, -9) .. struct.pack('>d', basis), 'PX', ARGV[2])
return 1`)

/** A `set`: written whatever runs, and recorded as an invalidation. KEYS: value, fence. ARGV: bytes, px, window (ms). @internal */
export const set: Script = script(`${serverTime}
redis.call('SET', KEYS[1], string.sub(ARGV[1], 1, -9) .. struct.pack('>d', now), 'PX', ARGV[2])
redis.call('SET', KEYS[2], nowText, 'PX', ARGV[3])
return 1`)

/** A delete, recorded as an invalidation. KEYS: value, fence. ARGV: window (ms). @internal */
export const drop: Script = script(`${serverTime}
redis.call('UNLINK', KEYS[1])
redis.call('SET', KEYS[2], nowText, 'PX', ARGV[1])
return 1`)

/** Records a clear of a namespace prefix. KEYS: the marker. ARGV: window (ms). @internal */
export const clear: Script = script(`${serverTime}
redis.call('SET', KEYS[1], nowText, 'PX', ARGV[1])
return 1`)

/** @internal */
export interface Keys {
  readonly fenceOf: (redisKey: string) => string
  /** The clear marker a write of `tierKey` checks, or "" (Cluster). */
  readonly clearMarkerOf: (tierKey: string) => string
  /** The clear marker of a prefix, or `undefined` on Cluster. */
  readonly clearMarker: (prefix: string) => string | undefined
}

/** @internal */
export const keys = (keyPrefix: string, cluster: boolean): Keys => {
  const fencePrefix = `${keyPrefix}~fence:`
  const clearPrefix = `${keyPrefix}~clear:`
  return {
    fenceOf: cluster
      ? (redisKey) => `${fencePrefix}{${tagOfSlot(slotOf(redisKey))}}${redisKey}`
      : (redisKey) => fencePrefix + redisKey,
    clearMarkerOf: cluster ? () => "" : (tierKey) => {
      const colon = tierKey.indexOf(":")
      return colon === -1 ? "" : clearPrefix + tierKey.slice(0, colon + 1)
    },
    clearMarker: (prefix) => cluster ? undefined : clearPrefix + prefix
  }
}
