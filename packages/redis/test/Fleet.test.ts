/**
 * A fleet of processes, each with its own `Cache` (MemoryTier L1 over
 * RedisTier L2, the Redis invalidation bus), stays coherent: once writes and
 * invalidations stop, every instance answers what the source of truth holds,
 * within a stated bound. Each instance is a child process (`fleet/child.ts`)
 * driven over IPC by `fleet/fleet.ts`; real time throughout.
 *
 * The source of truth always lives on the harness' standalone server, apart
 * from the Redis the caches use, so that the faults below (a pub/sub kill
 * loop, a restart, a paused cluster master) hit only the caches. Faults run on
 * servers of this file's own, never on the shared harness servers.
 *
 * The convergence figures (p50 / p99 from an acknowledged `set` on one
 * instance to every other instance reading the new value, with and without a
 * pub/sub kill loop) are written to `build/fleet-convergence.json`.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Redis } from "ioredis"
import { execFile } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { join } from "node:path"
import { performance } from "node:perf_hooks"
import { promisify } from "node:util"
import { inject } from "vitest"
import {
  call,
  type Convergence,
  type Fleet,
  type FleetOptions,
  formatMismatches,
  killChild,
  makeKeys,
  measureConvergence,
  nextEvent,
  outputOf,
  pubsubKillLoop,
  quiesce,
  type Quiescence,
  root,
  runWorkload,
  seedTruth,
  startFleet,
  stopFleet,
  tagsOf,
  type WorkloadResult,
  writeTruth
} from "./fleet/fleet.js"
import { startCluster, startRedis } from "./harness/redisServer.js"

const run = promisify(execFile)

/** Every instance equals the truth this long after the writes stop. */
const COHERENCE_BOUND_MILLIS = 2_000
/** How long `quiesce` keeps polling, so that a failure says how far off it was. */
const QUIESCE_DEADLINE_MILLIS = 10_000
const KEYS = makeKeys(50)
const OPS = 400
const CONVERGENCE_SAMPLES = 100
const CONVERGENCE_KEYS = ["conv-0", "conv-1", "conv-2", "conv-3", "conv-4"]

const truthUrl = () => inject("redisUrl")

const convergence: Record<string, Convergence & { readonly note: string }> = {}

afterAll(() => {
  if (Object.keys(convergence).length === 0) return
  const dir = join(root, "build")
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, "fleet-convergence.json"),
    JSON.stringify(
      {
        what: "milliseconds from an acknowledged Cache.set on one instance until every other instance " +
          "reads the new value (getOrCompute polled every ~1 ms); 3 processes, MemoryTier L1 + RedisTier L2 + RedisBus",
        measuredAt: new Date().toISOString(),
        node: process.version,
        cpus: os.cpus().length,
        platform: `${os.platform()} ${os.arch()}`,
        ...convergence
      },
      null,
      2
    ) + "\n"
  )
})

/** Starts a fleet, runs `body`, and stops the fleet; a failure message carries what the children printed. */
const withFleet = async <A>(options: FleetOptions, body: (fleet: Fleet) => Promise<A>): Promise<A> => {
  const fleet = await startFleet(options)
  try {
    return await body(fleet)
  } catch (error) {
    const output = outputOf(fleet)
    if (error instanceof Error && output !== "") error.message += `\n--- instances' output ---\n${output}`
    throw error
  } finally {
    await stopFleet(fleet)
  }
}

const assertNoErrors = (workload: WorkloadResult) =>
  assert.deepStrictEqual(workload.errors.slice(0, 10), [], `seed ${workload.seed}: calls failed`)

const assertCoherent = (quiet: Quiescence, workload: WorkloadResult, bound = COHERENCE_BOUND_MILLIS) => {
  assert.isTrue(
    quiet.coherent,
    `seed ${workload.seed}: not coherent ${Math.round(quiet.millis)} ms after the writes stopped ` +
      `(${quiet.passes} passes, ${quiet.mismatches.length} mismatches):\n${formatMismatches(quiet.mismatches)}`
  )
  assert.isBelow(quiet.millis, bound, `seed ${workload.seed}: coherent only after ${Math.round(quiet.millis)} ms`)
}

