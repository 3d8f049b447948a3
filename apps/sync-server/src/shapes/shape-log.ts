/**
 * A shape's append-only log: JSON-encoded messages with totally ordered offsets. Entries are
 * appended one whole transaction at a time, so the log end is always a transaction boundary and
 * a reader that reaches it can be told "up-to-date" without splitting a transaction.
 *
 * The initial snapshot comes first, numbered by chunk as Electric numbers it (SPEC.md
 * "Offsets and chunks"): every row of chunk k has offset `0_<k>`, and `snapshot-end` (`0_inf`)
 * closes the last chunk. A read from `-1` or `0_<k>` answers exactly the next chunk, so an
 * answer for a snapshot offset never changes; a read past the last chunk goes on from `0_inf`.
 *
 * The offsets index lives in memory; the message bodies live in a `PayloadStore`: in memory
 * (no storage directory configured: a restart loses the logs and clients get 409) or in an
 * append-only file (`FilePayloads`), which survives restarts and keeps RAM bounded.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  ftruncateSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from "node:fs";

import type { LogOffset } from "../protocol/offset";
import {
  BEFORE_ALL,
  compareOffsets,
  formatOffset,
  parseOffset,
  SNAPSHOT_END,
} from "../protocol/offset";

export interface LogEntry {
  offset: LogOffset;
  json: string;
}

export interface LogChunk {
  entries: string[];
  /** `entries` joined with commas: the inside of a JSON array body. */
  joined: string;
  /**
   * Where a reader continues from: the offset of the last entry returned (`0_<k>` for snapshot
   * chunk k), or the requested offset when nothing was returned.
   */
  lastOffset: LogOffset;
  /** True when the chunk reaches the current end of the log (never for a snapshot chunk). */
  atEnd: boolean;
  /** False while a snapshot chunk is still being written: more of its rows will follow. */
  complete: boolean;
  /** Index just past the last entry returned, where the rest of an incomplete chunk starts. */
  end: number;
}

/** Where message bodies are kept; entry `i` of the log is payload `i`. */
export interface PayloadStore {
  append(entries: readonly LogEntry[]): void;
  /** Payloads `from` (inclusive) to `to` (exclusive). */
  read(from: number, to: number): string[];
  /** Byte size of payload `index` (for chunking). */
  sizeOf(index: number): number;
  /** Makes appended payloads durable. */
  sync(): void;
  /** Keeps only the first `count` payloads. */
  truncate(count: number): void;
  close(): void;
}

export class MemoryPayloads implements PayloadStore {
  private readonly jsons: string[] = [];
  append(entries: readonly LogEntry[]): void {
    for (const entry of entries) this.jsons.push(entry.json);
  }
  read(from: number, to: number): string[] {
    return this.jsons.slice(from, to);
  }
  sizeOf(index: number): number {
    return this.jsons[index]?.length ?? 0;
  }
  sync(): void {
    // Nothing to make durable: memory logs do not outlive the process by design.
  }
  truncate(count: number): void {
    this.jsons.length = Math.min(count, this.jsons.length);
  }
  close(): void {
    this.jsons.length = 0;
  }
}

/**
 * One file per shape, one line per entry: `<offset>\t<json>\n` (JSON never contains a raw
 * newline). Only byte positions are kept in memory.
 */
export class FilePayloads implements PayloadStore {
  private readonly fd: number;
  private readonly starts: number[] = [];
  private readonly lengths: number[] = [];
  private size: number;
  private dirty = false;
  private closed = false;

  /** Opens (or creates) the file; returns the store and the offsets of existing entries. */
  static open(path: string): { store: FilePayloads; offsets: LogOffset[] } {
    // Not O_APPEND: writes go to explicit positions (after a torn tail is cut off).
    const fd = openSync(path, existsSync(path) ? "r+" : "w+");
    const store = new FilePayloads(fd, statSync(path).size);
    const offsets = store.scan();
    return { store, offsets };
  }

  private constructor(fd: number, size: number) {
    this.fd = fd;
    this.size = size;
  }

  /** Rebuilds the index from the file; a torn last line (crash mid-write) is ignored. */
  private scan(): LogOffset[] {
    const offsets: LogOffset[] = [];
    const buffer = Buffer.alloc(this.size);
    readSync(this.fd, buffer, 0, this.size, 0);
    let position = 0;
    while (position < buffer.length) {
      const newline = buffer.indexOf(10, position);
      if (newline < 0) break;
      const tab = buffer.indexOf(9, position);
      const offset =
        tab > position && tab < newline
          ? parseOffset(buffer.toString("latin1", position, tab))
          : undefined;
      if (!offset) break;
      offsets.push(offset);
      this.starts.push(tab + 1);
      this.lengths.push(newline - tab - 1);
      position = newline + 1;
    }
    // A torn last line (crash mid-append) is cut off; the slot resends that transaction.
    if (position < this.size) ftruncateSync(this.fd, position);
    this.size = position;
    return offsets;
  }

