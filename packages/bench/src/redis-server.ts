/**
 * A throw-away redis-server on a free loopback port for the L2 benchmark (or
 * REDIS_URL when set). Never the machine's 6379.
 */
import { Redis } from "ioredis"
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject()))
    })
  })

export interface BenchRedis {
  readonly url: string
  readonly stop: () => Promise<void>
}

export const startRedis = async (): Promise<BenchRedis> => {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: () => Promise.resolve() }
  const port = await freePort()
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
    { stdio: "ignore" }
  )
  const url = `redis://127.0.0.1:${port}`
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on("error", () => {})
  for (let attempt = 0;; attempt++) {
    try {
      await probe.connect()
      await probe.ping()
      break
    } catch {
      if (attempt > 100) throw new Error("redis-server did not start")
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  probe.disconnect()
  return {
    url,
    stop: async () => {
      child.kill("SIGKILL")
      await new Promise((resolve) => child.once("exit", resolve))
    }
  }
}
