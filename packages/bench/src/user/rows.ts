/**
 * The rows of the user-shaped bench: for each, its contenders (one child
 * process each), the reference the ratios are taken against, and the target
 * a layercake contender should meet (from the issue).
 */
import { bentoClient, IN_FLIGHT, type L2Client, l2Contender, type L2Shape, layercakeClient, rawClient } from "./l2.js"
import * as Local from "./local.js"
import type { Contender, Env } from "./measure.js"
import * as Stampede from "./stampede.js"

export interface ContenderSpec {
  readonly name: string
  /** Targets apply to layercake contenders; `--profile` profiles them. */
  readonly layercake: boolean
  readonly make: (env: Env) => Promise<Contender>
}

export interface Row {
  readonly id: string
  readonly title: string
  /** What a sample's value is: µs per operation, or ms for the whole stampede. */
  readonly unit: "µs" | "ms"
  readonly per: string
  readonly reference: string
  /** A layercake contender meets the row when its ratio to the reference is at most this. */
  readonly target: number | undefined
  readonly secondary: boolean
  readonly redis: boolean
  readonly note?: string | undefined
  readonly contenders: ReadonlyArray<ContenderSpec>
}

const peer = (name: string, make: ContenderSpec["make"]): ContenderSpec => ({ name, layercake: false, make })
const ours = (name: string, make: ContenderSpec["make"]): ContenderSpec => ({ name, layercake: true, make })

const l2 = (shape: L2Shape, client: (env: Env) => Promise<L2Client>) => async (env: Env) =>
  l2Contender(shape, await client(env), env)

const RAW = "raw ioredis GET + JSON.parse"
const sequential: L2Shape = { style: "await", reads: 2000, warmUpReads: 1000 }
const sequentialLoop: L2Shape = { ...sequential, style: "whileLoop" }
const inFlight: L2Shape = { style: "inFlight", reads: 10_000, warmUpReads: 5000 }
const sameKey: L2Shape = { ...sequential, sameKey: true }
const sameKeyLoop: L2Shape = { ...sequentialLoop, sameKey: true }

const raw = (env: Env) => rawClient(env)
const bentoL2 = (env: Env) => bentoClient(env, false)
const bentoBoth = (env: Env) => bentoClient(env, true)
const ourL2 = (env: Env) => layercakeClient(env, false)
const ourBoth = (env: Env) => layercakeClient(env, true)

const EFFECT_CACHE_GET = "effect Cache.get [whileLoop]"

const l1HitContenders = (value: Local.Value): ReadonlyArray<ContenderSpec> => [
  peer(EFFECT_CACHE_GET, Local.hitEffectCache(value)),
  peer("bentocache getOrSet, memory [awaited loop]", Local.hitBento(value)),
  peer("lru-cache get [sync loop]", Local.hitLru(value)),
  ours("layercake Cache.getOrCompute [whileLoop]", Local.hitLayercakeLoop(value, "getOrCompute")),
  ours("layercake Cache.get [whileLoop]", Local.hitLayercakeLoop(value, "get"))
]

