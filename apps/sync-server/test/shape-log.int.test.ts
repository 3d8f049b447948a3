/**
 * Shape log storage: memory and file payloads behave the same; snapshot rows are read chunk by
 * chunk and the log after them past `0_inf`; a file log reopens with its entries, and a torn
 * last line (crash mid-write) is dropped rather than served.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

import type { LogEntry } from "../src/shapes/shape-log";
import { BEFORE_ALL, SNAPSHOT_END } from "../src/protocol/offset";
import {
  FilePayloads,
  MemoryPayloads,
  ShapeLog,
} from "../src/shapes/shape-log";

const dir = mkdtempSync(join(tmpdir(), "shape-log-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `count` entries of transaction `tx`, or with tx 0 rows of snapshot chunk `chunk`. */
const entries = (tx: bigint, count: number, chunk = 0): LogEntry[] =>
  Array.from({ length: count }, (_, op) => ({
    offset: { tx, op: tx === 0n ? chunk : op * 2 },
    json: JSON.stringify({
      key: `k${tx}-${chunk}-${op}`,
      value: { text: 'ü\\n"x"' },
    }),
  }));
const snapshotEnd: LogEntry = {
  offset: SNAPSHOT_END,
  json: '{"headers":{"control":"snapshot-end"}}',
};
const keys = (chunk: { entries: string[] }) =>
  chunk.entries.map((e) => (JSON.parse(e) as { key?: string }).key ?? "end");

describe.each([
  ["memory", () => new ShapeLog(new MemoryPayloads())],
  [
    "file",
    () => {
      const { store, offsets } = FilePayloads.open(
        join(dir, `log-${Math.random()}`),
      );
      return new ShapeLog(store, offsets);
    },
  ],
])("%s log", (_name, create) => {
  test("reads snapshot chunks one at a time, then strictly after an offset, in chunks", () => {
    const log = create();
    log.append(entries(0n, 3, 0));
    log.append(entries(0n, 2, 1));
    log.append([snapshotEnd]);
    log.append(entries(100n, 4));
    const first = log.read(BEFORE_ALL, 1);
    expect(keys(first)).toEqual(["k0-0-0", "k0-0-1", "k0-0-2"]);
    expect(first).toMatchObject({
      lastOffset: { tx: 0n, op: 0 },
      atEnd: false,
      complete: true,
    });
    const last = log.read({ tx: 0n, op: 0 }, 1);
    expect(keys(last)).toEqual(["k0-1-0", "k0-1-1", "end"]);
    expect(last.lastOffset).toEqual({ tx: 0n, op: 1 });
    // Past the last chunk (or at its end marker) the log goes on after the snapshot.
    for (const after of [{ tx: 0n, op: 1 }, { tx: 0n, op: 7 }, SNAPSHOT_END]) {
      const rest = log.read(after, 1e9);
      expect(keys(rest)).toEqual([
        "k100-0-0",
        "k100-0-1",
        "k100-0-2",
        "k100-0-3",
      ]);
      expect(rest).toMatchObject({
        atEnd: true,
        lastOffset: { tx: 100n, op: 6 },
      });
      expect(log.hasEntriesAfter(after)).toBe(true);
    }
    const small = log.read(SNAPSHOT_END, 1);
    expect(small.entries).toHaveLength(1);
    expect(small.atEnd).toBe(false);
    expect(log.read({ tx: 100n, op: 6 }, 1e9)).toMatchObject({
      entries: [],
      atEnd: true,
    });
    expect(log.hasEntriesAfter({ tx: 100n, op: 6 })).toBe(false);
    expect(() => log.append(entries(100n, 1))).toThrow(/must increase/);
    log.close();
  });

  test("a snapshot chunk being written is incomplete until anything follows it", () => {
    const log = create();
    expect(log.read(BEFORE_ALL, 1e9)).toMatchObject({
      entries: [],
      complete: false,
    });
    log.append(entries(0n, 2, 0));
    const open = log.read(BEFORE_ALL, 1e9);
    expect(open).toMatchObject({ complete: false, end: 2 });
    log.append(entries(0n, 1, 0));
    const more = log.readMore(open);
    expect(keys(more)).toEqual(["k0-0-0"]);
    expect(more.complete).toBe(false);
    log.append([snapshotEnd]);
    const closed = log.readMore(more);
    expect(keys(closed)).toEqual(["end"]);
    expect(closed.complete).toBe(true);
    // An empty snapshot: chunk 0 is snapshot-end alone.
    const empty = create();
    empty.append([snapshotEnd]);
    expect(keys(empty.read(BEFORE_ALL, 1e9))).toEqual(["end"]);
    log.close();
    empty.close();
  });
});

describe("file log durability", () => {
  test("reopens with its entries and drops a torn last line", () => {
    const path = join(dir, "reopen");
    const first = FilePayloads.open(path);
    const log = new ShapeLog(first.store, first.offsets);
    log.append(entries(0n, 2));
    log.append([snapshotEnd]);
    log.append(entries(500n, 2));
    log.sync();
    log.close();
    appendFileSync(path, '700_0\t{"key":"torn"'); // no newline: a crash mid-append
    const again = FilePayloads.open(path);
    const reopened = new ShapeLog(again.store, again.offsets);
    expect(reopened.lastOffset).toEqual({ tx: 500n, op: 2 });
    reopened.append(entries(800n, 1));
    expect(keys(reopened.read(BEFORE_ALL, 1e9))).toEqual([
      "k0-0-0",
      "k0-0-1",
      "end",
    ]);
    expect(keys(reopened.read(SNAPSHOT_END, 1e9))).toEqual([
      "k500-0-0",
      "k500-0-1",
      "k800-0-0",
    ]);
    reopened.close();
    const third = FilePayloads.open(path);
    expect(third.offsets).toHaveLength(6);
    third.store.close();
  });
});
