/**
 * Starts and stops real `redis-server` processes on free loopback ports, each
 * in its own temporary directory, with persistence off. Used by the vitest
 * global setup (one standalone server, one 3-master cluster) and by fault
 * tests, which start dedicated servers they can kill, restart and pause.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

export interface Address {
  readonly host: string
  readonly port: number
}

/** A port nobody listens on right now (the kernel's pick). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/** Sends PING over a raw socket; true on +PONG. */
export const ping = (port: number, timeoutMs = 200): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.on("error", () => done(false))
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")))
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(25)
  }
  throw new Error(`timed out waiting for ${what}`)
}

export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly address: Address
  /** SIGKILL, as a crash. */
  readonly kill: () => Promise<void>
  /** Starts it again on the same port and directory (empty: no persistence). */
  readonly restart: () => Promise<void>
  /** SIGSTOP: the process stops answering but keeps its sockets open. */
  readonly pause: () => void
  /** SIGCONT. */
  readonly resume: () => void
  /** Stops it for good and removes its directory. */
  readonly stop: () => Promise<void>
}

export interface StartOptions {
  readonly port?: number
  readonly args?: ReadonlyArray<string>
  /** Written to `redis.conf` in the server's directory and passed first (Sentinel needs a writable config file). */
  readonly config?: string
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
  })

/**
 * Runs redis-server under a small shell that prints its pid, exits when it
 * exits, and kills it when our end of its stdin closes: if this process dies
 * without stopping its servers (a crash, Ctrl-C), they die with it.
 */
const WRAPPER = [
  "redis-server \"$@\" & pid=$!",
  "echo $pid",
  // A background job's stdin is /dev/null unless redirected: read ours through fd 3.
  "exec 3<&0",
  "(cat <&3 >/dev/null; kill -9 $pid 2>/dev/null) & watchdog=$!",
  "wait $pid",
  "kill $watchdog 2>/dev/null"
].join("; ")

/** Starts a redis-server and waits until it answers PING. */
export const startRedis = async (options: StartOptions = {}): Promise<RedisServer> => {
  const port = options.port ?? (await freePort())
  const dir = mkdtempSync(path.join(os.tmpdir(), `layercake-redis-${port}-`))
  const configArgs: Array<string> = []
  if (options.config !== undefined) {
    const file = path.join(dir, "redis.conf")
    writeFileSync(file, options.config)
    configArgs.push(file)
  }
  const args = [
    ...configArgs,
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--daemonize",
    "no",
    "--protected-mode",
    "no",
    "--loglevel",
    "warning",
    ...(options.args ?? [])
  ]
  let child: ChildProcess
  let pid = 0
  let paused = false
  const launch = async () => {
    child = spawn("sh", ["-c", WRAPPER, "sh", ...args], { stdio: ["pipe", "pipe", "ignore"] })
    child.stdin!.on("error", () => {})
    child.on("error", () => {})
    pid = await new Promise<number>((resolve, reject) => {
      let output = ""
      child.stdout!.on("data", (data) => {
        output += String(data)
        if (output.includes("\n")) resolve(Number(output.split("\n")[0]))
      })
      child.once("exit", () => reject(new Error(`redis-server on port ${port} did not start`)))
    })
    const failed = new Promise<never>((_, reject) => {
      child.once("exit", (code) => reject(new Error(`redis-server on port ${port} exited with ${code}`)))
    })
    try {
      await Promise.race([waitFor(`redis-server on port ${port}`, () => ping(port), 10_000), failed])
    } finally {
      failed.catch(() => {})
      child.removeAllListeners("exit")
    }
  }
  await launch()
  const running = () => child.exitCode === null && child.signalCode === null
  const signal = (name: NodeJS.Signals) => {
    if (running()) process.kill(pid, name)
  }
  const end = async (name: NodeJS.Signals) => {
    if (paused) signal("SIGCONT")
    paused = false
    signal(name)
    const forced = setTimeout(() => signal("SIGKILL"), 5_000)
    await exited(child)
    clearTimeout(forced)
    child.stdin!.end()
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    address: { host: "127.0.0.1", port },
    kill: () => end("SIGKILL"),
    restart: launch,
    pause: () => {
      paused = true
      signal("SIGSTOP")
    },
    resume: () => {
      paused = false
      signal("SIGCONT")
    },
    stop: async () => {
      await end("SIGTERM")
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A Sentinel watching the master on `masterPort` as `name`. */
export const startSentinel = (masterPort: number, name = "mymaster"): Promise<RedisServer> =>
  startRedis({
    config: [
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} 5000`,
      ""
    ].join("\n"),
    args: ["--sentinel"]
  })

export interface RedisCluster {
  readonly nodes: ReadonlyArray<Address>
  /** The masters' processes, in `nodes` order (to pause one). */
  readonly servers: ReadonlyArray<RedisServer>
  readonly stop: () => Promise<void>
}

/** Three masters, no replicas; resolves once every node reports cluster_state:ok. */
export const startCluster = async (): Promise<RedisCluster> => {
  const servers: Array<RedisServer> = []
  try {
    for (let i = 0; i < 3; i++) {
      const busPort = await freePort()
      servers.push(
        await startRedis({
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-port",
            String(busPort),
            "--cluster-node-timeout",
            "2000"
          ]
        })
      )
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...servers.map((server) => `127.0.0.1:${server.port}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes"
    ])
    for (const server of servers) {
      await waitFor(`cluster_state:ok on ${server.port}`, async () => {
        const { stdout } = await run("redis-cli", ["-p", String(server.port), "cluster", "info"])
        return stdout.includes("cluster_state:ok")
      }, 15_000)
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()))
    throw error
  }
  return {
    nodes: servers.map((server) => server.address),
    servers,
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()))
    }
  }
}
