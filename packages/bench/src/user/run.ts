/**
 * layercake in the user's shape, against its peers, in one process tree:
 * `pnpm --filter @layercake/bench bench:user [options]`.
 *
 * Like the independent harness: each contender × row runs in a fresh child
 * process (`child.ts`), pinned to CPU 1 with `taskset -c 1` while the bench's
 * own redis-server is pinned to CPU 0; each child warms up, then the samples
 * go round-robin across the row's contenders (A B C A B C …); we report
 * medians and the ratio to the row's reference.
 *
 * Options:
 *   --row 1,3,s1     rows to run (default all: 1–7, then the secondary s1, s2)
 *   --samples 9      samples per contender (default 9)
 *   --target-ms 150  wall time aimed at per sample in the in-memory rows
 *   --only TEXT      only the contenders whose name contains TEXT (and the row's reference)
 *   --out FILE       also write the report to FILE
 *   --pin split      split (default): redis-server on CPU 0, clients on CPU 1, like the
 *                    independent harness; same: both on CPU 0; none: no taskset
 *   --profile        with one --row: run the layercake contenders' children with
 *                    --cpu-prof, one folder per contender under /tmp/prof (see --profile-dir);
 *                    the biggest .cpuprofile of a folder is the main thread's
 *
 * A sample that fails (a Redis read timing out, say) is retried with other keys, twice at most.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import type { FromChild, ToChild } from "./child.js"
import { type BenchRedis, startRedis } from "./redis.js"
import { type ContenderResult, rowTable } from "./report.js"
import { type ContenderSpec, type Row, rows } from "./rows.js"

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== "--"),
  options: {
    row: { type: "string" },
    samples: { type: "string", default: "9" },
    "target-ms": { type: "string", default: "150" },
    only: { type: "string" },
    out: { type: "string" },
    pin: { type: "string", default: "split" },
    profile: { type: "boolean", default: false },
    "profile-dir": { type: "string", default: "/tmp/prof" }
  }
})

const samples = Number(args.samples)
const targetMs = Number(args["target-ms"])
const wanted = args.row?.split(",").map((id) => id.trim())
const selected = rows.filter((row) => wanted === undefined || wanted.includes(row.id))
if (wanted !== undefined && selected.length !== wanted.length) {
  throw new Error(`unknown row in --row ${args.row}; rows: ${rows.map((row) => row.id).join(", ")}`)
}
if (!(samples >= 1) || !(targetMs > 0)) throw new Error("--samples and --target-ms must be positive")
if (args.profile && selected.length !== 1) throw new Error("--profile profiles one row: pass --row")

const childScript = fileURLToPath(new URL("./child.ts", import.meta.url))
const packageDir = fileURLToPath(new URL("../..", import.meta.url))
const progress = (message: string) => process.stderr.write(`${message}\n`)

/** `taskset -c N` prefixes for redis-server and the clients, when taskset works and there are CPUs to pin to. */
const pinning = (() => {
  if (!["split", "same", "none"].includes(args.pin)) throw new Error("--pin is split, same or none")
  if (args.pin === "none") return undefined
  const clientCpu = args.pin === "split" ? "1" : "0"
  if (os.availableParallelism() < Number(clientCpu) + 1) return undefined
  if (spawnSync("taskset", ["-c", clientCpu, "true"], { stdio: "ignore" }).status !== 0) return undefined
  return { redis: ["taskset", "-c", "0"], client: ["taskset", "-c", clientCpu] }
})()

const READY_TIMEOUT_MS = 120_000
const SAMPLE_TIMEOUT_MS = 120_000

/** One contender's child process, answering one message at a time. */
const startChild = (row: Row, spec: ContenderSpec, redisUrl: string) => {
  const slug = `row${row.id}-${spec.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "")}`
  const profile = args.profile && spec.layercake ? ["--cpu-prof", `--cpu-prof-dir=${args["profile-dir"]}/${slug}`] : []
  const [command, ...rest] = [
    ...(pinning?.client ?? []),
    process.execPath,
    "--import",
    "tsx",
    ...profile,
    childScript,
    row.id,
    spec.name,
    redisUrl,
    String(targetMs)
  ]
  const child = spawn(command, rest, { cwd: packageDir, stdio: ["ignore", "inherit", "inherit", "ipc"] })
  let waiting: { resolve: (message: FromChild) => void; reject: (error: Error) => void } | undefined
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  child.on("message", (message: FromChild) => {
    const current = waiting
    waiting = undefined
    if (message.type === "error") current?.reject(new Error(message.message))
    else current?.resolve(message)
  })
  child.once("exit", (code, signal) => waiting?.reject(new Error(`child exited (${code ?? signal})`)))
  const next = (timeoutMs: number) =>
    new Promise<FromChild>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs)
      waiting = {
        resolve: (message) => {
          clearTimeout(timer)
          resolve(message)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        }
      }
    })
  const ready = next(READY_TIMEOUT_MS)
  return {
    ready,
    request: (message: ToChild) => {
      const answer = next(SAMPLE_TIMEOUT_MS)
      child.send(message)
      return answer
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.send({ type: "stop" } satisfies ToChild)
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
        await exited
        clearTimeout(timer)
      }
    },
    kill: async () => {
      child.kill("SIGKILL")
      await exited
    }
  }
}

