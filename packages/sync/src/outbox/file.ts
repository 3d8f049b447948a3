/**
 * `@repo/sync/node`: the outbox in a file, for CLIs and workers, kept as a journal so a write
 * costs the same with 10 or 10,000 queued.
 *
 * The file is a snapshot line (superjson `OutboxSnapshot`: a file of the earlier format is a
 * journal with nothing after it) followed by one line per change since: `{ add: entry }` or
 * `{ remove: mutationId }`.
 *
 * - Changes made while the previous write is on disk, or in the same tick, are appended together
 *   with one fsync (group commit), and each `add`/`remove` resolves once its line is fsync'ed: a
 *   crash of the process or of the machine keeps every change that was acknowledged.
 * - A line cut short by a crash can only be the last one and was never acknowledged: loading
 *   skips it, and the next change rewrites the file without it.
 * - Once the journal holds more lines than twice the queue (and at least `COMPACT_AFTER`), the
 *   file is rewritten as one snapshot line: a temporary file, fsync'ed, renamed over the old
 *   one, so a crash leaves either of them whole. Its cost, linear in the queue, is spread over
 *   the lines that made it due.
 * - One process per file: two processes appending to one file would hand out the same ids (the
 *   CLI holds a lock per outbox file). `idle()` says when the last change is on disk, so the
 *   file can pass to the next process.
 */
