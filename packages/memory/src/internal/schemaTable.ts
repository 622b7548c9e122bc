import type * as Schema from "effect/Schema"
import { copied } from "./slotLists.js"

/**
 * The schema of every slot, as a 2-byte id into a table of the distinct
 * schemas in use (a cache holds many entries of few schemas), instead of an
 * 8-byte reference per slot. A schema is counted by the slots using it and
 * forgotten with its last slot, so schemas built on the fly do not pile up.
 * Ids widen to 4 bytes if more than 65 535 schemas are ever in use at once.
 * @internal
 */
export class SchemaTable {
  private readonly idBySchema = new Map<Schema.Schema<any, any>, number>()
  /** Id 0 is "no schema" (a free slot). */
  private schemas: Array<Schema.Schema<any, any> | undefined> = [undefined]
  private uses: Array<number> = [0]
  private freeIds: Array<number> = []
  private ids: Uint16Array | Uint32Array

  constructor(capacity: number) {
    this.ids = new Uint16Array(capacity)
  }

  /** Distinct schemas in use. */
  get size(): number {
    return this.idBySchema.size
  }

  schemaAt(slot: number): Schema.Schema<any, any> {
    return this.schemas[this.ids[slot]]!
  }

  /** Sets the schema of `slot`, releasing the one it had. */
  assign(slot: number, schema: Schema.Schema<any, any>): void {
    const previous = this.ids[slot]
    if (this.schemas[previous] === schema) return
    let id = this.idBySchema.get(schema)
    if (id === undefined) id = this.register(schema)
    this.uses[id]++
    this.ids[slot] = id
    this.releaseId(previous)
  }

  release(slot: number): void {
    this.releaseId(this.ids[slot])
    this.ids[slot] = 0
  }

  grow(capacity: number): void {
    this.ids = copied(this.ids, capacity)
  }

  clear(): void {
    this.idBySchema.clear()
    this.schemas = [undefined]
    this.uses = [0]
    this.freeIds = []
    this.ids.fill(0)
  }

  private register(schema: Schema.Schema<any, any>): number {
    let id = this.freeIds.pop()
    if (id === undefined) {
      id = this.schemas.length
      this.schemas.push(undefined)
      this.uses.push(0)
      if (id > 0xffff && this.ids instanceof Uint16Array) this.ids = Uint32Array.from(this.ids)
    }
    this.schemas[id] = schema
    this.idBySchema.set(schema, id)
    return id
  }

  private releaseId(id: number): void {
    if (id === 0 || --this.uses[id] > 0) return
    this.idBySchema.delete(this.schemas[id]!)
    this.schemas[id] = undefined
    this.freeIds.push(id)
  }
}
