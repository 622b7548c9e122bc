/**
 * The Redis commands of the tier, as promises, in two shapes: one for a single
 * server (standalone or Sentinel) and one for Cluster.
 *
 * Standalone reads run the `read` script: entries and the invalidation times
 * of their tags in one round trip. In Cluster a script may only touch keys of
 * one slot, and tag keys live in their own slots (co-locating them with every
 * entry would put a whole namespace on one node), so Cluster reads MGET per
 * slot and, only for entries that carry tags, fetch the tag times in a second
 * round trip.
 *
 * @internal
 */
import type { Cluster, Redis } from "ioredis"
import type { Receiver } from "./call.js"
import * as Fence from "./fence.js"
import * as Scripts from "./scripts.js"
import { groupBySlot, slotOf } from "./slot.js"
import { TagTimes } from "./tagTimes.js"

/**
 * One read: the stored bytes (or `null`) and the newest invalidation time of
 * the entry's tags (or `null`).
 * @internal
 */
export type Raw = readonly [bytes: Buffer | null, tagsInvalidatedAt: Buffer | string | null]

/**
 * A write: a compute's result carries the fence point taken before it ran
 * (see `fence.ts`); a `set` has none and always lands.
 * @internal
 */
export type Write = readonly [
  key: string,
  bytes: Buffer,
  px: number,
  fencePoint: number | undefined,
  clearMarker: string
]

/** @internal */
export interface Fencing {
  readonly keys: Fence.Keys
  /** The fence window in milliseconds. */
  readonly windowMillis: number
}

/** @internal */
export interface Commands {
  /** Reads one key, reporting to `receiver` (no promise chain of its own: one hop after the reply). */
  readonly readOne: (key: string, receiver: Receiver<Raw>) => void
  readonly read: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<Raw>>
  /** Writes; the reply counts the compute writes that were fenced off. */
  readonly write: (writes: ReadonlyArray<Write>) => Promise<number>
  /** Deletes keys, recording each as an invalidation (fenced). */
  readonly unlink: (keys: ReadonlyArray<string>) => Promise<void>
  /** The stored bytes of keys, without tag times (plain GET / MGET per slot). */
  readonly readPlain: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<Buffer | null>>
  /** The stored invalidation times of tag keys (text), or null. */
  readonly tagTimes: (tagKeys: ReadonlyArray<string>) => Promise<ReadonlyArray<string | null>>
  /** The server time (µs) on the node of `key`: a compute's fence point. */
  readonly now: (key: string) => Promise<number>
  /** Records a clear of `prefix` where writes can see it (a single server). */
  readonly markClear: (prefix: string) => Promise<void>
  readonly invalidateTags: (tagKeys: ReadonlyArray<string>, at: number, lifetime: number) => Promise<void>
  /** The servers to SCAN for `clear`: the client itself, or every Cluster master. */
  readonly scanTargets: () => ReadonlyArray<Redis>
  /** One SCAN step on `node`; the next cursor ("0" when done) and the keys found. */
  readonly scan: (node: Redis, cursor: string, pattern: string) => Promise<readonly [string, ReadonlyArray<Buffer>]>
  /** UNLINKs keys found by `scan` on `node`. */
  readonly unlinkOn: (node: Redis, keys: ReadonlyArray<Buffer>) => Promise<void>
}

type Client = Redis | Cluster

const runScript = Scripts.run

/** Writes, deletes and fence points through the fence scripts; the same on both shapes (one slot per script). */
const fenced = (client: Client, fencing: Fencing) => {
  const { keys, windowMillis } = fencing
  const window = String(windowMillis)
  const windowMicros = String(windowMillis * 1000)
  const writeOne = ([key, bytes, px, point, clearMarker]: Write): Promise<number> =>
    point === undefined
      ? runScript(client, Fence.set, [key, keys.fenceOf(key)], [bytes, String(px), window]).then(
        () => 0
      )
      : runScript(client, Fence.write, [key, keys.fenceOf(key)], [
        bytes,
        String(px),
        String(point),
        windowMicros,
        clearMarker
      ]).then((written) => Number(written) === 1 ? 0 : 1)
  return {
    write: async (writes: ReadonlyArray<Write>) => {
      const refused = await Promise.all(writes.map(writeOne))
      return refused.reduce((sum, n) => sum + n, 0)
    },
    unlink: async (redisKeys: ReadonlyArray<string>) => {
      await Promise.all(redisKeys.map((key) => runScript(client, Fence.drop, [key, keys.fenceOf(key)], [window])))
    },
    now: async (key: string) => Number(await runScript(client, Fence.now, [key], [])),
    markClear: async (prefix: string) => {
      const marker = keys.clearMarker(prefix)
      if (marker !== undefined) await runScript(client, Fence.clear, [marker], [window])
    }
  }
}

