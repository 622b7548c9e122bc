/**
 * The HTTP API example keeps working: its server on a free port, over a fresh
 * disk directory, answers a repeated GET from the cache and a PUT invalidates it.
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as HttpApi from "../src/httpApi.js"

const request = (url: string, init?: RequestInit) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, headers: response.headers, body: await response.text() }
  })

describe("httpApi example", () => {
  it.scopedLive("serves a repeated GET from the cache; a PUT invalidates it", () =>
    Effect.gen(function*() {
      const directory = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "layercake-http-api-"))),
        (directory) => Effect.promise(() => rm(directory, { recursive: true, force: true }))
      )
      const context = yield* Layer.build(HttpApi.layer({ port: 0, directory }))
      const address = Context.get(context, HttpServer.HttpServer).address
      assert.strictEqual(address._tag, "TcpAddress")
      const url = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}/users/1`

      const miss = yield* request(url)
      assert.strictEqual(miss.status, 200)
      assert.deepStrictEqual(JSON.parse(miss.body), { id: 1, name: "user-1", version: 1 })
      assert.include(miss.headers.get("cache-status"), "stored")
      const hit = yield* request(url)
      assert.match(hit.headers.get("cache-status") ?? "", /^layercake; hit\b/)
      assert.strictEqual(hit.body, miss.body)

      const put = yield* request(url, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "Ada" })
      })
      assert.strictEqual(put.status, 200)
      const after = yield* request(url)
      assert.notMatch(after.headers.get("cache-status") ?? "", /^layercake; hit\b/)
      assert.deepStrictEqual(JSON.parse(after.body), { id: 1, name: "Ada", version: 2 })
    }))
})
