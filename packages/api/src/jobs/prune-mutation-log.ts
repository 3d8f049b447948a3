/**
 * Keeps the mutation log from growing forever: a timer that runs `pruneMutationLog` (each
 * client's latest row is always kept, so ordering still holds).
 *
 * A long-running server process starts it (`runtime.startBackgroundJobs()`: apps/api-server,
 * apps/web's instrumentation). Hosts without one (Next.js on a serverless platform) call
 * `runtime.pruneMutationLog` from their scheduler instead, e.g. a cron job that calls a
 * secret-protected route once an hour; see the README.
 */
import type { Db } from "@repo/db";
import { pruneMutationLog } from "@repo/db";

import type { IntervalJob } from "./interval-job";
import { startIntervalJob } from "./interval-job";

/**
 * Default retention: a retried call is answered from the log only while its row exists, so
 * keep rows longer than a client may stay offline with unacknowledged mutations.
 */
export const DEFAULT_MUTATION_LOG_RETENTION_MS = 30 * 24 * 3_600_000;
export const DEFAULT_PRUNE_INTERVAL_MS = 3_600_000;

export interface MutationLogPruningOptions {
  /** Rows older than this are deleted (each client's latest kept). Default 30 days. */
  retentionMs?: number;
  /** Time between runs; the first runs after one interval. Default 1 hour. */
  intervalMs?: number;
  /** Called after each run with the number of rows deleted. */
  onPruned?: (deleted: number) => void;
  /** A failed run (database down) is reported here; the next one runs as planned. */
  onError?: (error: unknown) => void;
}

/** Runs once now (`runNow`, resolving with the rows deleted) or on its timer. */
export type MutationLogPruning = IntervalJob;

export function startMutationLogPruning(
  db: Db,
  options: MutationLogPruningOptions = {},
): MutationLogPruning {
  const retentionMs = options.retentionMs ?? DEFAULT_MUTATION_LOG_RETENTION_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
  if (!(retentionMs >= 0) || !(intervalMs > 0))
    throw new RangeError(
      `mutation log pruning: retentionMs must be ≥ 0 and intervalMs > 0 (got ${retentionMs}, ${intervalMs})`,
    );
  return startIntervalJob({
    name: "mutation log pruning",
    intervalMs,
    run: () =>
      pruneMutationLog(db, { olderThan: new Date(Date.now() - retentionMs) }),
    onDone: options.onPruned,
    onError: options.onError,
  });
}
