/**
 * Live clients of one shape send the same URL (same handle and offset) thousands of times per
 * write, apart from `cursor`, which Electric jitters per client within a long-poll window.
 * Parsing and validating each distinct URL-without-cursor once saves that work on the hot
 * path; the secret is part of the URL, so a hit is a URL that already passed the secret check.
 */
import type { ShapeRequest } from "../protocol/request";
import type { ShapeDefinition } from "../shapes/definition";
import { LIVE_CACHE_BUSTER_QUERY_PARAM } from "../protocol/constants";

export interface ParsedShapeRequest {
  request: ShapeRequest;
  definition: ShapeDefinition;
}

/** Enough for every live client's URL between two writes; cleared whole when full. */
const MAX_ENTRIES = 4096;
const CURSOR_VALUE = /^\d{0,20}$/;

export class ParsedRequestCache {
  private readonly entries = new Map<string, ParsedShapeRequest>();

  /** The parsed request for `url` with this request's own cursor, if the URL was seen. */
  get(url: string): ParsedShapeRequest | undefined {
    const split = splitCursor(url);
    if (!split) return undefined;
    const parsed = this.entries.get(split.key);
    if (!parsed) return undefined;
    if (parsed.request.cursor === split.cursor) return parsed;
    return {
      request: { ...parsed.request, cursor: split.cursor },
      definition: parsed.definition,
    };
  }

  set(url: string, parsed: ParsedShapeRequest): void {
    const split = splitCursor(url);
    if (!split) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(split.key, parsed);
  }
}

/**
 * `url` without its `cursor` parameter, and that parameter's value. Undefined (not cached)
 * unless the cursor appears at most once and is plain digits, as servers hand it out: anything
 * else takes the full parser.
 */
export function splitCursor(
  url: string,
): { key: string; cursor: string | undefined } | undefined {
  const name = `${LIVE_CACHE_BUSTER_QUERY_PARAM}=`;
  const query = url.indexOf("?");
  if (query < 0) return { key: url, cursor: undefined };
  let start = -1;
  for (
    let at = url.indexOf(name, query);
    at >= 0;
    at = url.indexOf(name, at + 1)
  ) {
    // Right after the query's `?` or after a `&`: a parameter name, not the tail of another
    // one (`xcursor=`) nor text inside a value (`where=a?cursor=1`: a `?` in a value is legal).
    if (at !== query + 1 && url.charCodeAt(at - 1) !== 38) continue;
    if (start >= 0) return undefined;
    start = at;
  }
  if (start < 0) return { key: url, cursor: undefined };
  const valueStart = start + name.length;
  const ampersand = url.indexOf("&", valueStart);
  const end = ampersand < 0 ? url.length : ampersand;
  const cursor = url.slice(valueStart, end);
  if (!CURSOR_VALUE.test(cursor)) return undefined;
  // Drop `cursor=…` and one adjacent separator.
  const key =
    ampersand < 0
      ? url.slice(0, start - 1)
      : url.slice(0, start) + url.slice(ampersand + 1);
  return { key, cursor };
}
