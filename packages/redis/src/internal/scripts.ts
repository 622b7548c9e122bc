/**
 * Lua scripts, run with EVALSHA (falling back to EVAL after a restart or a
 * failover lost the script cache).
 *
 * @internal
 */
import { createHash } from "node:crypto"
import { VERSION } from "./envelope.js"

/** @internal */
export interface Script {
  readonly lua: string
  readonly sha: string
}

/** @internal */
export const script = (lua: string): Script => ({ lua, sha: createHash("sha1").update(lua).digest("hex") })

/**
 * Lua: the newest invalidation time (the raw string) of the tags listed in
 * envelope `v`, or false. Any value that is not a well-formed envelope of
 * this format version gives false; the client reports it. Tag keys holding another type
 * are ignored.
 */
const newestTagTime = String.raw`
local function newest(v, prefix)
  local n = #v
  if n < 34 or string.sub(v, 1, 3) ~= string.char(76, 67, ${VERSION}) then return false end
  local b1, b2, b3, b4 = string.byte(v, 29, 32)
  local p = 33 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if p + 1 > n then return false end
  local c1, c2 = string.byte(v, p, p + 1)
  local count = c1 * 256 + c2
  p = p + 2
  local best, bestRaw = nil, false
  for _ = 1, count do
    if p + 1 > n then return false end
    local l1, l2 = string.byte(v, p, p + 1)
    local len = l1 * 256 + l2
    p = p + 2
    if p + len - 1 > n then return false end
    local raw = redis.pcall('GET', prefix .. string.sub(v, p, p + len - 1))
    p = p + len
    if type(raw) == 'string' then
      local t = tonumber(raw)
      if t and (best == nil or t > best) then best, bestRaw = t, raw end
    end
  end
  return bestRaw
end
`

/**
 * Reads one entry together with the newest invalidation time of the tags its
 * envelope lists, in one round trip. Standalone and Sentinel only: the tag
 * keys are not declared in KEYS (they are only known once the entry is read),
 * which Redis allows outside Cluster.
 *
 * KEYS[1]: the entry key. ARGV[1]: the prefix of tag keys. ARGV[2]: the
 * largest value to return, in bytes.
 * Reply: nil (no string at the key), the envelope alone (no tag was
 * invalidated), `{envelope, newest tag invalidation time}`, or the size of a
 * value over ARGV[2] (an integer): returning it would hold the server for
 * every client while Lua copies it.
 *
 * @internal
 */
export const readOne: Script = script(`${newestTagTime}
local size = redis.pcall('STRLEN', KEYS[1])
if type(size) == 'number' and size > tonumber(ARGV[2]) then return size end
local v = redis.pcall('GET', KEYS[1])
if type(v) ~= 'string' then return false end
local t = newest(v, ARGV[1])
if t then return {v, t} end
return v
`)

/**
 * `readOne` for many keys. Reply: per key, the envelope (or nil, or the size
 * of a value over ARGV[2]) and the newest tag invalidation time (or nil),
 * flattened.
 *
 * @internal
 */
export const read: Script = script(`${newestTagTime}
local out = {}
local limit = tonumber(ARGV[2])
for i = 1, #KEYS do
  local size = redis.pcall('STRLEN', KEYS[i])
  local v = false
  if type(size) == 'number' and size > limit then v = size else v = redis.pcall('GET', KEYS[i]) end
  if type(v) == 'number' then
    out[2 * i - 1] = v
    out[2 * i] = false
  elseif type(v) == 'string' then
    out[2 * i - 1] = v
    out[2 * i] = newest(v, ARGV[1])
  else
    out[2 * i - 1] = false
    out[2 * i] = false
  end
end
return out
`)

/**
 * Records that a tag was invalidated now, by the server's clock (µs, the
 * clock of the entries' stamps), keeping the later time when instances race,
 * and (re)sets its lifetime to ARGV[1] ms.
 *
 * @internal
 */
export const invalidateTag: Script = script(`
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local current = tonumber(redis.call('GET', KEYS[1]) or '')
if current and current >= now then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return 0
end
redis.call('SET', KEYS[1], string.format('%.0f', now), 'PX', ARGV[1])
return 1
`)

/** @internal */
export const isNoScript = (error: unknown): boolean => error instanceof Error && error.message.startsWith("NOSCRIPT")

/** What `run` needs of a client (standalone or Cluster). @internal */
export interface Caller {
  callBuffer(command: string, args: Array<string | number | Buffer>): Promise<unknown>
}

/**
 * EVALSHA, then EVAL when the server lost its script cache (restart,
 * failover) or never had the script. Bulk replies come back as Buffers.
 * @internal
 */
export const run = (
  client: Caller,
  script: Script,
  keys: ReadonlyArray<string>,
  args: ReadonlyArray<string | Buffer>
): Promise<unknown> =>
  client.callBuffer("evalsha", [script.sha, keys.length, ...keys, ...args]).catch((error) =>
    isNoScript(error) ? client.callBuffer("eval", [script.lua, keys.length, ...keys, ...args]) : Promise.reject(error)
  )