/** The workload, then quiescence, then one more pass: it stays coherent. */
const writeThenQuiesce = async (
  fleet: Fleet,
  options: Partial<Parameters<typeof runWorkload>[1]> = {},
  bound = COHERENCE_BOUND_MILLIS
) => {
  await seedTruth(fleet, KEYS)
  const workload = await runWorkload(fleet, { keys: KEYS, ops: OPS, ...options })
  const quiet = await quiesce(fleet, KEYS, { deadlineMillis: QUIESCE_DEADLINE_MILLIS })
  assertNoErrors(workload)
  assertCoherent(quiet, workload, bound)
  const again = await quiesce(fleet, KEYS, { deadlineMillis: 0 })
  assert.isTrue(again.coherent, `seed ${workload.seed}: incoherent again:\n${formatMismatches(again.mismatches)}`)
  return { workload, quiet }
}

const sumComputes = async (fleet: Fleet) => {
  const all = await Promise.all(
    fleet.children.filter((child) => child.alive).map((child) => call(child, "computes", {}))
  )
  return all.reduce((sum, { total }) => sum + total, 0)
}

describe("fleet of processes (MemoryTier L1 + RedisTier L2 + RedisBus)", { timeout: 120_000 }, () => {
  it("3 instances: random sets, invalidations, tag invalidations and clears, then every instance equals the truth", async () => {
    await withFleet({ n: 3, redis: { url: inject("redisUrl") }, truthUrl: truthUrl() }, async (fleet) => {
      const { workload, quiet } = await writeThenQuiesce(fleet)
      console.log(
        `fleet: ${OPS} ops in ${Math.round(workload.millis)} ms, coherent after ${Math.round(quiet.millis)} ms`
      )
      const measured = await measureConvergence(fleet, { samples: CONVERGENCE_SAMPLES, keys: CONVERGENCE_KEYS })
      convergence.withoutKillLoop = { ...measured, note: "no faults" }
      console.log("fleet convergence:", measured)
      assert.strictEqual(measured.timedOut, 0, "some instance never read the new value within 5 s")
    })
  })

  it("the same with CLIENT KILL TYPE pubsub every 50 ms during the writes", async () => {
    const server = await startRedis()
    try {
      await withFleet({ n: 3, redis: { url: server.url }, truthUrl: truthUrl() }, async (fleet) => {
        const killer = pubsubKillLoop(server.url, 50)
        let killed: { kills: number; rounds: number }
        let result: Awaited<ReturnType<typeof writeThenQuiesce>>
        try {
          await seedTruth(fleet, KEYS)
          const workload = await runWorkload(fleet, { keys: KEYS, ops: OPS })
          killed = await killer.stop()
          const quiet = await quiesce(fleet, KEYS, { deadlineMillis: QUIESCE_DEADLINE_MILLIS })
          assertNoErrors(workload)
          assertCoherent(quiet, workload)
          result = { workload, quiet }
        } finally {
          await killer.stop()
        }
        assert.isAbove(killed.kills, 0, "the loop killed no pub/sub connection")
        console.log(
          `fleet (pubsub kills): ${killed.kills} connections killed in ${killed.rounds} rounds, ` +
            `coherent after ${Math.round(result.quiet.millis)} ms`
        )
        const measuring = pubsubKillLoop(server.url, 50)
        const measured = await measureConvergence(fleet, { samples: CONVERGENCE_SAMPLES, keys: CONVERGENCE_KEYS })
          .finally(() => measuring.stop())
        const during = await measuring.stop()
        convergence.withPubsubKillLoop = {
          ...measured,
          note: `CLIENT KILL TYPE pubsub every 50 ms during the measurement (${during.kills} connections killed)`
        }
        console.log("fleet convergence (pubsub kill loop):", measured)
        assert.strictEqual(measured.timedOut, 0, "some instance never read the new value within 5 s")
      })
    } finally {
      await server.stop()
    }
  })

  it("a Redis restart (SIGKILL, empty on return) in the middle of the writes", async () => {
    const server = await startRedis()
    try {
      await withFleet({ n: 3, redis: { url: server.url }, truthUrl: truthUrl() }, async (fleet) => {
        let downAt = 0
        let upAt = 0
        const { quiet } = await writeThenQuiesce(fleet, {
          hooks: [
            {
              when: ({ started }) => started >= 150,
              run: async () => {
                await server.kill()
                downAt = performance.now()
              }
            },
            {
              when: ({ started }) => started >= 250,
              run: async () => {
                await server.restart()
                upAt = performance.now()
              }
            }
          ]
        })
        console.log(
          `fleet (restart): Redis down for ${Math.round(upAt - downAt)} ms, coherent ${
            Math.round(quiet.millis)
          } ms after the writes stopped`
        )
      })
    } finally {
      await server.stop()
    }
  })

  it("instances whose clocks are an hour ahead and an hour behind", async () => {
    await withFleet(
      { n: 3, redis: { url: inject("redisUrl") }, truthUrl: truthUrl(), clockOffsets: [3_600_000, -3_600_000, 0] },
      async (fleet) => {
        const clocks = await Promise.all(fleet.children.map((child) => call(child, "clock", {})))
        const now = Date.now()
        // the skew is in force in the runtime and was while the layers were built
        assert.approximately(clocks[0].now - now, 3_600_000, 5_000)
        assert.approximately(clocks[1].now - now, -3_600_000, 5_000)
        assert.approximately(clocks[0].atBuild - now, 3_600_000, 60_000)
        assert.approximately(clocks[1].atBuild - now, -3_600_000, 60_000)
        await writeThenQuiesce(fleet)
      }
    )
  })

  it("Cluster (3 masters): the master of the bus's slot paused (SIGSTOP) for a second during the writes", async () => {
    const cluster = await startCluster()
    try {
      await withFleet(
        { n: 3, redis: { cluster: cluster.nodes }, truthUrl: truthUrl(), callTimeoutMillis: 5_000 },
        async (fleet) => {
          const first = cluster.nodes[0]
          const probe = new Redis({ host: first.host, port: first.port, lazyConnect: true })
          probe.on("error", () => {})
          await probe.connect()
          const slot = Number(await probe.cluster("KEYSLOT", `{${fleet.keyPrefix}~bus:${fleet.namespace}}`))
          const ranges = await probe.cluster("SLOTS")
          probe.disconnect()
          const owner = ranges.find(([from, to]) => from <= slot && slot <= to)![2]
          const { stdout } = await run("redis-cli", ["-p", String(owner[1]), "info", "server"])
          const pid = Number(/process_id:(\d+)/.exec(stdout)![1])
          // The pause is a fixed second of wall time (below the cluster's 2 s node
          // timeout: the other masters never mark it failed), whatever the calls do meanwhile.
          let resumed: Promise<number> | undefined
          const pause = async () => {
            process.kill(pid, "SIGSTOP")
            const pausedAt = performance.now()
            resumed = new Promise((resolve) =>
              setTimeout(() => {
                process.kill(pid, "SIGCONT")
                resolve(performance.now() - pausedAt)
              }, 1_000)
            )
          }
          try {
            const { quiet } = await writeThenQuiesce(fleet, {
              hooks: [
                { when: ({ started }) => started >= 100, run: pause },
                // the writes go on until the master answers again
                { when: ({ started }) => started >= 300, run: () => resumed! }
              ]
            })
            const pausedFor = await resumed!
            console.log(
              `fleet (cluster): master :${owner[1]} paused ${
                Math.round(pausedFor)
              } ms, coherent (pass ${quiet.passes}) ${Math.round(quiet.millis)} ms after the writes stopped`
            )
          } finally {
            process.kill(pid, "SIGCONT")
          }
        }
      )
    } finally {
      await cluster.stop()
    }
  })

  it("lock: 4 instances × 250 concurrent getOrCompute of one cold key compute once", async () => {
    await withFleet(
      {
        n: 4,
        redis: { url: inject("redisUrl") },
        truthUrl: truthUrl(),
        lock: true,
        lockOptions: { leaseMillis: 1_000 }
      },
      async (fleet) => {
        const key = "cold"
        const value = await writeTruth(fleet, key, "driver")
        const bursts = await Promise.all(
          fleet.children.map((child) =>
            call(child, "burst", { key, count: 250, delayMillis: 200, tags: tagsOf(key) }, 20_000)
          )
        )
        for (const [i, burst] of bursts.entries()) {
          assert.strictEqual(burst.values.length, 1, `instance-${i} got ${burst.values.length} distinct values`)
          assert.deepStrictEqual(burst.values[0], value)
        }
        assert.strictEqual(await sumComputes(fleet), 1, "computes across the fleet")
      }
    )
  })

  it("lock: the instance computing is SIGKILLed; another takes the lease over once it expires and computes", async () => {
    const leaseMillis = 1_000
    await withFleet(
      { n: 4, redis: { url: inject("redisUrl") }, truthUrl: truthUrl(), lock: true, lockOptions: { leaseMillis } },
      async (fleet) => {
        const key = "orphaned"
        const value = await writeTruth(fleet, key, "driver")
        // Computes hang on a closed gate (a source that does not answer) until it is
        // opened in their process: the owner's never is, the survivors' are at once.
        const ownerStarted = nextEvent(fleet.children, "computeStarted")
        const bursts = fleet.children.map((child) =>
          call(child, "burst", { key, count: 50, gate: "source", tags: tagsOf(key) }, 20_000)
        )
        // awaited below; a failed assertion before that must not leave them unhandled
        bursts.forEach((burst) => burst.catch(() => {}))
        const owner = await ownerStarted
        const survivors = fleet.children.filter((child) => child !== owner.child)
        const survivorStarted = nextEvent(survivors, "computeStarted", 15_000)
        survivorStarted.catch(() => {})
        await killChild(owner.child)
        await Promise.all(survivors.map((child) => call(child, "openGate", { gate: "source" })))
        const ownerCall = await bursts[owner.child.index].then(() => "answered", (error: Error) => error.message)
        assert.include(ownerCall, "exited", "the killed instance's call")
        const next = await survivorStarted
        const results = await Promise.all(survivors.map((child) => bursts[child.index]))
        for (const [i, burst] of results.entries()) {
          assert.strictEqual(burst.values.length, 1, `${survivors[i].name} got ${burst.values.length} distinct values`)
          assert.deepStrictEqual(burst.values[0], value)
        }
        // the owner took the lease just before its compute started and could not extend it after the kill
        const waited = next.event.at - owner.event.at
        assert.isAtLeast(waited, leaseMillis * 2 / 3, `a survivor computed ${waited} ms after the owner started`)
        const computes = await Promise.all(survivors.map((child) => call(child, "computes", {})))
        const stats = await Promise.all(survivors.map((child) => call(child, "stats", {})))
        const summary = survivors.map((child, i) =>
          `${child.name}: computes ${computes[i].total}, lockAcquired ${stats[i].lockAcquired}, ` +
          `lockTimeouts ${stats[i].lockTimeouts}`
        ).join("; ")
        assert.strictEqual(computes.reduce((sum, { total }) => sum + total, 0), 1, `computes: ${summary}`)
        // it was a takeover of the expired lease, not a waiter giving up at the wait timeout
        assert.strictEqual(stats.reduce((sum, s) => sum + s.lockAcquired, 0), 1, `lease takeovers: ${summary}`)
        assert.strictEqual(stats.reduce((sum, s) => sum + s.lockTimeouts, 0), 0, `wait timeouts: ${summary}`)
        console.log(
          `fleet (lock): ${next.child.name} took the lease over and computed ${waited} ms after the killed owner ` +
            `started (lease ${leaseMillis} ms)`
        )
      }
    )
  })
})
