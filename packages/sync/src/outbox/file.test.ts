import { randomUUID } from "node:crypto";
import {
  appendFile,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { NewOutboxEntry } from "./storage";
import { fileOutbox } from "./file";
import { encodeSnapshot } from "./storage";

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "file-outbox-"));
  path = join(dir, "outbox.json");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const entry = (title = "An issue"): NewOutboxEntry => ({
  name: "issues.create",
  input: { id: randomUUID(), title, at: new Date("2026-03-01T00:00:00Z") },
  queuedAt: 1,
});

const lineCount = async () =>
  (await readFile(path, "utf8")).split("\n").length - 1;

describe("fileOutbox", () => {
  it("an add or a remove with 10,000 queued appends one line: the file is not rewritten", async () => {
    const outbox = fileOutbox(path);
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => outbox.add(entry(`${i}`))),
    );
    const before = await stat(path);
    const added = await outbox.add(entry("one more"));
    const afterAdd = await stat(path);
    await outbox.remove(added.mutationId);
    const afterRemove = await stat(path);
    // The same file (no rename), grown by one short line each time, not by the whole queue.
    expect([afterAdd.ino, afterRemove.ino]).toEqual([before.ino, before.ino]);
    expect(afterAdd.size - before.size).toBeLessThan(500);
    expect(afterRemove.size - afterAdd.size).toBeLessThan(100);
    expect((await fileOutbox(path).load()).entries).toHaveLength(10_000);
  });

  it("what was acknowledged is read back by the next process: entries, order, client id, last id, dates", async () => {
    const first = fileOutbox(path);
    const { clientId } = await first.load();
    const [a, b, c] = await Promise.all([
      first.add(entry("a")),
      first.add(entry("b")),
      first.add(entry("c")),
    ]);
    await first.remove(b.mutationId);
    await first.remove(c.mutationId);
    const read = await fileOutbox(path).load();
    expect(read).toEqual({ clientId, lastMutationId: 3, entries: [a] });
    expect((read.entries[0]?.input as { at: unknown }).at).toBeInstanceOf(Date);
  });

  it("idle resolves once changes nobody awaited are on disk: the next process reads them", async () => {
    const outbox = fileOutbox(path);
    const added = await outbox.add(entry("a"));
    // As a client's close leaves them: removes started, not awaited.
    void outbox.remove(added.mutationId);
    void outbox.add(entry("b"));
    await outbox.idle();
    const read = await fileOutbox(path).load();
    expect(read.entries.map((e) => e.mutationId)).toEqual([2]);
  });

  it("load shows an entry only once its add has resolved: a client sends a write it knows the id of", async () => {
    const outbox = fileOutbox(path);
    await outbox.load();
    const adding = outbox.add(entry());
    expect((await outbox.load()).entries).toEqual([]);
    const added = await adding;
    expect((await outbox.load()).entries).toEqual([added]);
  });

  it("a long run of writes is compacted: the file stays a few lines, the last id survives an empty queue", async () => {
    const outbox = fileOutbox(path);
    for (let round = 0; round < 30; round++) {
      const added = await Promise.all(
        Array.from({ length: 50 }, () => outbox.add(entry())),
      );
      await Promise.all(added.map((done) => outbox.remove(done.mutationId)));
    }
    // 3,000 changes, compacted at least once: never more than the threshold's 1,000 lines.
    expect(await lineCount()).toBeLessThanOrEqual(1_001);
    const read = await fileOutbox(path).load();
    expect(read).toMatchObject({ lastMutationId: 1_500, entries: [] });
    expect((await fileOutbox(path).add(entry())).mutationId).toBe(1_501);
  });

  it("a last line cut short by a crash is skipped, and the next write leaves the file whole", async () => {
    const first = fileOutbox(path);
    const kept = await first.add(entry("kept"));
    const text = await readFile(path, "utf8");
    // A crash in the middle of appending the next change.
    await appendFile(path, text.split("\n")[1]?.slice(0, 40) ?? "");
    const second = fileOutbox(path);
    expect((await second.load()).entries).toEqual([kept]);
    const next = await second.add(entry("next"));
    expect(next.mutationId).toBe(kept.mutationId + 1);
    expect((await fileOutbox(path).load()).entries).toEqual([kept, next]);
  });

  it("a garbage line before the end is an error, not a shorter queue", async () => {
    const outbox = fileOutbox(path);
    await outbox.add(entry());
    await outbox.add(entry());
    const [snapshot, , second] = (await readFile(path, "utf8")).split("\n");
    await writeFile(path, [snapshot, "garbage", second, ""].join("\n"));
    await expect(fileOutbox(path).load()).rejects.toThrow(
      /line 2 is not an outbox change/,
    );
  });

  it("a file of the earlier format (the snapshot alone) is read, and stays readable after a change", async () => {
    const stored = { ...entry("from before"), mutationId: 7 };
    await writeFile(
      path,
      encodeSnapshot({ clientId: "c1", lastMutationId: 7, entries: [stored] }),
    );
    const outbox = fileOutbox(path);
    expect(await outbox.load()).toEqual({
      clientId: "c1",
      lastMutationId: 7,
      entries: [stored],
    });
    const added = await outbox.add(entry("after"));
    expect(added.mutationId).toBe(8);
    expect((await fileOutbox(path).load()).entries).toEqual([stored, added]);
  });

  it("a write that could not be stored is refused and forgotten; the next one stores the queue whole", async () => {
    const outbox = fileOutbox(path);
    const kept = await outbox.add(entry("kept"));
    await rm(dir, { recursive: true });
    await expect(outbox.add(entry("lost"))).rejects.toThrow(/ENOENT/);
    expect((await outbox.load()).entries).toEqual([kept]);
    await mkdir(dir);
    const next = await outbox.add(entry("next"));
    expect((await fileOutbox(path).load()).entries).toEqual([kept, next]);
  });
});
