/**
 * One contender of one row, alone in this process (pinned to its CPU by the
 * parent). Builds it, warms it up, says `ready`, then runs one sample per
 * `sample` message until `stop`.
 *
 * argv: <row id> <contender name> <redis url> <target ms per sample>
 */
import type { Contender } from "./measure.js"
import { KEY_PREFIX } from "./redis.js"
import { rows } from "./rows.js"

export type ToChild = { readonly type: "sample"; readonly index: number } | { readonly type: "stop" }
export type FromChild =
  | { readonly type: "ready" }
  | {
    readonly type: "sample"
    readonly value: number
    readonly cpu: number
    readonly gcShare: number
    readonly extras: Record<string, number>
  }
  /** The sample failed (e.g. a read timed out); the contender is still there to try again. */
  | { readonly type: "sample-failed"; readonly message: string }
  | { readonly type: "error"; readonly message: string }

const [rowId, name, redisUrl, targetMs] = process.argv.slice(2)

const send = (message: FromChild) =>
  new Promise<void>((resolve, reject) =>
    process.send!(message, undefined, {}, (error) => error ? reject(error) : resolve())
  )

const fail = async (error: unknown) => {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
  await send({ type: "error", message }).catch(() => {})
  process.exit(1)
}

const main = async () => {
  const row = rows.find((row) => row.id === rowId)
  const index = row?.contenders.findIndex((contender) => contender.name === name) ?? -1
  if (row === undefined || index < 0) throw new Error(`no contender "${name}" in row ${rowId}`)
  const contender: Contender = await row.contenders[index].make({
    redisUrl,
    prefix: `${KEY_PREFIX}${row.id}-${index}`,
    targetMs: Number(targetMs)
  })
  await contender.warmUp()
  process.on("message", (message: ToChild) => {
    const handle = async () => {
      if (message.type === "stop") {
        await contender.close()
        process.exit(0)
      }
      const sample = await contender.sample(message.index).catch((error: unknown) => error as Error)
      if (sample instanceof Error) {
        await send({ type: "sample-failed", message: sample.stack ?? sample.message })
        return
      }
      await send({
        type: "sample",
        value: sample.value,
        cpu: sample.cpu,
        gcShare: sample.gcShare,
        extras: { ...sample.extras }
      })
    }
    handle().catch(fail)
  })
  await send({ type: "ready" })
}

main().catch(fail)
