/**
 * The whole benchmark suite in one run: `pnpm bench` (from the repository root
 * or this package). Prints the machine, then one markdown table per bench.
 *
 * Ratios: in the sequential L1-hit table, against `Map.get` (the floor of any
 * in-memory cache) and against layercake's `getOrCompute [repeat]`; in the
 * concurrent and memory tables, against layercake (`getOrCompute` in the same
 * loop shape; the `MemoryTier`). Above 1× = slower / bigger than the baseline.
 *
 * Environment: BENCH_SAMPLES (default 9), BENCH_TARGET_MS per sample (default
 * 60), BENCH_ONLY=seq,concurrent,l2,memory to run a subset. The L2 bench starts its own
 * redis-server (or uses REDIS_URL).
 */
import * as Effect from "effect/Effect"
import * as os from "node:os"
import { timeTable } from "./harness.js"
import * as Concurrent from "./l1-concurrent.js"
import * as Sequential from "./l1-hit.js"
import * as L2 from "./l2-hit.js"
import * as Memory from "./memory.js"
import { checkHits, makePeers } from "./peers.js"

const samples = Number(process.env.BENCH_SAMPLES ?? 9)
const targetMs = Number(process.env.BENCH_TARGET_MS ?? 60)
const only = new Set((process.env.BENCH_ONLY ?? "seq,concurrent,l2,memory").split(","))
const progress = (message: string) => process.stderr.write(message + "\n")

const machine = () => {
  const cpu = os.cpus()[0]?.model ?? "unknown"
  return [
    `- CPU: ${cpu}, ${os.availableParallelism()} logical cores available`,
    `- Node ${process.version} (V8 ${process.versions.v8}), ${os.platform()} ${os.release()}`,
    `- ${samples} samples per case (median reported), ~${targetMs} ms per sample, round-robin across cases`
  ].join("\n")
}

const main = async () => {
  const started = Date.now()
  console.log("# layercake benchmarks\n")
  console.log(machine())
  const peers = await makePeers()
  await checkHits(peers)
  try {
    if (only.has("seq")) {
      progress(`${Sequential.GROUP}...`)
      const results = await Sequential.run(peers, { samples, targetMs, onProgress: progress })
      console.log(`\n## ${Sequential.GROUP} (ns per read; [repeat] / [gen] = Effect loop style)\n`)
      console.log(timeTable(results, ["Map.get", "layercake getOrCompute [repeat]"]))
    }
    if (only.has("concurrent")) {
      progress(`${Concurrent.FANOUT_GROUP}...`)
      const fanOut = await Concurrent.runFanOut(peers, { samples, targetMs, onProgress: progress })
      console.log(`\n## ${Concurrent.FANOUT_GROUP} (ns per read)\n`)
      console.log(timeTable(fanOut, [Concurrent.FANOUT_BASELINE]))
      progress(`${Concurrent.WORKERS_GROUP}...`)
      const workers = await Concurrent.runWorkers(peers, { samples, targetMs, onProgress: progress })
      console.log(`\n## ${Concurrent.WORKERS_GROUP} (ns per read)\n`)
      console.log(timeTable(workers, [Concurrent.WORKERS_BASELINE]))
    }
    // the hit paths must not have fallen off the cache meanwhile, and layercake must have served hits only
    await checkHits(peers)
    const stats = await Effect.runPromise(peers.layercake.stats)
    const notHits = stats.misses + stats.computes + stats.staleHits + stats.decodeFailures + stats.refreshes
    if (notHits > 0) throw new Error(`layercake served something other than hits: ${JSON.stringify(stats)}`)
    console.log(`\n_layercake stats after the run: ${stats.hits} hits, 0 misses, 0 computes, 0 refreshes_`)
  } finally {
    await peers.close()
  }
  if (only.has("l2")) {
    progress(`${L2.SEQUENTIAL_GROUP}...`)
    const l2 = await L2.run({ samples, targetMs, onProgress: progress })
    console.log(`\n## ${L2.SEQUENTIAL_GROUP} (ns per read)\n`)
    console.log(timeTable(l2.sequential, [L2.BASELINE]))
    console.log(`\n## ${L2.WORKERS_GROUP} (ns per read)\n`)
    console.log(timeTable(l2.concurrent, [L2.BASELINE]))
  }
  if (only.has("memory")) {
    progress(`memory per entry (${Memory.ENTRIES} entries, ${Memory.RUNS} fresh processes each)...`)
    const results = await Memory.run(progress)
    console.log(`\n## Memory per entry at ${Memory.ENTRIES.toLocaleString("en")} entries (bytes)\n`)
    console.log(Memory.table(results))
  }
  console.log(`\n_total run time: ${((Date.now() - started) / 1000).toFixed(0)} s_`)
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error("bench failed", error)
    process.exit(1)
  }
)
