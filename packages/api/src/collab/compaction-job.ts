/**
 * The compaction timer: every `intervalMs`, compacts each document with `everyUpdates` log rows
 * or more, or whose oldest row is older than `maxAgeMs`. So the projection column lags the log
 * by at most `maxAgeMs + intervalMs` while the job runs (README of @repo/collab). Several
 * server processes may run it: the document locks make a second compaction of the same rows a
 * no-op.
 */
import type { Db } from "@repo/db";

import type { IntervalJob } from "../jobs/interval-job";
import { startIntervalJob } from "../jobs/interval-job";
import { compactDoc } from "./compaction";
import { dbQuery, dueDocs } from "./store";

export const DEFAULT_COMPACTION = {
  everyUpdates: 200,
  maxAgeMs: 10_000,
  intervalMs: 1_000,
} as const;

export interface CompactionOptions {
  /** Compact a document once its log has this many rows. Default 200. */
  everyUpdates?: number;
  /** …or once its oldest log row is this old. Default 10 s. */
  maxAgeMs?: number;
  /** Time between scans. Default 1 s. */
  intervalMs?: number;
  /** A failed round (database down) is reported here; the next one runs as planned. */
  onError?: (error: unknown) => void;
}

/** `runNow()` runs one round (or joins the running one) and resolves with the rows folded. */
export type CompactionJob = IntervalJob;

/** Documents a round takes at most; the rest wait for the next round. */
const ROUND_LIMIT = 100;

export async function compactDueDocs(
  db: Db,
  options: { everyUpdates: number; maxAgeMs: number },
): Promise<number> {
  const due = await dueDocs(dbQuery(db), {
    minRows: options.everyUpdates,
    maxAgeMs: options.maxAgeMs,
    limit: ROUND_LIMIT,
  });
  let folded = 0;
  for (const { key, rowId } of due)
    folded += (await compactDoc(db, key, rowId)).folded;
  return folded;
}

export function startCompaction(
  db: Db,
  options: CompactionOptions = {},
): CompactionJob {
  const settings = { ...DEFAULT_COMPACTION, ...options };
  if (
    !(settings.everyUpdates >= 1) ||
    !(settings.maxAgeMs >= 0) ||
    !(settings.intervalMs > 0)
  )
    throw new RangeError(
      `compaction: everyUpdates must be ≥ 1, maxAgeMs ≥ 0 and intervalMs > 0`,
    );
  return startIntervalJob({
    name: "compaction",
    intervalMs: settings.intervalMs,
    run: () => compactDueDocs(db, settings),
    onError: options.onError,
  });
}
