/**
 * The value every row caches: a user profile of ~1 KB as JSON (nested
 * objects, arrays of strings and of small objects, numbers, booleans, ISO date
 * strings), deterministic per id, with its Schema. Dates stay ISO strings
 * (`Schema.String`) so that the raw `JSON.parse` reference builds the same
 * value as a Schema decode.
 *
 * Also the tiny value of the old bench, for the secondary rows.
 */
import * as Schema from "effect/Schema"

const Geo = Schema.Struct({ lat: Schema.Number, lng: Schema.Number })

const Address = Schema.Struct({
  street: Schema.String,
  city: Schema.String,
  postalCode: Schema.String,
  country: Schema.String,
  geo: Geo
})

const Company = Schema.Struct({
  name: Schema.String,
  department: Schema.String,
  title: Schema.String,
  startedAt: Schema.String
})

const Preferences = Schema.Struct({
  theme: Schema.Literal("light", "dark", "system"),
  language: Schema.String,
  timezone: Schema.String,
  newsletter: Schema.Boolean,
  notifications: Schema.Struct({ email: Schema.Boolean, sms: Schema.Boolean, push: Schema.Boolean })
})

const Device = Schema.Struct({
  id: Schema.String,
  platform: Schema.String,
  trusted: Schema.Boolean,
  lastSeenAt: Schema.String
})

export const ProfileSchema = Schema.Struct({
  id: Schema.Number,
  username: Schema.String,
  email: Schema.String,
  firstName: Schema.String,
  lastName: Schema.String,
  age: Schema.Number,
  verified: Schema.Boolean,
  active: Schema.Boolean,
  score: Schema.Number,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  lastLoginAt: Schema.String,
  address: Address,
  company: Company,
  preferences: Preferences,
  roles: Schema.Array(Schema.String),
  tags: Schema.Array(Schema.String),
  devices: Schema.Array(Device),
  stats: Schema.Struct({ posts: Schema.Number, followers: Schema.Number, following: Schema.Number }),
  bio: Schema.String
})
export type Profile = typeof ProfileSchema.Type

const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken"]
const LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson"]
const CITIES = ["London", "Arlington", "Manchester", "Rotterdam", "Boston", "Stanford", "Paoli", "Berkeley"]
const COUNTRIES = ["GB", "US", "GB", "NL", "US", "US", "US", "US"]
const THEMES = ["light", "dark", "system"] as const
const EPOCH = Date.UTC(2020, 0, 1)
const DAY = 86_400_000

const iso = (ms: number) => new Date(ms).toISOString()

/** The profile of user `id`: the same object shape and size for every id. */
export const profile = (id: number): Profile => {
  const n = id % 8
  const first = FIRST[n]
  const last = LAST[n]
  const username = `${first.toLowerCase()}.${last.toLowerCase()}${id}`
  const created = EPOCH + (id % 1000) * DAY
  return {
    id,
    username,
    email: `${username}@example.com`,
    firstName: first,
    lastName: last,
    age: 20 + (id % 50),
    verified: id % 3 !== 0,
    active: id % 7 !== 0,
    score: Math.round(((id * 7919) % 10_000) / 3) / 100,
    createdAt: iso(created),
    updatedAt: iso(created + 30 * DAY),
    lastLoginAt: iso(created + 90 * DAY + (id % 86_400) * 1000),
    address: {
      street: `${100 + (id % 900)} Analytical Engine Road`,
      city: CITIES[n],
      postalCode: String(10_000 + (id % 90_000)),
      country: COUNTRIES[n],
      geo: { lat: 51.5 + (id % 100) / 1000, lng: -0.12 - (id % 100) / 1000 }
    },
    company: {
      name: `${last} & Partners Ltd`,
      department: id % 2 === 0 ? "Engineering" : "Research",
      title: id % 5 === 0 ? "Principal Engineer" : "Software Engineer",
      startedAt: iso(created - 400 * DAY)
    },
    preferences: {
      theme: THEMES[id % 3],
      language: id % 2 === 0 ? "en-GB" : "en-US",
      timezone: id % 2 === 0 ? "Europe/London" : "America/New_York",
      newsletter: id % 4 === 0,
      notifications: { email: true, sms: id % 2 === 0, push: id % 3 === 0 }
    },
    roles: id % 10 === 0 ? ["user", "admin", "billing"] : ["user", "editor"],
    tags: ["early-adopter", "beta", `cohort-${id % 12}`, "newsletter"],
    devices: [0, 1].map((d) => ({
      id: `dev-${id}-${d}`,
      platform: d === 0 ? "ios" : "web",
      trusted: d === 0,
      lastSeenAt: iso(created + (60 + d) * DAY)
    })),
    stats: { posts: id % 500, followers: (id * 13) % 10_000, following: (id * 7) % 1000 },
    bio: `Engineer at ${last} & Partners, writes about caches.`
  }
}

/** The tiny value of the old bench (secondary rows only). */
export const TinySchema = Schema.Struct({ id: Schema.Number, name: Schema.String })
export const tiny: typeof TinySchema.Type = { id: 1, name: "ada" }
