import type * as Schema from "effect/Schema"
import { copied, HALVES_PER_SLOT, SCHEMA, type SlotRecords } from "./slotRecords.js"

/**
 * The schema of every slot, as a 2-byte id (in the slot's record) into a
 * table of the distinct schemas in use (a cache holds many entries of few
 * schemas), instead of an 8-byte reference per slot. A schema is counted by
 * the slots using it and forgotten with its last slot, so schemas built on the
 * fly do not pile up. If more than 65 535 schemas are ever in use at once, the
 * ids move to a `Uint32Array` of their own.
 * @internal
 */
export class SchemaTable {
  private readonly idBySchema = new Map<Schema.Schema<any, any>, number>()
  /** Id 0 is "no schema" (a free slot). */
  private schemas: Array<Schema.Schema<any, any> | undefined> = [undefined]
  private uses: Array<number> = [0]
  private freeIds: Array<number> = []
  private wideIds: Uint32Array | undefined = undefined

  constructor(private readonly records: SlotRecords) {}

  /** Distinct schemas in use. */
  get size(): number {
    return this.idBySchema.size
  }

  schemaAt(slot: number): Schema.Schema<any, any> {
    return this.schemas[this.idAt(slot)]!
  }

  /** Sets the schema of `slot`, releasing the one it had. */
  assign(slot: number, schema: Schema.Schema<any, any>): void {
    const previous = this.idAt(slot)
    if (this.schemas[previous] === schema) return
    let id = this.idBySchema.get(schema)
    if (id === undefined) id = this.register(schema)
    this.uses[id]++
    this.setId(slot, id)
    this.releaseId(previous)
  }

  release(slot: number): void {
    this.releaseId(this.idAt(slot))
    this.setId(slot, 0)
  }

  grow(capacity: number): void {
    if (this.wideIds !== undefined) this.wideIds = copied(this.wideIds, capacity)
  }

  private idAt(slot: number): number {
    return this.wideIds === undefined ? this.records.halves[slot * HALVES_PER_SLOT + SCHEMA] : this.wideIds[slot]
  }

  private setId(slot: number, id: number): void {
    if (this.wideIds === undefined) this.records.halves[slot * HALVES_PER_SLOT + SCHEMA] = id
    else this.wideIds[slot] = id
  }

  private register(schema: Schema.Schema<any, any>): number {
    let id = this.freeIds.pop()
    if (id === undefined) {
      id = this.schemas.length
      this.schemas.push(undefined)
      this.uses.push(0)
      if (id > 0xffff && this.wideIds === undefined) this.widen()
    }
    this.schemas[id] = schema
    this.idBySchema.set(schema, id)
    return id
  }

  private widen(): void {
    const halves = this.records.halves
    const wideIds = new Uint32Array(halves.length / HALVES_PER_SLOT)
    for (let slot = 0; slot < wideIds.length; slot++) wideIds[slot] = halves[slot * HALVES_PER_SLOT + SCHEMA]
    this.wideIds = wideIds
  }

  private releaseId(id: number): void {
    if (id === 0 || --this.uses[id] > 0) return
    this.idBySchema.delete(this.schemas[id]!)
    this.schemas[id] = undefined
    this.freeIds.push(id)
  }
}
