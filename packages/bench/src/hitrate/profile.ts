/**
 * A ~1 KB nested value (a user profile) and its Schema, shared by the memory
 * and cost benches: one distinct object per key, built before any measurement.
 */
import * as Schema from "effect/Schema"

export const Profile = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  email: Schema.String,
  createdAt: Schema.String,
  address: Schema.Struct({ street: Schema.String, city: Schema.String, zip: Schema.String, country: Schema.String }),
  roles: Schema.Array(Schema.String),
  settings: Schema.Struct({
    theme: Schema.String,
    locale: Schema.String,
    notifications: Schema.Boolean,
    pageSize: Schema.Number
  }),
  history: Schema.Array(Schema.Struct({ at: Schema.String, action: Schema.String, count: Schema.Number }))
})
export type Profile = typeof Profile.Type

export const profile = (id: number): Profile => ({
  id,
  name: `User Number ${id}`,
  email: `user.${id}@example.com`,
  createdAt: "2020-01-01T00:00:00.000Z",
  address: { street: `${id} Analytical Engine Road`, city: "London", zip: "N1 9GU", country: "United Kingdom" },
  roles: ["admin", "editor", "viewer", "billing"],
  settings: { theme: "dark", locale: "en-GB", notifications: id % 2 === 0, pageSize: 50 },
  history: Array.from(
    { length: 8 },
    (_, i) => ({ at: `2024-0${(i % 9) + 1}-01T00:00:00.000Z`, action: `login-${id}-${i}`, count: i * 7 })
  )
})
