/**
 * Live clients of one shape send byte-identical URLs (same handle, offset and, within one
 * long-poll window, the same cursor), thousands of times per write. Parsing and validating
 * each distinct URL once saves that work on the hot path; the secret is part of the URL, so a
 * hit is a URL that already passed the secret check.
 */
import type { ShapeRequest } from "./protocol/request";
import type { ShapeDefinition } from "./shapes/definition";

export interface ParsedShapeRequest {
  request: ShapeRequest;
  definition: ShapeDefinition;
}

/** Enough for every live client's URL between two writes; cleared whole when full. */
const MAX_ENTRIES = 4096;

export class ParsedRequestCache {
  private readonly entries = new Map<string, ParsedShapeRequest>();

  get(url: string): ParsedShapeRequest | undefined {
    return this.entries.get(url);
  }

  set(url: string, parsed: ParsedShapeRequest): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(url, parsed);
  }
}
