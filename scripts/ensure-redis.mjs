// Runs before `pnpm test`: the redis package's tests start their own redis-server
// processes, so the binary must be on PATH. Installs it with apt when we can (CI,
// root on Debian/Ubuntu); otherwise says how to get it.
import { execSync } from "node:child_process"

const has = (command) => {
  try {
    execSync(`command -v ${command}`, { stdio: "ignore", shell: "/bin/bash" })
    return true
  } catch {
    return false
  }
}

if (process.env.REDIS_URL !== undefined || has("redis-server")) process.exit(0)
if (process.getuid?.() === 0 && has("apt-get")) {
  console.log("redis-server not found: installing it with apt-get")
  execSync("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools", {
    stdio: "inherit",
    shell: "/bin/bash"
  })
  process.exit(0)
}
console.error("redis-server is not on PATH: install Redis 7 (e.g. `sudo apt-get install redis-server`) or set REDIS_URL")
process.exit(1)
