/**
 * vitest global setup of the redis project: one standalone redis-server and
 * one 3-master cluster on free loopback ports (never the machine's shared
 * Redis on 6379), or the servers named by `REDIS_URL` / `REDIS_CLUSTER_NODES`
 * (`host:port,host:port,…`). Tests read them with `inject("redisUrl")` and
 * `inject("redisClusterNodes")`.
 */
import type { TestProject } from "vitest/node"
import { type Address, startCluster, startRedis } from "./redisServer.js"

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string
    redisClusterNodes: ReadonlyArray<Address>
  }
}

const isSharedDefault = (url: string) => /^redis:\/\/(127\.0\.0\.1|localhost)(:6379)?\/?$/.test(url)

const parseNodes = (text: string): ReadonlyArray<Address> =>
  text.split(",").map((part) => {
    const [host, port] = part.trim().split(":")
    return { host, port: Number(port) }
  })

export default async function setup(project: TestProject) {
  const stops: Array<() => Promise<void>> = []
  const stopAll = async () => {
    await Promise.all(stops.map((stop) => stop()))
  }
  try {
    await startAll(project, stops)
  } catch (error) {
    await stopAll()
    throw error
  }
  return stopAll
}

const startAll = async (project: TestProject, stops: Array<() => Promise<void>>) => {
  const envUrl = process.env.REDIS_URL
  if (envUrl !== undefined && !isSharedDefault(envUrl)) {
    project.provide("redisUrl", envUrl)
  } else {
    const server = await startRedis()
    stops.push(server.stop)
    project.provide("redisUrl", server.url)
  }
  const envNodes = process.env.REDIS_CLUSTER_NODES
  if (envNodes !== undefined && envNodes !== "") {
    project.provide("redisClusterNodes", parseNodes(envNodes))
  } else {
    const cluster = await startCluster()
    stops.push(cluster.stop)
    project.provide("redisClusterNodes", cluster.nodes)
  }
}