  append(entries: readonly LogEntry[]): void {
    if (entries.length === 0 || this.closed) return;
    const parts: Buffer[] = [];
    let position = this.size;
    for (const entry of entries) {
      const prefix = `${formatOffset(entry.offset)}\t`;
      const json = Buffer.from(entry.json, "utf8");
      this.starts.push(position + prefix.length);
      this.lengths.push(json.length);
      parts.push(Buffer.from(prefix, "latin1"), json, NEWLINE);
      position += prefix.length + json.length + 1;
    }
    const buffer = Buffer.concat(parts);
    let written = 0;
    while (written < buffer.length) {
      written += writeSync(
        this.fd,
        buffer,
        written,
        buffer.length - written,
        this.size + written,
      );
    }
    this.size = position;
    this.dirty = true;
  }

  read(from: number, to: number): string[] {
    // A removed shape's readers are told to refetch; a read racing with removal gets nothing.
    if (this.closed) return [];
    const first = this.starts[from];
    const lastStart = this.starts[to - 1];
    const lastLength = this.lengths[to - 1];
    if (
      first === undefined ||
      lastStart === undefined ||
      lastLength === undefined
    )
      return [];
    const buffer = Buffer.alloc(lastStart + lastLength - first);
    readSync(this.fd, buffer, 0, buffer.length, first);
    const result: string[] = [];
    for (let index = from; index < to; index++) {
      const start = (this.starts[index] ?? 0) - first;
      result.push(
        buffer.toString("utf8", start, start + (this.lengths[index] ?? 0)),
      );
    }
    return result;
  }

  sizeOf(index: number): number {
    return this.lengths[index] ?? 0;
  }

  sync(): void {
    if (!this.dirty || this.closed) return;
    fdatasyncSync(this.fd);
    this.dirty = false;
  }