import { randomUUID } from "node:crypto";
import { open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { parse, stringify } from "superjson";

import type { OutboxEntry } from "../types";
import type { NewOutboxEntry, OutboxSnapshot, OutboxStorage } from "./storage";
import { decodeSnapshot, encodeSnapshot, newSnapshot } from "./storage";

/** Journal lines before a rewrite is considered (see the module comment). */
const COMPACT_AFTER = 1_000;

type Change = { add: OutboxEntry } | { remove: number };

interface Pending {
  line: string;
  /** Takes the change back out of memory if it could not be stored. */
  undo?: () => void;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Queue {
  clientId: string;
  lastMutationId: number;
  /** In mutation id order (ids only grow, and a Map keeps insertion order). */
  entries: Map<number, OutboxEntry>;
}

export interface FileOutbox extends OutboxStorage {
  /**
   * Resolves once every change made so far is on disk (or has failed), so the file can pass to
   * another process: a client's `close()` leaves the last removes still being written.
   */
  idle(): Promise<void>;
}

export function fileOutbox(path: string): FileOutbox {
  let loaded: Promise<Queue> | undefined;
  /** Lines in the file after its snapshot line. */
  let journalLines = 0;
  /** The file may end in a line that must go (cut short, or a failed append): rewrite it. */
  let mustRewrite = false;
  let pending: Pending[] = [];
  let flushing: Promise<void> | undefined;
  /**
   * Entries added in memory whose line is not on disk yet. `load` leaves them out: the client
   * may send a write only once `add` has resolved (it learns the id from it).
   */
  const unstored = new Set<number>();

  const queue = (): Promise<Queue> =>
    (loaded ??= readFile(path, "utf8").then(
      (text) => {
        const { queue: read, lines, torn } = readJournal(text, path);
        journalLines = lines;
        mustRewrite = torn;
        return read;
      },
      async (error: unknown) => {
        if ((error as { code?: string }).code !== "ENOENT") throw error;
        const fresh = newSnapshot();
        const read = { ...fresh, entries: new Map<number, OutboxEntry>() };
        // The client id must outlive the process even if nothing is ever queued.
        await rewrite(path, fresh);
        return read;
      },
    ));

  /** Queues a line; the next flush (after this tick, or after the one on disk) writes it. */
  const write = (change: Change, undo?: () => void): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      pending.push({
        line: `${stringify(change)}\n`,
        undo,
        resolve,
        reject,
      });
      flushing ??= new Promise<void>((wait) => setImmediate(wait)).then(flush);
    });

  async function flush(): Promise<void> {
    let batch: Pending[] = [];
    try {
      const current = await queue();
      // Memory holds exactly the changes queued so far: taken together, with no await between.
      batch = pending;
      pending = [];
      if (
        mustRewrite ||
        journalLines + batch.length >=
          Math.max(COMPACT_AFTER, 2 * current.entries.size)
      ) {
        await rewrite(path, snapshotOf(current));
        journalLines = 0;
        mustRewrite = false;
      } else {
        await append(path, batch.map((change) => change.line).join(""));
        journalLines += batch.length;
      }
      for (const change of batch) change.resolve();
    } catch (error) {
      // Part of the batch may be on disk: the next flush rewrites the file from memory.
      mustRewrite = true;
      for (const change of batch) {
        change.undo?.();
        change.reject(
          error instanceof Error ? error : new Error(String(error)),
        );
      }
    } finally {
      flushing = undefined;
      if (pending.length > 0)
        flushing = new Promise<void>((wait) => setImmediate(wait)).then(flush);
    }
  }

  /** Adds and removes not finished yet (they first wait for the file's load). */
  const inFlight = new Set<Promise<unknown>>();
  const tracked = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    const forget = () => inFlight.delete(work);
    work.then(forget, forget);
    return work;
  };

  const add = async (entry: NewOutboxEntry): Promise<OutboxEntry> => {
    const current = await queue();
    const stored = { ...entry, mutationId: ++current.lastMutationId };
    current.entries.set(stored.mutationId, stored);
    unstored.add(stored.mutationId);
    try {
      await write({ add: stored }, () =>
        current.entries.delete(stored.mutationId),
      );
    } finally {
      unstored.delete(stored.mutationId);
    }
    return stored;
  };
  const remove = async (mutationId: number): Promise<void> => {
    const current = await queue();
    if (!current.entries.delete(mutationId)) return;
    await write({ remove: mutationId });
  };

  return {
    load: async () => snapshotOf(await queue(), unstored),
    add: (entry) => tracked(add(entry)),
    remove: (mutationId) => tracked(remove(mutationId)),
    idle: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function snapshotOf(
  queue: Queue,
  leaveOut: ReadonlySet<number> = new Set(),
): OutboxSnapshot {
  const entries = [...queue.entries.values()];
  return {
    clientId: queue.clientId,
    lastMutationId: queue.lastMutationId,
    entries:
      leaveOut.size === 0
        ? entries
        : entries.filter((entry) => !leaveOut.has(entry.mutationId)),
  };
}

/**
 * The snapshot line, then each change in order; a last line cut short is left out (`torn`: the
 * file must be rewritten before anything is appended to it).
 */
function readJournal(
  text: string,
  path: string,
): { queue: Queue; lines: number; torn: boolean } {
  // The earlier format: the snapshot alone, without a newline to append after.
  if (!text.includes("\n"))
    return { queue: queueOf(decodeSnapshot(text)), lines: 0, torn: true };
  const lines = text.split("\n");
  // Every line ends with "\n": what follows the last one is a line cut short, or nothing.
  let torn = lines.pop() !== "";
  const [head = "", ...changes] = lines;
  const queue = queueOf(decodeSnapshot(head));
  changes.forEach((line, index) => {
    const change = parseChange(line);
    if (!change) {
      // A crash mid-append can leave garbage only at the end (later lines were never written).
      if (index === changes.length - 1 && !torn) {
        torn = true;
        return;
      }
      throw new Error(`${path}: line ${index + 2} is not an outbox change`);
    }
    if ("add" in change) {
      queue.entries.set(change.add.mutationId, change.add);
      queue.lastMutationId = Math.max(
        queue.lastMutationId,
        change.add.mutationId,
      );
    } else queue.entries.delete(change.remove);
  });
  return { queue, lines: changes.length, torn };
}

function queueOf(snapshot: OutboxSnapshot): Queue {
  return {
    clientId: snapshot.clientId,
    lastMutationId: snapshot.lastMutationId,
    entries: new Map(
      snapshot.entries.map((entry) => [entry.mutationId, entry]),
    ),
  };
}

function parseChange(line: string): Change | undefined {
  let change: unknown;
  try {
    change = parse(line);
  } catch {
    return undefined;
  }
  if (typeof change !== "object" || change === null) return undefined;
  if ("remove" in change && Number.isInteger(change.remove))
    return change as Change;
  if (
    "add" in change &&
    typeof change.add === "object" &&
    change.add !== null &&
    "mutationId" in change.add &&
    Number.isInteger(change.add.mutationId)
  )
    return change as Change;
  return undefined;
}

async function append(path: string, text: string): Promise<void> {
  const file = await open(path, "a");
  try {
    await file.write(text);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Replaces the file with one snapshot line, atomically (temporary file, fsync, rename). */
async function rewrite(path: string, snapshot: OutboxSnapshot): Promise<void> {
  // Unique per call: two instances on one path (a test, a reader) must not share it.
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  const file = await open(temporary, "w");
  try {
    await file.writeFile(`${encodeSnapshot(snapshot)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  // The rename itself lives in the directory: without this a machine crash may undo it.
  const directory = await open(dirname(path), "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

export type { OutboxStorage } from "./storage";
