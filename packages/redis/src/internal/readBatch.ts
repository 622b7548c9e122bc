/**
 * Coalesces the single-key reads started in one tick into one command: many
 * callers reading at once (a server under load, each request missing its L1)
 * cost Redis one script call and the client one reply, instead of one of each
 * per read. A key asked for twice in one tick is read once.
 *
 * A read that finds no other read in flight goes out at once: waiting for the
 * end of the tick would only add latency when nobody else is reading. The
 * reads that follow it, while it is in flight, are sent together at the end of
 * the tick (as ioredis's own auto-pipelining does).
 *
 * Every read is still one round trip; a batch is capped at `maxKeys` so one
 * script never holds Redis for long, and several batches can be in flight.
 *
 * @internal
 */
import { begin, type Receiver } from "./call.js"
import type { Commands, Raw } from "./commands.js"

type Waiting = Receiver<Raw> | Array<Receiver<Raw>>

/** @internal */
export class ReadBatch {
  /** key -> its receivers; one receiver without an array, the usual case. */
  private pending = new Map<string, Waiting>()
  private scheduled = false
  /** Commands sent and not yet answered. */
  private inFlight = 0

  constructor(private readonly commands: Pick<Commands, "readOne" | "read">, private readonly maxKeys: number) {}

  read(key: string, receiver: Receiver<Raw>): void {
    if (this.inFlight === 0 && this.pending.size === 0) return this.readOne(key, receiver)
    const waiting = this.pending.get(key)
    if (waiting === undefined) {
      this.pending.set(key, receiver)
      if (this.pending.size >= this.maxKeys) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        process.nextTick(this.flushScheduled)
      }
    } else if (Array.isArray(waiting)) {
      waiting.push(receiver)
    } else {
      this.pending.set(key, [waiting, receiver])
    }
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false
    this.flush()
  }

  private flush(): void {
    const batch = this.pending
    if (batch.size === 0) return
    this.pending = new Map()
    if (batch.size === 1) {
      const [key, waiting] = batch.entries().next().value!
      return this.readOne(key, waiting)
    }
    this.inFlight++
    attempt(() => this.commands.read(Array.from(batch.keys()))).then(
      (raws) => {
        this.inFlight--
        let i = 0
        for (const waiting of batch.values()) succeed(waiting, raws[i++])
      },
      (error) => {
        this.inFlight--
        for (const waiting of batch.values()) fail(waiting, error)
      }
    )
  }

  private readOne(key: string, waiting: Waiting): void {
    this.inFlight++
    begin(this.commands.readOne, key, new SingleRead(this, waiting))
  }

  /** @internal */
  settled(): void {
    this.inFlight--
  }
}

/** The receiver of a one-key command: accounts for it, then answers its waiters. */
class SingleRead implements Receiver<Raw> {
  constructor(private readonly batch: ReadBatch, private readonly waiting: Waiting) {}

  succeed(raw: Raw): void {
    this.batch.settled()
    succeed(this.waiting, raw)
  }

  fail(error: unknown): void {
    this.batch.settled()
    fail(this.waiting, error)
  }
}

const attempt = <A>(run: () => Promise<A>): Promise<A> => {
  try {
    return run()
  } catch (error) {
    return Promise.reject(error)
  }
}

const succeed = (waiting: Waiting, raw: Raw): void => {
  if (!Array.isArray(waiting)) return waiting.succeed(raw)
  for (const receiver of waiting) receiver.succeed(raw)
}

const fail = (waiting: Waiting, error: unknown): void => {
  if (!Array.isArray(waiting)) return waiting.fail(error)
  for (const receiver of waiting) receiver.fail(error)
}
