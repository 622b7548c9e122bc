/**
 * What the FileSystemTier knows of its directory without reading it: for each
 * of its files, the bytes it holds and, for an entry, its `createdAt` and
 * `staleUntil`. Writes, removals and sweeps keep it current; its `bytes` is
 * the estimate the disk bound is checked against between sweeps.
 *
 * @internal
 */

/**
 * One file of the tier. `entry`: an envelope (`~entry:<key>`); `record`: a
 * `~tag:` / `~clear:` time, never removed by a sweep (removing it would bring
 * back the entries it hides); `unreadable`: neither (torn, foreign content,
 * another envelope version), removed first when space is needed.
 * @internal
 */
export interface FileInfo {
  readonly bytes: number
  readonly kind: "entry" | "record" | "unreadable"
  readonly createdAt: number
  readonly staleUntil: number
}

/** A file the tier writes is named by the sha256 hex of its key. @internal */
export const isEntryName = (name: string): boolean => /^[0-9a-f]{64}$/.test(name)

/** The tier's temp files: `<sha256 hex>.<writer id>.<n>.tmp`. @internal */
export const isTempName = (name: string): boolean => /^[0-9a-f]{64}\.[^/]+\.tmp$/.test(name)

/** How much of a file a sweep reads to find an envelope's times. @internal */
export const HEAD_BYTES = 4096

// `JSON.stringify` writes the envelope's fields in order; a key's own quotes are
// escaped, so the first match is the envelope's, whatever the key or the value hold
const TIMES = /"createdAt":(-?[\d.e+-]+|null),"freshUntil":(?:-?[\d.e+-]+|null),"staleUntil":(-?[\d.e+-]+|null),/
const RECORD = /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/

const time = (text: string, ifNull: number): number => {
  if (text === "null") return ifNull
  const value = Number(text)
  return Number.isNaN(value) ? ifNull : value
}

const ENVELOPE = "{\"v\":1,"

const entryOf = (text: string, bytes: number): FileInfo | undefined => {
  if (!text.startsWith(ENVELOPE)) return undefined
  const times = TIMES.exec(text)
  // a time JSON wrote as `null` (not finite) is kept until the bound needs its space
  return times === null
    ? undefined
    : { bytes, kind: "entry", createdAt: time(times[1], -Infinity), staleUntil: time(times[2], Infinity) }
}

/** Classifies a file of `bytes` bytes by its whole text. @internal */
export const describe = (text: string, bytes: number): FileInfo =>
  entryOf(text, bytes) ??
    (RECORD.test(text)
      ? { bytes, kind: "record", createdAt: Number(text), staleUntil: Infinity }
      : { bytes, kind: "unreadable", createdAt: -Infinity, staleUntil: Infinity })

/**
 * Classifies a file by its first `HEAD_BYTES`; `undefined` when they are not
 * enough (an envelope with a long key), then read the whole file.
 * @internal
 */
export const describeHead = (head: string, bytes: number): FileInfo | undefined =>
  entryOf(head, bytes) ??
    (head.startsWith(ENVELOPE) ? undefined : describe(head, bytes))

/** @internal */
export class DiskIndex {
  readonly files = new Map<string, FileInfo>()
  /** The sum of `files`' bytes. */
  bytes = 0

  /**
   * Every tier file in the directory is in `files` (a first sweep listed them;
   * this process's writes and removals since are applied).
   */
  complete = false

  /** Files put since the running sweep listed the directory: not gone though its listing lacks them. */
  readonly touched = new Set<string>()

  /** Records a file just written (or found), replacing what was known of it. */
  put(name: string, info: FileInfo): void {
    const previous = this.files.get(name)
    this.bytes += info.bytes - (previous?.bytes ?? 0)
    this.files.set(name, info)
    this.touched.add(name)
  }

  /** Forgets a removed file; with `expected`, only if nothing replaced that version meanwhile. */
  drop(name: string, expected?: FileInfo): void {
    const current = this.files.get(name)
    if (current === undefined || (expected !== undefined && current !== expected)) return
    this.bytes -= current.bytes
    this.files.delete(name)
  }

  clear(): void {
    this.files.clear()
    this.touched.clear()
    this.bytes = 0
  }
}
