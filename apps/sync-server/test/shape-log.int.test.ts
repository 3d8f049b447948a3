/**
 * Shape log storage: memory and file payloads behave the same; a file log reopens with its
 * entries, and a torn last line (crash mid-write) is dropped rather than served.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

import type { LogEntry } from "../src/shapes/shape-log";
import {
  FilePayloads,
  MemoryPayloads,
  ShapeLog,
} from "../src/shapes/shape-log";

const dir = mkdtempSync(join(tmpdir(), "shape-log-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entries = (tx: bigint, count: number): LogEntry[] =>
  Array.from({ length: count }, (_, op) => ({
    offset: { tx, op: op * 2 },
    json: JSON.stringify({ key: `k${tx}-${op}`, value: { text: 'ü\\n"x"' } }),
  }));

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
  test("reads strictly after an offset, in chunks, reaching the end", () => {
    const log = create();
    log.append(entries(0n, 3));
    log.append(entries(100n, 4));
    const all = log.read({ tx: -1n, op: 0 }, 1e9);
    expect(all.entries).toHaveLength(7);
    expect(all.atEnd).toBe(true);
    expect(all.lastOffset).toEqual({ tx: 100n, op: 6 });
    const after = log.read({ tx: 0n, op: 4 }, 1e9);
    expect(
      after.entries.map((e) => (JSON.parse(e) as { key: string }).key),
    ).toEqual(["k100-0", "k100-1", "k100-2", "k100-3"]);
    const small = log.read({ tx: -1n, op: 0 }, 1);
    expect(small.entries).toHaveLength(1);
    expect(small.atEnd).toBe(false);
    expect(log.read({ tx: 100n, op: 6 }, 1e9)).toMatchObject({
      entries: [],
      atEnd: true,
    });
    expect(() => log.append(entries(100n, 1))).toThrow(/must increase/);
    log.close();
  });
});

describe("file log durability", () => {
  test("reopens with its entries and drops a torn last line", () => {
    const path = join(dir, "reopen");
    const first = FilePayloads.open(path);
    const log = new ShapeLog(first.store, first.offsets);
    log.append(entries(0n, 2));
    log.append(entries(500n, 2));
    log.sync();
    log.close();
    appendFileSync(path, '700_0\t{"key":"torn"'); // no newline: a crash mid-append
    const again = FilePayloads.open(path);
    const reopened = new ShapeLog(again.store, again.offsets);
    expect(reopened.lastOffset).toEqual({ tx: 500n, op: 2 });
    reopened.append(entries(800n, 1));
    const all = reopened.read({ tx: -1n, op: 0 }, 1e9);
    expect(
      all.entries.map((e) => (JSON.parse(e) as { key: string }).key),
    ).toEqual(["k0-0", "k0-1", "k500-0", "k500-1", "k800-0"]);
    reopened.close();
    const third = FilePayloads.open(path);
    expect(third.offsets).toHaveLength(5);
    third.store.close();
  });
});
