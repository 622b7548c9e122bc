/**
 * Response bodies as the cache sees them: bytes it can store, or a body it
 * passes through (too big, or of a kind it does not store).
 *
 * @internal
 */
import type * as HttpBody from "@effect/platform/HttpBody"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/** @internal */
export type Buffered =
  | { readonly _tag: "Bytes"; readonly bytes: Uint8Array; readonly contentType: string | undefined }
  | { readonly _tag: "PassThrough"; readonly body: HttpBody.HttpBody; readonly reason: string }

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

/**
 * Reads a streamed body up to `maxBytes`. Past it, the body is passed through
 * whole: the chunks read so far, then the rest of the same stream (its scope
 * closes when that stream ends).
 */
const bufferStream = (body: HttpBody.Stream, maxBytes: number): Effect.Effect<Buffered, unknown> =>
  Effect.gen(function*() {
    if (body.contentLength !== undefined && body.contentLength > maxBytes) {
      return { _tag: "PassThrough", body, reason: "body over maxBodyBytes" } as const
    }
    const scope = yield* Scope.make()
    const pull = yield* Scope.extend(Stream.toPull(body.stream), scope)
    const chunks: Array<Uint8Array> = []
    let size = 0
    for (;;) {
      const next = yield* Effect.either(pull)
      if (next._tag === "Left") {
        if (Option.isSome(next.left)) {
          yield* Scope.close(scope, Exit.void)
          return yield* Effect.fail(next.left.value)
        }
        yield* Scope.close(scope, Exit.void)
        return { _tag: "Bytes", bytes: concat(chunks, size), contentType: body.contentType } as const
      }
      for (const chunk of next.right) {
        chunks.push(chunk)
        size += chunk.length
      }
      if (size > maxBytes) {
        const rest = Stream.repeatEffectChunkOption(pull).pipe(Stream.ensuring(Scope.close(scope, Exit.void)))
        const stream = Stream.concat(Stream.fromChunk(Chunk.unsafeFromArray(chunks)), rest)
        const passed: HttpBody.Stream = { ...body, stream } as HttpBody.Stream
        return { _tag: "PassThrough", body: passed, reason: "body over maxBodyBytes" } as const
      }
    }
  })

/** @internal */
export const buffer = (body: HttpBody.HttpBody, maxBytes: number): Effect.Effect<Buffered, unknown> => {
  switch (body._tag) {
    case "Empty":
      return Effect.succeed({ _tag: "Bytes", bytes: new Uint8Array(0), contentType: undefined })
    case "Uint8Array":
      return Effect.succeed(
        body.body.length > maxBytes
          ? { _tag: "PassThrough", body, reason: "body over maxBodyBytes" }
          : { _tag: "Bytes", bytes: body.body, contentType: body.contentType }
      )
    case "Stream":
      return bufferStream(body, maxBytes)
    default:
      return Effect.succeed({ _tag: "PassThrough", body, reason: `a ${body._tag} body` })
  }
}

/** A weak ETag from the body's length and a 53-bit hash of it (cyrb53): enough to tell versions apart. @internal */
export const weakEtag = (bytes: Uint8Array): string => {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i], 2654435761)
    h2 = Math.imul(h2 ^ bytes[i], 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  const hash = 4294967296 * (2097151 & h2) + (h1 >>> 0)
  return `W/"${bytes.length.toString(16)}-${hash.toString(36)}"`
}
