/**
 * Belady's optimum (MIN) with bypass: knowing the whole trace, on a miss with
 * a full cache evict the key used again furthest in the future, or do not keep
 * the requested key at all when it is itself used again later than all of
 * them. No cache can hit more often.
 */
import type { Trace } from "./traces.js"

const NEVER = 0x7fffffff

export const optimalHits = (trace: Trace, capacity: number): Uint8Array => {
  const { keySpace, requests } = trace
  const length = requests.length
  const nextUse = new Int32Array(length)
  const lastSeen = new Int32Array(keySpace).fill(NEVER)
  for (let i = length - 1; i >= 0; i--) {
    nextUse[i] = lastSeen[requests[i]]
    lastSeen[requests[i]] = i
  }

  // a max-heap on next use; entries go stale when their key is used or evicted and are skipped when on top
  const heapNext = new Int32Array(length + 1)
  const heapKey = new Int32Array(length + 1)
  let heapSize = 0
  const push = (next: number, key: number) => {
    let i = heapSize++
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heapNext[parent] >= next) break
      heapNext[i] = heapNext[parent]
      heapKey[i] = heapKey[parent]
      i = parent
    }
    heapNext[i] = next
    heapKey[i] = key
  }
  const pop = () => {
    const next = heapNext[--heapSize]
    const key = heapKey[heapSize]
    let i = 0
    for (;;) {
      let child = 2 * i + 1
      if (child >= heapSize) break
      if (child + 1 < heapSize && heapNext[child + 1] > heapNext[child]) child++
      if (heapNext[child] <= next) break
      heapNext[i] = heapNext[child]
      heapKey[i] = heapKey[child]
      i = child
    }
    heapNext[i] = next
    heapKey[i] = key
  }

  const kept = new Uint8Array(keySpace)
  const keptNextUse = new Int32Array(keySpace)
  let size = 0
  const hits = new Uint8Array(length)
  for (let i = 0; i < length; i++) {
    const key = requests[i]
    const next = nextUse[i]
    if (kept[key] === 1) {
      hits[i] = 1
      keptNextUse[key] = next
      push(next, key)
      continue
    }
    if (next === NEVER) continue
    if (size === capacity) {
      while (kept[heapKey[0]] === 0 || keptNextUse[heapKey[0]] !== heapNext[0]) pop()
      if (heapNext[0] <= next) continue
      kept[heapKey[0]] = 0
      pop()
      size--
    }
    kept[key] = 1
    keptNextUse[key] = next
    push(next, key)
    size++
  }
  return hits
}
