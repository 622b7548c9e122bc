/**
 * When each Redis node last sent this process anything, so that a timeout
 * can tell a Redis that is down or stalled (silent) from one that is busy
 * sending a big reply or replies queued before ours (talking). Only silence
 * counts against the circuit breaker.
 *
 * @internal
 */
import type { Cluster, Redis } from "ioredis"

type Socket = { on(event: "data", listener: () => void): unknown }
type Node = Redis & { readonly stream?: Socket; readonly options: { host?: string; port?: number } }

/** @internal */
export class Activity {
  /** The last time (`performance.now()`) any node sent data, and each node's. */
  private anyAt = -Infinity
  private readonly byNode = new Map<string, number>()
  private readonly watched = new WeakSet<object>()

  constructor(client: Redis | Cluster, isCluster: boolean) {
    if (isCluster) {
      const cluster = client as Cluster
      for (const node of cluster.nodes()) this.watchNode(node as Node, addressOf(node as Node))
      cluster.on("+node", (node: Node) => this.watchNode(node, addressOf(node)))
    } else {
      this.watchNode(client as Node, undefined)
    }
  }

  /** Whether `node` (any node when `undefined`) sent data after `since`. */
  talkedSince(node: string | undefined, since: number): boolean {
    const at = node === undefined ? this.anyAt : this.byNode.get(node)
    return at !== undefined && at > since
  }

  private watchNode(node: Node, address: string | undefined): void {
    const mark = () => {
      const now = performance.now()
      this.anyAt = now
      if (address !== undefined) this.byNode.set(address, now)
    }
    const watchSocket = () => {
      const socket = node.stream
      if (socket === undefined || this.watched.has(socket)) return
      this.watched.add(socket)
      socket.on("data", mark)
    }
    watchSocket()
    node.on("connect", watchSocket)
  }
}

const addressOf = (node: Node): string => `${node.options.host}:${node.options.port}`
