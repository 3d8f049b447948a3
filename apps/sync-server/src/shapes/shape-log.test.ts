/**
 * `discardFrom`: what restart cuts from a log before the slot replays (see
 * `ShapeManager.restore`). Snapshot entries stay; a file log cut this way reopens with the
 * same entries and takes the replayed transactions at the same positions.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

import type { LogEntry } from "./shape-log";
import { formatOffset } from "../protocol/offset";
import { FilePayloads, MemoryPayloads, ShapeLog } from "./shape-log";

const dir = mkdtempSync(join(tmpdir(), "shape-log-discard-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entries = (tx: bigint, count: number): LogEntry[] =>
  Array.from({ length: count }, (_, op) => ({
    // Snapshot rows share their chunk's offset (here all in chunk 0).
    offset: { tx, op: tx === 0n ? 0 : op * 2 },
    json: JSON.stringify({ key: `k${tx}-${op}`, value: { text: "ü" } }),
  }));

describe("ShapeLog.discardFrom", () => {
  test("drops transactions at or after the LSN, never snapshot entries", () => {
    const log = new ShapeLog(new MemoryPayloads());
    log.append(entries(0n, 2));
    log.append(entries(100n, 2));
    log.append(entries(200n, 3));
    expect(log.discardFrom(200n)).toBe(3);
    expect(formatOffset(log.lastOffset)).toBe("100_2");
    expect(log.discardFrom(150n)).toBe(0);
    expect(log.discardFrom(0n)).toBe(2);
    expect(formatOffset(log.lastOffset)).toBe("0_0");
    expect(log.size).toBe(2);
  });

  test("a cut file log reopens with the kept entries and rebuilds identical bytes", () => {
    const path = join(dir, "log");
    const opened = FilePayloads.open(path);
    const log = new ShapeLog(opened.store, opened.offsets);
    log.append(entries(0n, 2));
    log.append(entries(100n, 2));
    const kept = readFileSync(path);
    log.append(entries(200n, 3));
    const full = readFileSync(path);
    log.close();

    const reopened = FilePayloads.open(path);
    const again = new ShapeLog(reopened.store, reopened.offsets);
    expect(again.discardFrom(200n)).toBe(3);
    expect(readFileSync(path).equals(kept)).toBe(true);
    // The replay appends the same transaction again.
    again.append(entries(200n, 3));
    expect(readFileSync(path).equals(full)).toBe(true);
    expect(
      again.read({ tx: 100n, op: 2 }, Infinity).entries.map((json) => {
        const parsed = JSON.parse(json) as { key: string };
        return parsed.key;
      }),
    ).toEqual(["k200-0", "k200-1", "k200-2"]);
    again.close();
  });
});
