/** The store's building blocks: the key index, the slot times, the schema table. */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { hashKey } from "../src/internal/keyHash.js"
import { KeyIndex } from "../src/internal/keyIndex.js"
import { SchemaTable } from "../src/internal/schemaTable.js"
import { FIRST_SLOT, NO_SLOT, SlotRecords } from "../src/internal/slotRecords.js"
import { SlotTimes } from "../src/internal/slotTimes.js"

describe("KeyIndex", () => {
  const commands = fc.array(
    fc.record({ op: fc.constantFrom("add", "remove", "find"), key: fc.integer({ min: 0, max: 40 }) }),
    { maxLength: 400 }
  )

  const replay = (
    ops: ReadonlyArray<{ readonly op: string; readonly key: number }>,
    hashOf: (key: string) => number
  ) => {
    const capacity = FIRST_SLOT + 41
    let grown = FIRST_SLOT + 4
    const records = new SlotRecords(grown)
    const index = new KeyIndex(records, grown)
    const model = new Map<string, number>()
    const freeSlots: Array<number> = []
    let nextSlot = FIRST_SLOT
    for (const { key: n, op } of ops) {
      const key = `key:${n}`
      const hash = hashOf(key)
      if (op === "add" && !model.has(key)) {
        const slot = freeSlots.pop() ?? nextSlot++
        if (slot >= grown) {
          grown = Math.min(capacity, grown * 2)
          records.grow(grown)
          index.grow(grown)
        }
        index.add(slot, key, hash)
        model.set(key, slot)
      } else if (op === "remove" && model.has(key)) {
        index.remove(model.get(key)!)
        freeSlots.push(model.get(key)!)
        model.delete(key)
      }
      for (let k = 0; k <= 40; k++) {
        const probe = `key:${k}`
        assert.strictEqual(index.find(probe, hashOf(probe)), model.get(probe) ?? NO_SLOT)
      }
    }
  }

  it.effect.prop(
    "finds what was added and not removed, through growth",
    { ops: commands },
    ({ ops }) => Effect.sync(() => replay(ops, (key) => hashKey(key, 1)))
  )

  it.effect.prop(
    "with every key on the same home cell and the same tag (deletion shifts the run back)",
    { ops: commands },
    ({ ops }) => Effect.sync(() => replay(ops, () => 0x7fff0000)),
    { fastCheck: { numRuns: 50 } }
  )

  it.effect.prop(
    "with a few home cells",
    { ops: commands },
    ({ ops }) => Effect.sync(() => replay(ops, (key) => hashKey(key, 2) & 0x80000003))
  )
})

describe("SlotTimes", () => {
  const roundTrip = (times: SlotTimes, slot: number, createdAt: number, freshUntil: number, staleUntil: number) => {
    times.set(slot, createdAt, freshUntil, staleUntil)
    return [times.createdAtOf(slot), times.freshUntilOf(slot), times.staleUntilOf(slot)]
  }

  it("gives every time back exactly, compact or not", () => {
    const records = new SlotRecords(8)
    const times = new SlotTimes(records)
    const now = 1_767_225_600_000
    assert.deepStrictEqual(roundTrip(times, 1, now, now + 60_000, now + 120_000), [now, now + 60_000, now + 120_000])
    assert.deepStrictEqual(roundTrip(times, 2, now, Infinity, Infinity), [now, Infinity, Infinity])
    assert.isFalse(times.isGoneAt(2, Number.MAX_VALUE))
    assert.deepStrictEqual(roundTrip(times, 3, 0, 10, 10.5), [0, 10, 10.5], "a fraction switches to doubles")
    assert.deepStrictEqual(times.freshUntilOf(1), now + 60_000, "the slots written before keep their times")
    assert.deepStrictEqual(times.staleUntilOf(2), Infinity)
    assert.deepStrictEqual(roundTrip(times, 4, now, now + 100 * 86_400_000, now - 1), [
      now,
      now + 100 * 86_400_000,
      now - 1
    ])
    records.grow(16)
    times.grow(16)
    assert.deepStrictEqual([times.staleUntilOf(1), times.staleUntilOf(3)], [now + 120_000, 10.5])
  })

  it.effect.prop(
    "round-trips any times",
    { createdAt: fc.double({ noNaN: true }), fresh: fc.double({ noNaN: true }), stale: fc.double({ noNaN: true }) },
    ({ createdAt, fresh, stale }) =>
      Effect.sync(() => {
        const times = new SlotTimes(new SlotRecords(4))
        times.set(1, 1_000, 2_000, 3_000)
        assert.deepStrictEqual(roundTrip(times, 2, createdAt, fresh, stale), [createdAt, fresh, stale])
        assert.deepStrictEqual(
          [times.createdAtOf(1), times.freshUntilOf(1), times.staleUntilOf(1)],
          [1_000, 2_000, 3_000]
        )
        assert.strictEqual(times.isGoneAt(2, stale), true)
      })
  )
})

describe("SchemaTable", () => {
  it("shares one id per schema and forgets a schema with its last slot", () => {
    const table = new SchemaTable(new SlotRecords(8))
    const A = Schema.String
    const B = Schema.Number
    table.assign(3, A)
    table.assign(4, A)
    table.assign(5, B)
    assert.deepStrictEqual([table.schemaAt(3), table.schemaAt(4), table.schemaAt(5), table.size], [A, A, B, 2])
    table.assign(5, A)
    assert.strictEqual(table.size, 1, "B had no slot left")
    table.release(3)
    table.release(4)
    assert.strictEqual(table.size, 1)
    table.release(5)
    assert.strictEqual(table.size, 0)
  })

  it("widens its ids past 65 535 schemas in use", () => {
    const table = new SchemaTable(new SlotRecords(70_010))
    const schemas = Array.from({ length: 70_000 }, () => Schema.String.annotations({}))
    schemas.forEach((schema, i) => table.assign(i + 3, schema))
    assert.strictEqual(table.size, 70_000)
    assert.isTrue(schemas.every((schema, i) => table.schemaAt(i + 3) === schema))
  })
})