export const rows: ReadonlyArray<Row> = [
  {
    id: "1",
    title: "L2 hit, sequential, 1 KB value, fresh key each read",
    unit: "µs",
    per: "read",
    reference: RAW,
    target: 1.15,
    secondary: false,
    redis: true,
    contenders: [
      peer(RAW, l2(sequential, raw)),
      peer("bentocache getOrSet, Redis only", l2(sequential, bentoL2)),
      peer("bentocache getOrSet, memory + Redis (cold L1)", l2(sequential, bentoBoth)),
      ours("layercake RedisTier [runPromise per call]", l2(sequential, ourL2)),
      ours("layercake RedisTier [whileLoop]", l2(sequentialLoop, ourL2)),
      ours("layercake MemoryTier + RedisTier, cold L1 [runPromise per call]", l2(sequential, ourBoth)),
      ours("layercake MemoryTier + RedisTier, cold L1 [whileLoop]", l2(sequentialLoop, ourBoth))
    ]
  },
  {
    id: "2",
    title: `L2 hit, ${IN_FLIGHT} in flight, 1 KB value, fresh keys`,
    unit: "µs",
    per: "read (wall time / reads)",
    reference: RAW,
    target: 1.0,
    secondary: false,
    redis: true,
    note: `${IN_FLIGHT} independent promises kept topped up (a finished call starts the next), each its own ` +
      "`runPromise` or peer call. A whileLoop style has no place here: one program is one caller.",
    contenders: [
      peer(RAW, l2(inFlight, raw)),
      peer("bentocache getOrSet, Redis only", l2(inFlight, bentoL2)),
      peer("bentocache getOrSet, memory + Redis (cold L1)", l2(inFlight, bentoBoth)),
      ours("layercake RedisTier [runPromise per call]", l2(inFlight, ourL2)),
      ours("layercake MemoryTier + RedisTier, cold L1 [runPromise per call]", l2(inFlight, ourBoth))
    ]
  },
  {
    id: "3",
    title: `Stampede: ${Stampede.CALLERS} callers of one cold key, compute = 50 ms sleep, memory only`,
    unit: "ms",
    per: "stampede (first launch to last resolve)",
    reference: "hand-written single-flight (Map of promises)",
    target: 1.1,
    secondary: false,
    redis: false,
    note: "Each caller its own promise (`runPromise` per caller for Effect contenders), launched synchronously " +
      "in a loop. The compute must run once per stampede.",
    contenders: [
      peer("hand-written single-flight (Map of promises)", Stampede.singleFlight),
      peer("lru-cache fetch (fetchMethod)", Stampede.lruFetch),
      peer("effect Cache.get [runPromise per caller]", Stampede.effectCache),
      peer("bentocache getOrSet, memory", Stampede.bentoMemory),
      ours("layercake Cache.getOrCompute [runPromise per caller]", Stampede.layercake)
    ]
  },
  {
    id: "4",
    title: "Miss with an instant compute, distinct keys, one program, memory only",
    unit: "µs",
    per: "miss",
    reference: "effect Cache.get miss [whileLoop]",
    target: 0.5,
    secondary: false,
    redis: false,
    contenders: [
      peer("effect Cache.get miss [whileLoop]", Local.missEffectCache),
      ours("layercake Cache.getOrCompute miss [whileLoop]", Local.missLayercake)
    ]
  },
  {
    id: "5",
    title: "L1 hit through the accessor, one program, 1 KB value",
    unit: "µs",
    per: "read",
    reference: EFFECT_CACHE_GET,
    target: 0.5,
    secondary: false,
    redis: false,
    contenders: l1HitContenders(Local.PROFILE)
  },
  {
    id: "6",
    title: "L1 hit, one runPromise per call, 1 KB value",
    unit: "µs",
    per: "call",
    reference: "floor: runtime.runPromise(Effect.succeed(x))",
    target: 1.3,
    secondary: false,
    redis: false,
    contenders: [
      peer("floor: runtime.runPromise(Effect.succeed(x))", Local.runPromiseFloor),
      peer("effect Cache.get [runPromise per call]", Local.runPromiseEffectCache),
      ours("layercake Cache.getOrCompute [runPromise per call]", Local.runPromiseLayercake("getOrCompute")),
      ours("layercake Cache.get [runPromise per call]", Local.runPromiseLayercake("get"))
    ]
  },
  {
    id: "7",
    title: "Cache.set of the 1 KB value into memory, one program",
    unit: "µs",
    per: "op",
    reference: "Schema.encode of the value [whileLoop]",
    target: 1.5,
    secondary: false,
    redis: false,
    contenders: [
      peer("Schema.encode of the value [whileLoop]", Local.encodeFloor),
      ours("layercake Cache.set [whileLoop]", Local.setLayercake)
    ]
  },
  {
    id: "s1",
    title: "Secondary: L1 hit through the accessor, one program, tiny value {id:1,name:\"ada\"}",
    unit: "µs",
    per: "read",
    reference: EFFECT_CACHE_GET,
    target: undefined,
    secondary: true,
    redis: false,
    contenders: l1HitContenders(Local.TINY)
  },
  {
    id: "s2",
    title: "Secondary: L2 hit, sequential, 1 KB value, the same key every read (L2-only setups)",
    unit: "µs",
    per: "read",
    reference: RAW,
    target: undefined,
    secondary: true,
    redis: true,
    contenders: [
      peer(RAW, l2(sameKey, raw)),
      peer("bentocache getOrSet, Redis only", l2(sameKey, bentoL2)),
      ours("layercake RedisTier [runPromise per call]", l2(sameKey, ourL2)),
      ours("layercake RedisTier [whileLoop]", l2(sameKeyLoop, ourL2))
    ]
  }
]
