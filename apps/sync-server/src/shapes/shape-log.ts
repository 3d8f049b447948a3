/**
 * A shape's append-only log: JSON-encoded messages with totally ordered offsets. Entries are
 * appended one whole transaction at a time, so the log end is always a transaction boundary and
 * a reader that reaches it can be told "up-to-date" without splitting a transaction.
 *
 * This implementation keeps entries in memory; handles are unique per server start, so after a
 * restart clients of old handles get 409 and refetch (never a gap).
 */
import type { LogOffset } from "../protocol/offset";
import { BEFORE_ALL, compareOffsets } from "../protocol/offset";

export interface LogEntry {
  offset: LogOffset;
  json: string;
}

export interface LogChunk {
  entries: string[];
  /** `entries` joined with commas: the inside of a JSON array body. */
  joined: string;
  /** Offset of the last entry returned, or the requested offset when nothing was returned. */
  lastOffset: LogOffset;
  /** True when the chunk reaches the current end of the log. */
  atEnd: boolean;
}

export class ShapeLog {
  private readonly offsets: LogOffset[] = [];
  private readonly jsons: string[] = [];
  private bytes = 0;
  /**
   * Live clients of one shape all ask for the same offset after each transaction; the chunk
   * (and its joined JSON) is built once and shared until the next append.
   */
  private readonly readCache = new Map<string, LogChunk>();

  get size(): number {
    return this.offsets.length;
  }

  get byteSize(): number {
    return this.bytes;
  }

  get lastOffset(): LogOffset {
    return this.offsets[this.offsets.length - 1] ?? BEFORE_ALL;
  }

  append(entries: readonly LogEntry[]): void {
    if (entries.length > 0) this.readCache.clear();
    for (const entry of entries) {
      const last = this.offsets[this.offsets.length - 1];
      if (last && compareOffsets(entry.offset, last) <= 0)
        throw new Error("shape log offsets must increase");
      this.offsets.push(entry.offset);
      this.jsons.push(entry.json);
      this.bytes += entry.json.length;
    }
  }

  /** Entries strictly after `after`, up to about `maxBytes` of JSON (at least one entry). */
  read(after: LogOffset, maxBytes: number): LogChunk {
    const cacheKey = `${after.tx}_${after.op}_${maxBytes}`;
    const cached = this.readCache.get(cacheKey);
    if (cached) return cached;
    const chunk = this.readUncached(after, maxBytes);
    if (this.readCache.size > 64) this.readCache.clear();
    this.readCache.set(cacheKey, chunk);
    return chunk;
  }

  private readUncached(after: LogOffset, maxBytes: number): LogChunk {
    let index = this.firstIndexAfter(after);
    const entries: string[] = [];
    let size = 0;
    let lastOffset = after;
    while (index < this.offsets.length) {
      const json = this.jsons[index] ?? "";
      if (entries.length > 0 && size + json.length > maxBytes) break;
      entries.push(json);
      size += json.length;
      lastOffset = this.offsets[index] ?? after;
      index++;
    }
    return {
      entries,
      joined: entries.join(","),
      lastOffset,
      atEnd: index >= this.offsets.length,
    };
  }

  hasEntriesAfter(after: LogOffset): boolean {
    return this.firstIndexAfter(after) < this.offsets.length;
  }

  private firstIndexAfter(after: LogOffset): number {
    let low = 0;
    let high = this.offsets.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const offset = this.offsets[middle];
      if (offset && compareOffsets(offset, after) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
