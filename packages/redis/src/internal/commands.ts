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
import * as Envelope from "./envelope.js"
import * as Scripts from "./scripts.js"
import { groupBySlot, slotOf } from "./slot.js"

/**
 * One read: the stored bytes (or `null`) and the newest invalidation time of
 * the entry's tags (or `null`).
 * @internal
 */
export type Raw = readonly [bytes: Buffer | null, tagsInvalidatedAt: Buffer | string | null]

/** @internal */
export type Write = readonly [key: string, bytes: Buffer, px: number]

/** @internal */
export interface Commands {
  /** Reads one key, reporting to `receiver` (no promise chain of its own: one hop after the reply). */
  readonly readOne: (key: string, receiver: Receiver<Raw>) => void
  readonly read: (keys: ReadonlyArray<string>) => Promise<ReadonlyArray<Raw>>
  readonly write: (writes: ReadonlyArray<Write>) => Promise<void>
  readonly unlink: (keys: ReadonlyArray<string>) => Promise<void>
  readonly invalidateTags: (tagKeys: ReadonlyArray<string>, at: number, lifetime: number) => Promise<void>
  /** The servers to SCAN for `clear`: the client itself, or every Cluster master. */
  readonly scanTargets: () => ReadonlyArray<Redis>
  /** One SCAN step on `node`; the next cursor ("0" when done) and the keys found. */
  readonly scan: (node: Redis, cursor: string, pattern: string) => Promise<readonly [string, ReadonlyArray<Buffer>]>
  /** UNLINKs keys found by `scan` on `node`. */
  readonly unlinkOn: (node: Redis, keys: ReadonlyArray<Buffer>) => Promise<void>
}

type Client = Redis | Cluster

const isNoScript = (error: unknown) => error instanceof Error && error.message.startsWith("NOSCRIPT")

const runScript = (client: Client, script: Scripts.Script, keys: ReadonlyArray<string>, args: ReadonlyArray<string>) =>
  client.callBuffer("evalsha", [script.sha, keys.length, ...keys, ...args]).catch((error) =>
    isNoScript(error) ? client.callBuffer("eval", [script.lua, keys.length, ...keys, ...args]) : Promise.reject(error)
  )

const pairs = (reply: unknown): ReadonlyArray<Raw> => {
  const flat = reply as ReadonlyArray<Buffer | null>
  const out: Array<Raw> = new Array(flat.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = [flat[2 * i], flat[2 * i + 1]]
  return out
}

/** Rejects with the first failed command of a pipeline. */
const checkPipeline = (results: Array<[Error | null, unknown]> | null): void => {
  if (results === null) throw new Error("pipeline was discarded")
  for (const [error] of results) if (error !== null) throw error
}

const scan = async (
  node: Redis,
  cursor: string,
  pattern: string
): Promise<readonly [string, ReadonlyArray<Buffer>]> => {
  const [next, keys] = await node.scanBuffer(cursor, "MATCH", pattern, "COUNT", 1000)
  return [next.toString(), keys]
}

/** @internal */
export const standalone = (client: Redis, tagPrefix: string): Commands => ({
  readOne: (key, receiver) => {
    const args = [Scripts.readOne.sha, 1, key, tagPrefix]
    const succeed = (reply: unknown) =>
      receiver.succeed(reply === null || Buffer.isBuffer(reply) ? [reply, null] : reply as Raw)
    client.callBuffer("evalsha", args).then(succeed, (error) => {
      if (!isNoScript(error)) return receiver.fail(error)
      args[0] = Scripts.readOne.lua
      client.callBuffer("eval", args).then(succeed, (error) => receiver.fail(error))
    })
  },
  read: (keys) =>
    keys.length === 0 ? Promise.resolve([]) : runScript(client, Scripts.read, keys, [tagPrefix]).then(pairs),
  write: async (writes) => {
    if (writes.length === 1) {
      const [key, bytes, px] = writes[0]
      await client.set(key, bytes, "PX", px)
      return
    }
    const pipeline = client.pipeline()
    for (const [key, bytes, px] of writes) pipeline.set(key, bytes, "PX", px)
    checkPipeline(await pipeline.exec())
  },
  unlink: async (keys) => {
    if (keys.length > 0) await client.unlink(...keys)
  },
  invalidateTags: async (tagKeys, at, lifetime) => {
    await Promise.all(
      tagKeys.map((tagKey) => runScript(client, Scripts.invalidateTag, [tagKey], [String(at), String(lifetime)]))
    )
  },
  scanTargets: () => [client],
  scan,
  unlinkOn: async (node, keys) => {
    if (keys.length > 0) await node.unlink(...keys)
  }
})

/** @internal */
export const cluster = (client: Cluster, tagPrefix: string): Commands => {
  /** Adds the tag invalidation times of the entries that carry tags (one more round trip). */
  const withTags = async (entries: ReadonlyArray<Buffer | null>): Promise<ReadonlyArray<Raw>> => {
    const tagsOf = entries.map((bytes) => {
      if (bytes === null) return undefined
      const header = Envelope.decodeHeader(bytes)
      return typeof header === "string" || header.tags.length === 0 ? undefined : header.tags
    })
    const tagKeys = [...new Set(tagsOf.flatMap((tags) => tags ?? []))].map((tag) => tagPrefix + tag)
    if (tagKeys.length === 0) return entries.map((bytes) => [bytes, null])
    // MGET (one key each: tag keys live in their own slots) reads another type as nil.
    const times = await Promise.all(tagKeys.map(async (key) => (await client.mget([key]))[0]))
    const timeOf = new Map<string, number>()
    tagKeys.forEach((key, i) => {
      if (times[i] !== null) timeOf.set(key, Number(times[i]))
    })
    return entries.map((bytes, i) => {
      let newest: number | undefined
      for (const tag of tagsOf[i] ?? []) {
        const time = timeOf.get(tagPrefix + tag)
        if (time !== undefined && (newest === undefined || time > newest)) newest = time
      }
      return [bytes, newest === undefined ? null : String(newest)]
    })
  }
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
    readOne: (key, receiver) => {
      client.mgetBuffer([key]).then((values) => withTags(values)).then(
        (raws) => receiver.succeed(raws[0]),
        (error) => receiver.fail(error)
      )
    },
    read: async (keys) => keys.length === 0 ? [] : withTags(await mget(keys)),
    write: async (writes) => {
      await Promise.all(writes.map(([key, bytes, px]) => client.set(key, bytes, "PX", px)))
    },
    unlink: async (keys) => {
      await Promise.all(
        Array.from(groupBySlot(keys).values(), (indexes) => client.unlink(...indexes.map((i) => keys[i])))
      )
    },
    invalidateTags: async (tagKeys, at, lifetime) => {
      await Promise.all(
        tagKeys.map((tagKey) => runScript(client, Scripts.invalidateTag, [tagKey], [String(at), String(lifetime)]))
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
