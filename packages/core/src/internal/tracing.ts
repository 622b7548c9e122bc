import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"

/** The tracer of Effect's default services (no exporter behind it). */
const builtInTracer = Effect.runSync(Effect.tracer)

/**
 * `self` in a span, unless `tracer` is Effect's built-in one. Spans are made
 * only when a tracer is installed (e.g. `@effect/opentelemetry`): under the
 * built-in tracer, whose spans go nowhere, a span would cost about 8 µs per
 * operation (random ids, a map, two clock reads), more than the rest of an L2
 * hit's CPU work.
 * @internal
 */
export const traced = <A, E, R>(
  tracer: Tracer.Tracer,
  self: Effect.Effect<A, E, R>,
  name: string,
  attributes: Record<string, unknown>
): Effect.Effect<A, E, R> =>
  tracer === builtInTracer ? self : Effect.withSpan(self, name, { captureStackTrace: false, attributes })

/** `traced` with the current fiber's tracer. @internal */
export const span =
  (name: string, attributes: Record<string, unknown>) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.tracerWith((tracer) => traced(tracer, self, name, attributes))