const runRow = async (row: Row, redis: BenchRedis | undefined): Promise<ReadonlyArray<ContenderResult>> => {
  const contenders = row.contenders.filter((spec) =>
    args.only === undefined || spec.name === row.reference || spec.name.includes(args.only)
  )
  const states = contenders.map((spec) => ({
    spec,
    child: undefined as ReturnType<typeof startChild> | undefined,
    values: [] as Array<number>,
    cpu: [] as Array<number>,
    gcShares: [] as Array<number>,
    retried: [] as Array<string>,
    extras: [] as Array<Readonly<Record<string, number>>>,
    error: undefined as string | undefined
  }))
  const failed = async (state: (typeof states)[number], error: unknown) => {
    state.error = error instanceof Error ? error.message : String(error)
    progress(`  ${state.spec.name} FAILED: ${state.error}`)
    await state.child?.kill()
  }
  // children start one at a time: their warm-ups share the client CPU
  for (const state of states) {
    progress(`  starting ${state.spec.name}`)
    state.child = startChild(row, state.spec, redis?.url ?? "")
    await state.child.ready.catch((error) => failed(state, error))
  }
  for (let index = 0; index < samples; index++) {
    for (const state of states) {
      if (state.error !== undefined || state.child === undefined) continue
      try {
        // a retry reads other keys than the failed attempt (which the reader's L1 may hold now)
        for (let attempt = 0;; attempt++) {
          const answer = await state.child.request({
            type: "sample",
            index: attempt === 0 ? index : 500 + index * 10 + attempt
          })
          if (answer.type === "sample") {
            state.values.push(answer.value)
            state.cpu.push(answer.cpu)
            state.gcShares.push(answer.gcShare ?? Number.NaN)
            state.extras.push(answer.extras)
            break
          }
          if (answer.type !== "sample-failed") throw new Error(`unexpected answer ${answer.type}`)
          const reason = answer.message.split("\n")[0]
          progress(`  ${state.spec.name}: sample ${index + 1} failed (${reason})`)
          state.retried.push(reason)
          if (attempt === 2) throw new Error(`3 attempts at sample ${index + 1} failed: ${reason}`)
        }
      } catch (error) {
        await failed(state, error)
      }
    }
    progress(`  round ${index + 1}/${samples}`)
  }
  for (const state of states) await state.child?.stop()
  await redis?.flush()
  return states.map(({ cpu, error, extras, gcShares, retried, spec, values }) => ({
    name: spec.name,
    layercake: spec.layercake,
    values,
    cpu,
    gcShares,
    extras,
    retried,
    error
  }))
}

const commit = () => {
  try {
    return execFileSync("git", ["describe", "--always", "--dirty"], { cwd: packageDir, encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}

const main = async () => {
  const started = Date.now()
  const report: Array<string> = []
  const emit = (text: string) => {
    report.push(text)
    console.log(text)
    if (args.out !== undefined) writeFileSync(args.out, report.join("\n\n") + "\n")
  }
  if (args.profile) mkdirSync(args["profile-dir"], { recursive: true })
  const redis = selected.some((row) => row.redis) ? await startRedis(pinning?.redis ?? []) : undefined
  try {
    emit(
      [
        "# layercake in the user's shape",
        "",
        `- ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.availableParallelism()} CPUs; Node ${process.version}; ` +
        `${os.platform()} ${os.release()}; layercake at ${commit()}`,
        `- ${redis?.description ?? "no Redis needed by these rows"}`,
        `- clients: ${
          pinning ? `\`${pinning.client.join(" ")}\`` : "not pinned (--pin none, no taskset or too few CPUs)"
        }; one child process per contender × row, warmed up, then ${samples} samples round-robin across ` +
        `the row's contenders; medians; ~${targetMs} ms per sample in the in-memory rows`,
        "- ratio = median / the reference's median (above 1 = slower); targets apply to layercake contenders; " +
        "client CPU = the child's user + system CPU time over the sample, per op (what it spent apart from waiting)"
      ].join("\n")
    )
    for (const row of selected) {
      progress(`row ${row.id}: ${row.title}`)
      const results = await runRow(row, redis)
      if (results.some((result) => result.error !== undefined)) failures++
      emit(rowTable(row, results))
    }
    emit(`_total run time: ${((Date.now() - started) / 1000).toFixed(0)} s_`)
    if (args.profile) progress(`CPU profiles of the layercake contenders: ${args["profile-dir"]}`)
  } finally {
    await redis?.stop()
  }
}

let failures = 0

main().then(
  () => process.exit(failures > 0 ? 1 : 0),
  (error) => {
    console.error("bench:user failed", error)
    process.exit(1)
  }
)
