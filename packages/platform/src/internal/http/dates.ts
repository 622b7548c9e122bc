/**
 * HTTP-date (RFC 9110 §5.6.7): IMF-fixdate and the two obsolete forms, as
 * milliseconds; anything else (e.g. `Expires: 0`, which `Date.parse` reads
 * as the year 2000) is `undefined`.
 *
 * @internal
 */

const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/
const RFC_850 = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/
const ASCTIME = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/

/** @internal */
export const parse = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined
  const trimmed = text.trim()
  if (!IMF_FIXDATE.test(trimmed) && !RFC_850.test(trimmed) && !ASCTIME.test(trimmed)) return undefined
  const millis = Date.parse(ASCTIME.test(trimmed) ? `${trimmed} GMT` : trimmed)
  return Number.isFinite(millis) ? millis : undefined
}