const scan = async (
  node: Redis,
  cursor: string,
  pattern: string
): Promise<readonly [string, ReadonlyArray<Buffer>]> => {
  const [next, keys] = await node.scanBuffer(cursor, "MATCH", pattern, "COUNT", 1000)
  return [next.toString(), keys]
}

/**
 * Reads are a plain `GET` / `MGET`; an entry that lists tags costs one more
 * round trip for their times (`MGET` of the tag keys, nothing kept). A read
 * script checking tags in the same trip cost Redis about 10 µs more per read
 * for every entry, tagged or not.
 * @internal
 */
export const standalone = (client: Redis, tagPrefix: string, fencing: Fencing): Commands => {
  const tagTimes = (tagKeys: ReadonlyArray<string>) =>
    tagKeys.length === 0 ? Promise.resolve([]) : client.mget(tagKeys as Array<string>)
  const fetched = new TagTimes(tagPrefix, tagTimes, false)
  // MGET even for one key: it reads a key of another type as nil, where GET fails with WRONGTYPE
  const readPlain = (keys: ReadonlyArray<string>): Promise<ReadonlyArray<Buffer | null>> =>
    keys.length === 0 ? Promise.resolve([]) : client.mgetBuffer(keys as Array<string>)
  return {
    ...fenced(client, fencing),
    readPlain,
    tagTimes,
    readOne: (key, receiver) => {
      client.mgetBuffer([key]).then(
        (found) => fetched.deliver(found[0], receiver),
        (error) => receiver.fail(error)
      )
    },
    read: async (keys) => keys.length === 0 ? [] : fetched.resolve(await readPlain(keys)),
    invalidateTags: async (tagKeys, _at, lifetime) => {
      await Promise.all(
        tagKeys.map((tagKey) => runScript(client, Scripts.invalidateTag, [tagKey], [String(lifetime)]))
      )
    },
    scanTargets: () => [client],
    scan,
    unlinkOn: async (node, keys) => {
      if (keys.length > 0) await node.unlink(...keys)
    }
  }
}

/** @internal */
export const cluster = (client: Cluster, tagPrefix: string, fencing: Fencing): Commands => {
  // MGET (one key each: tag keys live in their own slots) reads another type as nil
  const tagTimes = (tagKeys: ReadonlyArray<string>) =>
    Promise.all(tagKeys.map(async (key) => (await client.mget([key]))[0]))
  /** Adds the tag invalidation times of the entries that carry tags (one more round trip, nothing kept). */
  const fetched = new TagTimes(tagPrefix, tagTimes, false)
  const withTags = (entries: ReadonlyArray<Buffer | null>) => fetched.resolve(entries)
  const mget = async (keys: ReadonlyArray<string>): Promise<ReadonlyArray<Buffer | null>> => {
    const out: Array<Buffer | null> = new Array(keys.length).fill(null)
    await Promise.all(
      Array.from(groupBySlot(keys).values(), async (indexes) => {
        const values = await client.mgetBuffer(indexes.map((i) => keys[i]))
        indexes.forEach((index, i) => {
          out[index] = values[i]
        })
      })
    )
    return out
  }
  return {
    readPlain: mget,
    tagTimes,
    readOne: (key, receiver) => {
      client.mgetBuffer([key]).then((values) => withTags(values)).then(
        (raws) => receiver.succeed(raws[0]),
        (error) => receiver.fail(error)
      )
    },
    read: async (keys) => keys.length === 0 ? [] : withTags(await mget(keys)),
    ...fenced(client, fencing),
    invalidateTags: async (tagKeys, _at, lifetime) => {
      await Promise.all(
        tagKeys.map((tagKey) => runScript(client, Scripts.invalidateTag, [tagKey], [String(lifetime)]))
      )
    },
    scanTargets: () => client.nodes("master"),
    scan,
    unlinkOn: async (node, keys) => {
      const bySlot = new Map<number, Array<Buffer>>()
      for (const key of keys) {
        const slot = slotOf(key)
        const group = bySlot.get(slot)
        if (group === undefined) bySlot.set(slot, [key])
        else group.push(key)
      }
      await Promise.all(Array.from(bySlot.values(), (group) => node.unlink(...group)))
    }
  }
}
