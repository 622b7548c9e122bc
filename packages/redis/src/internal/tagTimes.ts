/**
 * Tag invalidation times kept in the process, for a tier whose `Cache` has a
 * bus: reads are then a plain `GET` / `MGET`, and the tag check is local.
 *
 * A tag's time is fetched from Redis the first time an entry carrying it is
 * read, and kept until the bus says the tag was invalidated (or there was a
 * gap): then it is forgotten and fetched again on next use. A fetch that ran
 * while something was forgotten does not keep what it got, since it may be
 * older than the invalidation that caused the forgetting.
 *
 * @internal
 */
import type { Receiver } from "./call.js"
import type { Raw } from "./commands.js"
import * as Envelope from "./envelope.js"

const MAX_TAGS = 10_000

/** @internal */
export class TagTimes {
  /** Whether reads use the kept times (a bus is attached). */
  enabled = false
  private readonly times = new Map<string, number | null>()
  private generation = 0

  constructor(
    private readonly tagPrefix: string,
    /** The stored times (µs, as text) of `tagKeys`, or null where none. */
    private readonly fetch: (tagKeys: ReadonlyArray<string>) => Promise<ReadonlyArray<string | null>>,
    /** `false`: fetch the times for every read, keeping nothing (Cluster reads without a bus). */
    private readonly keeps = true
  ) {}

  forget(tags: ReadonlyArray<string> | undefined): void {
    this.generation++
    if (tags === undefined) this.times.clear()
    else for (const tag of tags) this.times.delete(this.tagPrefix + tag)
  }

  /** `resolve` of one entry into `receiver`, without a promise when it carries no tag (the usual case). */
  deliver(bytes: Buffer | null, receiver: Receiver<Raw>): void {
    if (bytes === null || tagsOf(bytes) === undefined) return receiver.succeed([bytes, null])
    this.resolve([bytes]).then((raws) => receiver.succeed(raws[0]), (error) => receiver.fail(error))
  }

  /** The reads of `entries` with the newest time of each one's tags, fetching the times not kept yet. */
  async resolve(entries: ReadonlyArray<Buffer | null>): Promise<ReadonlyArray<Raw>> {
    const tags = entries.map((bytes) => bytes === null ? undefined : tagsOf(bytes))
    if (tags.every((list) => list === undefined)) return entries.map((bytes) => [bytes, null])
    const missing = new Set<string>()
    for (const list of tags) {
      for (const tag of list ?? []) if (!this.times.has(this.tagPrefix + tag)) missing.add(this.tagPrefix + tag)
    }
    let fetched: Map<string, number | null> | undefined
    if (missing.size > 0) {
      const generation = this.generation
      const keys = [...missing]
      const raw = await this.fetch(keys)
      fetched = new Map(keys.map((key, i) => [key, raw[i] === null ? null : Number(raw[i])]))
      if (this.keeps && generation === this.generation) {
        for (const [key, time] of fetched) this.keep(key, time)
      }
    }
    return entries.map((bytes, i) => {
      let newest: number | null = null
      for (const tag of tags[i] ?? []) {
        const key = this.tagPrefix + tag
        const time = fetched?.get(key) ?? this.times.get(key) ?? null
        if (time !== null && (newest === null || time > newest)) newest = time
      }
      return [bytes, newest === null ? null : String(newest)]
    })
  }

  private keep(key: string, time: number | null): void {
    if (this.times.size >= MAX_TAGS) this.times.delete(this.times.keys().next().value!)
    this.times.set(key, time)
  }
}

/** The tags an envelope lists; `undefined` for none, or for bytes that are no envelope (the tier reports those). */
const tagsOf = (bytes: Buffer): ReadonlyArray<string> | undefined => {
  const header = Envelope.decodeHeader(bytes)
  return typeof header === "string" || header.tags.length === 0 ? undefined : header.tags
}