  truncate(count: number): void {
    if (this.closed || count >= this.starts.length) return;
    // Entry `count` starts right after the newline of entry `count - 1`.
    const previous = count - 1;
    const size =
      previous < 0
        ? 0
        : (this.starts[previous] ?? 0) + (this.lengths[previous] ?? 0) + 1;
    ftruncateSync(this.fd, size);
    this.starts.length = count;
    this.lengths.length = count;
    this.size = size;
    this.dirty = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

const NEWLINE = Buffer.from("\n");
const READ_CACHE_BYTES = 16 * 1024 * 1024;

/** `-1` and `0_<k>`: positions between snapshot chunks. */
function isSnapshotPosition(offset: LogOffset): boolean {
  return offset.tx < 0n || isSnapshotChunk(offset);
}

/** `0_<k>` with k finite: the offset of every row of snapshot chunk k. */
function isSnapshotChunk(offset: LogOffset): boolean {
  return offset.tx === 0n && offset.op !== Infinity;
}

export class ShapeLog {
  private readonly offsets: LogOffset[];
  /**
   * Live clients of one shape all ask for the same offset after each transaction; the chunk
   * (and its joined JSON) is built once and shared until the next append.
   */
  private readonly readCache = new Map<string, LogChunk>();
  private readCacheBytes = 0;

  constructor(
    private readonly payloads: PayloadStore = new MemoryPayloads(),
    existing: LogOffset[] = [],
  ) {
    this.offsets = existing;
  }

  get size(): number {
    return this.offsets.length;
  }

  get lastOffset(): LogOffset {
    return this.offsets[this.offsets.length - 1] ?? BEFORE_ALL;
  }

  append(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    let last = this.lastOffset;
    for (const entry of entries) {
      const order = compareOffsets(entry.offset, last);
      // The rows of one snapshot chunk share its offset.
      if (order < 0 || (order === 0 && !isSnapshotChunk(entry.offset)))
        throw new Error("shape log offsets must increase");
      last = entry.offset;
    }
    this.payloads.append(entries);
    for (const entry of entries) this.offsets.push(entry.offset);
    this.readCache.clear();
    this.readCacheBytes = 0;
  }

  /**
   * What a reader at `after` gets next: from `-1` or `0_<k>`, the next snapshot chunk (possibly
   * still being written: `complete` false); past the snapshot, the entries strictly after
   * `after` up to the one that reaches `maxBytes` of JSON.
   */
  read(after: LogOffset, maxBytes: number): LogChunk {
    const cacheKey = `${after.tx}_${after.op}_${maxBytes}`;
    const cached = this.readCache.get(cacheKey);
    if (cached) return cached;
    const chunkStart = this.snapshotChunkStart(after);
    const chunk =
      chunkStart === undefined
        ? this.readUncached(this.readPosition(after), maxBytes)
        : this.snapshotChunk(chunkStart.number, chunkStart.index);
    // Bounded: a few recent chunks, at most READ_CACHE_BYTES of JSON per shape.
    const size = chunk.joined.length;
    if (size <= READ_CACHE_BYTES) {
      if (
        this.readCache.size >= 16 ||
        this.readCacheBytes + size > READ_CACHE_BYTES
      ) {
        this.readCache.clear();
        this.readCacheBytes = 0;
      }
      this.readCache.set(cacheKey, chunk);
      this.readCacheBytes += size;
    }
    return chunk;
  }

  /** The rows of an incomplete snapshot chunk appended since `previous` was read. */
  readMore(previous: LogChunk): LogChunk {
    return this.snapshotChunk(previous.lastOffset.op, previous.end);
  }

  private readUncached(after: LogOffset, maxBytes: number): LogChunk {
    const from = this.firstIndexAfter(after);
    let to = from;
    // As Electric cuts chunks: the entry that brings a chunk to `maxBytes` closes it (a
    // separator counted per entry).
    for (let size = 0; to < this.offsets.length && size < maxBytes; to++)
      size += this.payloads.sizeOf(to) + 1;
    const entries = to > from ? this.payloads.read(from, to) : [];
    return {
      entries,
      joined: entries.join(","),
      lastOffset: to > from ? (this.offsets[to - 1] ?? after) : after,
      atEnd: to >= this.offsets.length,
      complete: true,
      end: to,
    };
  }

  /**
   * Snapshot chunk `number` from entry `from` on: its rows, plus `snapshot-end` when it is the
   * last chunk; complete once anything follows its rows.
   */
  private snapshotChunk(number: number, from: number): LogChunk {
    let to = this.firstIndexAfter({ tx: 0n, op: number });
    const next = this.offsets[to];
    if (next && compareOffsets(next, SNAPSHOT_END) === 0) to++;
    const entries = to > from ? this.payloads.read(from, to) : [];
    return {
      entries,
      joined: entries.join(","),
      lastOffset: { tx: 0n, op: number },
      atEnd: false,
      complete: next !== undefined,
      end: to,
    };
  }

  /**
   * For a snapshot position (`-1`, `0_<k>`), the next chunk's number and first entry; undefined
   * when `after` is no snapshot position or the snapshot ended before that chunk. Chunk 0 always
   * exists: an empty snapshot's is `snapshot-end` alone (or nothing yet, while it runs).
   */
  private snapshotChunkStart(
    after: LogOffset,
  ): { number: number; index: number } | undefined {
    if (!isSnapshotPosition(after)) return undefined;
    const number = after.tx < 0n ? 0 : after.op + 1;
    const index = this.firstIndexAfter(
      number === 0 ? BEFORE_ALL : { tx: 0n, op: number - 1 },
    );
    const first = this.offsets[index];
    if (number === 0 || !first || compareOffsets(first, SNAPSHOT_END) < 0)
      return { number, index };
    return undefined;
  }

  /** Where a read from `after` continues in the log: past the snapshot, `0_inf` at least. */
  private readPosition(after: LogOffset): LogOffset {
    return compareOffsets(after, SNAPSHOT_END) < 0 ? SNAPSHOT_END : after;
  }

  /** Whether a read from `after` would return entries now. */
  hasEntriesAfter(after: LogOffset): boolean {
    const chunkStart = this.snapshotChunkStart(after);
    if (chunkStart) return chunkStart.index < this.offsets.length;
    return this.firstIndexAfter(this.readPosition(after)) < this.offsets.length;
  }

  /** Whether anything at all was appended after `after` (a snapshot chunk, or its end). */
  hasAnythingAfter(after: LogOffset): boolean {
    return this.firstIndexAfter(after) < this.offsets.length;
  }

  sync(): void {
    this.payloads.sync();
  }

  /**
   * Drops the entries of transactions committed at or after `lsn` (snapshot entries stay).
   * Returns how many were dropped.
   */
  discardFrom(lsn: bigint): number {
    // Snapshot entries (tx 0, all before the changes) are never dropped: the slot cannot
    // resend them.
    let keep = this.offsets.length;
    for (let tx = this.offsets[keep - 1]?.tx ?? 0n; tx > 0n && tx >= lsn;) {
      keep--;
      tx = this.offsets[keep - 1]?.tx ?? 0n;
    }
    const dropped = this.offsets.length - keep;
    if (dropped === 0) return 0;
    this.payloads.truncate(keep);
    this.offsets.length = keep;
    this.readCache.clear();
    this.readCacheBytes = 0;
    return dropped;
  }

  close(): void {
    this.readCache.clear();
    this.payloads.close();
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
