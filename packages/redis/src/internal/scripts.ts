/**
 * Lua scripts, run with EVALSHA (falling back to EVAL after a restart or a
 * failover lost the script cache).
 *
 * @internal
 */
import { createHash } from "node:crypto"

/** @internal */
export interface Script {
  readonly lua: string
  readonly sha: string
}

/** @internal */
export const script = (lua: string): Script => ({ lua, sha: createHash("sha1").update(lua).digest("hex") })

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
