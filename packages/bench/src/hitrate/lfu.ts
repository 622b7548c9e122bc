/**
 * A reference, not a cache one would build: LFU with the exact count of every
 * key over the whole trace so far (resident or not). A miss replaces the
 * least counted resident key when the new key's count is higher. On traces of
 * independent requests (Zipf) this is about the best any policy can do
 * without knowing the future; Belady's optimum knows the future.
 */
import type { Trace } from "./traces.js"

export const exactLfuHits = (trace: Trace, capacity: number): Uint8Array => {
  const { keySpace, requests } = trace
  const count = new Int32Array(keySpace)
  const position = new Int32Array(keySpace).fill(-1)
  // a min-heap of the resident keys by count
  const heap = new Int32Array(capacity)
  let size = 0
  const place = (i: number, key: number) => {
    heap[i] = key
    position[key] = i
  }
  const siftDown = (start: number) => {
    let i = start
    for (;;) {
      const left = 2 * i + 1
      let least = i
      if (left < size && count[heap[left]] < count[heap[least]]) least = left
      if (left + 1 < size && count[heap[left + 1]] < count[heap[least]]) least = left + 1
      if (least === i) return
      const key = heap[i]
      place(i, heap[least])
      place(least, key)
      i = least
    }
  }
  const siftUp = (start: number) => {
    let i = start
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (count[heap[parent]] <= count[heap[i]]) return
      const key = heap[i]
      place(i, heap[parent])
      place(parent, key)
      i = parent
    }
  }
  const hits = new Uint8Array(requests.length)
  for (let i = 0; i < requests.length; i++) {
    const key = requests[i]
    count[key]++
    if (position[key] >= 0) {
      hits[i] = 1
      siftDown(position[key])
    } else if (size < capacity) {
      place(size, key)
      siftUp(size++)
    } else if (count[key] > count[heap[0]]) {
      position[heap[0]] = -1
      place(0, key)
      siftDown(0)
    }
  }
  return hits
}
