/**
 * Staging races at a lock: a test holds a table and waits until the server's statement queues
 * behind it (no event announces that, so `pg_locks` is polled).
 */
import type pg from "pg";
import { expect } from "vitest";

/** Resolves once `count` lock requests on `table` are waiting (not granted); fails after 5 s. */
export async function lockWaiters(
  sql: pg.Pool,
  table: string,
  count: number,
): Promise<void> {
  await expect
    .poll(
      async () =>
        (
          await sql.query(
            "SELECT 1 FROM pg_locks WHERE relation = $1::regclass AND NOT granted",
            [table],
          )
        ).rowCount,
      { timeout: 5_000, interval: 20 },
    )
    .toBe(count);
}
