/**
 * The bench's own redis-server on a free loopback port (never the machine's
 * 6379), started through `pin` (e.g. `taskset -c 0`) so that it does not
 * share a CPU with the client under test. REDIS_URL overrides it (unpinned).
 */
import { Redis } from "ioredis"
import { spawn } from "node:child_process"
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

/** Every key the user bench writes starts with this. */
export const KEY_PREFIX = "user-bench-"

export interface BenchRedis {
  readonly url: string
  readonly description: string
  readonly flush: () => Promise<void>
  readonly stop: () => Promise<void>
}

export const startRedis = async (pin: ReadonlyArray<string>): Promise<BenchRedis> => {
  const external = process.env.REDIS_URL
  let stopServer = () => Promise.resolve()
  let url: string
  let description: string
  if (external !== undefined && external !== "") {
    url = external
    description = `REDIS_URL (${url}), not started nor pinned by the bench`
  } else {
    const port = await freePort()
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    const [command, ...rest] = [...pin, "redis-server", ...args, "--loglevel", "warning"]
    const child = spawn(command, rest, { stdio: "ignore" })
    const exited = new Promise((resolve) => child.once("exit", resolve))
    process.once("exit", () => child.kill("SIGKILL"))
    url = `redis://127.0.0.1:${port}`
    description = `redis-server on 127.0.0.1:${port}${pin.length > 0 ? `, started with \`${pin.join(" ")}\`` : ""}`
    stopServer = async () => {
      child.kill("SIGKILL")
      await exited
    }
  }
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on("error", () => {})
  for (let attempt = 0;; attempt++) {
    try {
      await client.connect()
      await client.ping()
      break
    } catch {
      if (attempt > 100) throw new Error(`redis-server did not start (${url})`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const version = /redis_version:(\S+)/.exec(await client.info("server"))?.[1] ?? "?"
  return {
    url,
    description: `${description}, Redis ${version}`,
    // only the bench's own keys on a server the bench did not start
    flush: async () => {
      if (external === undefined || external === "") {
        await client.flushall()
        return
      }
      for await (const keys of client.scanStream({ match: `${KEY_PREFIX}*`, count: 1000 })) {
        if ((keys as Array<string>).length > 0) await client.unlink(...(keys as Array<string>))
      }
    },
    stop: async () => {
      client.disconnect()
      await stopServer()
    }
  }
}
