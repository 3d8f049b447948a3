/**
 * LIKE matching with Postgres' semantics and cost: `like_match.c`'s MatchText (`%` any run,
 * `_` one character, `\` escapes the next character; a pattern ending in `\` is an error only
 * when the match gets there), unrolled into a loop.
 *
 * MatchText recurses at each `%` but never backtracks into an earlier one: a `%` frame returns
 * its inner frame's answer unless it is "no match here" (which only the innermost frame can
 * get, from a mismatch before the next `%`), and "text exhausted" aborts every frame. So only
 * the innermost `%` scan is ever resumed, and one (pattern position, attempt start) pair is all
 * the state there is: O(text × pattern) at worst, never exponential, no stack per `%`.
 *
 * Strings are compared by UTF-16 code unit in lockstep, as Postgres compares UTF-8 bytes, and
 * `_` or a `%` scan steps one code point, as Postgres steps one character.
 */
import { EvaluationError } from "./evaluation-error";

const PERCENT = 0x25;
const UNDERSCORE = 0x5f;
const BACKSLASH = 0x5c;

/** `text LIKE pattern`; ILIKE is this over both sides lowered, as Postgres does for UTF-8. */
export function likeMatch(text: string, pattern: string): boolean {
  if (pattern === "%") return true;
  const textLength = text.length;
  const patternLength = pattern.length;
  let t = 0;
  let p = 0;
  // The innermost `%`: where the rest of the pattern starts, the code unit that rest must
  // start with, and where the current attempt started in the text (-1: no `%` yet).
  let restAt = -1;
  let restFirst = 0;
  let attemptAt = 0;
  for (;;) {
    let mismatch = false;
    while (t < textLength && p < patternLength) {
      const c = pattern.charCodeAt(p);
      if (c === BACKSLASH) {
        p++;
        if (p >= patternLength) throw escapeAtEnd();
        if (pattern.charCodeAt(p) !== text.charCodeAt(t)) {
          mismatch = true;
          break;
        }
      } else if (c === PERCENT) {
        p++;
        // `%`s and `_`s after it: N `_`s and any `%`s match at least N characters.
        while (p < patternLength) {
          const next = pattern.charCodeAt(p);
          if (next === PERCENT) p++;
          else if (next === UNDERSCORE) {
            if (t >= textLength) return false;
            t += charLength(text, t);
            p++;
          } else break;
        }
        if (p >= patternLength) return true;
        if (pattern.charCodeAt(p) === BACKSLASH) {
          if (patternLength - p < 2) throw escapeAtEnd();
          restFirst = pattern.charCodeAt(p + 1);
        } else restFirst = pattern.charCodeAt(p);
        restAt = p;
        t = findStart(text, t, restFirst);
        if (t < 0) return false;
        attemptAt = t;
        continue;
      } else if (c === UNDERSCORE) {
        t += charLength(text, t);
        p++;
        continue;
      } else if (c !== text.charCodeAt(t)) {
        mismatch = true;
        break;
      }
      t++;
      p++;
    }
    if (!mismatch) {
      if (t < textLength) mismatch = true;
      else {
        // Text used up: a match only if the rest of the pattern is `%`s. Either way this
        // answer is final (Postgres' LIKE_TRUE or LIKE_ABORT), whatever `%` we are inside.
        while (p < patternLength && pattern.charCodeAt(p) === PERCENT) p++;
        return p >= patternLength;
      }
    }
    if (restAt < 0) return false;
    t = findStart(text, attemptAt + charLength(text, attemptAt), restFirst);
    if (t < 0) return false;
    attemptAt = t;
    p = restAt;
  }
}

/** First character boundary at or after `from` whose first code unit is `unit`, or -1. */
function findStart(text: string, from: number, unit: number): number {
  for (let t = from; t < text.length; t += charLength(text, t))
    if (text.charCodeAt(t) === unit) return t;
  return -1;
}

/** Code units of the character at `index`: 2 for a surrogate pair, else 1. */
function charLength(text: string, index: number): number {
  const unit = text.charCodeAt(index);
  if (unit < 0xd800 || unit > 0xdbff || index + 1 >= text.length) return 1;
  const low = text.charCodeAt(index + 1);
  return low >= 0xdc00 && low <= 0xdfff ? 2 : 1;
}

function escapeAtEnd(): EvaluationError {
  return new EvaluationError("LIKE pattern must not end with escape character");
}
