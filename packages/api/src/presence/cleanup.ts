/**
 * Deletes what crashed or closed tabs leave behind: presence rows whose lease ran out (a tab
 * that leaves cleanly deletes its own), and the mutation log rows of presence calls, which
 * nothing will ever retry (a presence client never resends an old id: it sends its latest
 * state under a new one) and which would otherwise pile up at one row per heartbeat.
 *
 * A long-running server process starts it (`runtime.startBackgroundJobs()`); a serverless
 * host calls `runtime.cleanUpPresence()` from its scheduler, every lease or so.
 */
import type { Db } from "@repo/db";
import { PRESENCE } from "@repo/schema";

import type { IntervalJob } from "../jobs/interval-job";
import { startIntervalJob } from "../jobs/interval-job";

export const DEFAULT_PRESENCE_CLEANUP_INTERVAL_MS = PRESENCE.leaseMs / 2;

export interface PresenceCleanupOptions {
  /** Time between runs. Default: half a lease (15 s), so a crashed tab lingers ≤ 1.5 leases. */
  intervalMs?: number;
  /** Called after each run with the presence rows deleted. */
  onCleaned?: (deleted: number) => void;
  /** A failed run (database down) is reported here; the next one runs as planned. */
  onError?: (error: unknown) => void;
}

/** Runs once now (`runNow`, resolving with the presence rows deleted) or on its timer. */
export type PresenceCleanup = IntervalJob;

/** Deletes expired presence rows and stale presence calls of the mutation log. */
export async function cleanUpPresence(db: Db): Promise<number> {
  const expired =
    await db.$executeRaw`DELETE FROM presence WHERE expires_at < now()`;
  // Only rows older than a lease: a call in flight may still be answered from its row. Each
  // live client's latest row stays, so its ordering check holds.
  await db.$executeRaw`
    DELETE FROM mutation_log l
     WHERE l.name IN ('presence.update', 'presence.leave')
       AND l.created_at < now() - make_interval(secs => ${PRESENCE.leaseMs / 1000})
       AND (NOT EXISTS (SELECT 1 FROM presence p WHERE p.client_id = l.client_id)
            OR l.mutation_id < (SELECT max(k.mutation_id) FROM mutation_log k
                                 WHERE k.client_id = l.client_id))`;
  return expired;
}

export function startPresenceCleanup(
  db: Db,
  options: PresenceCleanupOptions = {},
): PresenceCleanup {
  const intervalMs = options.intervalMs ?? DEFAULT_PRESENCE_CLEANUP_INTERVAL_MS;
  if (!(intervalMs > 0))
    throw new RangeError(
      `presence cleanup: intervalMs must be > 0 (got ${intervalMs})`,
    );
  return startIntervalJob({
    name: "presence cleanup",
    intervalMs,
    run: () => cleanUpPresence(db),
    onDone: options.onCleaned,
    onError: options.onError,
  });
}
