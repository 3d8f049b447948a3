/**
 * `@repo/sync/node`: the outbox in a JSON file, for CLIs and workers. Writes go to a temporary
 * file that is fsync'ed and renamed over the old one, one at a time, so a crash leaves either
 * the old queue or the new one, never half of either.
 */
import { open, readFile, rename } from "node:fs/promises";

import type { OutboxSnapshot, OutboxStorage } from "./storage";
import {
  decodeSnapshot,
  encodeSnapshot,
  newSnapshot,
  withEntry,
  withoutEntry,
} from "./storage";

export function fileOutbox(path: string): OutboxStorage {
  let current: Promise<OutboxSnapshot> | undefined;
  let writes: Promise<void> = Promise.resolve();

  const snapshot = (): Promise<OutboxSnapshot> =>
    (current ??= readFile(path, "utf8").then(
      decodeSnapshot,
      async (error: unknown) => {
        if ((error as { code?: string }).code !== "ENOENT") throw error;
        const fresh = newSnapshot();
        await save(fresh);
        return fresh;
      },
    ));

  async function save(next: OutboxSnapshot): Promise<void> {
    const temporary = `${path}.${process.pid}.tmp`;
    const file = await open(temporary, "w");
    try {
      await file.writeFile(encodeSnapshot(next));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  }

  /** Writes are queued: each sees the snapshot the one before it left. */
  const update = <T>(
    change: (snapshot: OutboxSnapshot) => [OutboxSnapshot, T],
  ): Promise<T> => {
    const write = writes.then(async () => {
      const [next, result] = change(await snapshot());
      current = Promise.resolve(next);
      await save(next);
      return result;
    });
    writes = write.then(
      () => undefined,
      () => undefined,
    );
    return write;
  };

  return {
    load: snapshot,
    add: (entry) =>
      update((stored) => {
        const next = withEntry(stored, entry);
        return [next.snapshot, next.entry];
      }),
    remove: (mutationId) =>
      update((stored) => [withoutEntry(stored, mutationId), undefined]),
  };
}

export type { OutboxStorage } from "./storage";
