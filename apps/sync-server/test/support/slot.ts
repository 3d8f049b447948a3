/**
 * What Postgres says about a replication slot and the WAL, for tests that check positions
 * against the server's. LSNs are returned as numbers (bigint), comparable with log offsets.
 */
import type pg from "pg";

type Queryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;

/**
 * Polls `probe` until it returns a value (for states Postgres reports only when asked).
 * Bounded: rejects with `what` after `timeoutMs`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `promise`, or a rejection naming `what` once `timeoutMs` has passed without it settling. */
export async function within<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The slot's `confirmed_flush_lsn`; -1 when there is no such slot. */
export async function confirmedLsn(
  sql: Queryable,
  slot: string,
): Promise<bigint> {
  const { rows } = await sql.query<{ lsn: string | null }>(
    "SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
    [slot],
  );
  return BigInt(rows[0]?.lsn ?? "-1");
}

/** Resolves once no walsender streams the slot (e.g. that of a killed server has exited). */
export async function slotReleased(
  sql: Queryable,
  slot: string,
): Promise<void> {
  await waitFor(`slot ${slot} to be released`, async () => {
    const { rows } = await sql.query<{ active: boolean }>(
      "SELECT active FROM pg_replication_slots WHERE slot_name = $1",
      [slot],
    );
    return rows[0]?.active === false ? true : undefined;
  });
}

/** Where the next WAL record will be inserted. */
export async function walInsertLsn(sql: Queryable): Promise<bigint> {
  const { rows } = await sql.query<{ lsn: string }>(
    "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text AS lsn",
  );
  return BigInt(rows[0]?.lsn ?? "-1");
}

/**
 * Start and end of the commit record of transaction `xid` (32-bit), read from the WAL itself
 * (`pg_walinspect`), searching from `from`.
 */
export async function commitRecord(
  sql: Queryable,
  xid: number,
  from: bigint,
): Promise<{ start: bigint; end: bigint }> {
  const { rows } = await sql.query<{ start: string; end: string }>(
    `SELECT (start_lsn - '0/0'::pg_lsn)::text AS start, (end_lsn - '0/0'::pg_lsn)::text AS end
       FROM pg_get_wal_records_info('0/0'::pg_lsn + $1::numeric, pg_current_wal_flush_lsn())
      WHERE resource_manager = 'Transaction' AND record_type = 'COMMIT' AND xid = $2::text::xid`,
    [from.toString(), xid],
  );
  const row = rows[0];
  if (!row) throw new Error(`no commit record of xid ${xid} after ${from}`);
  return { start: BigInt(row.start), end: BigInt(row.end) };
}

/**
 * Commits `statements` in one transaction on a pooled connection, made visible to replication
 * at once (test clusters run synchronous_commit=off), and returns its 32-bit xid. Like the
 * harness's `write`, without importing the harness (and with it vitest): the soak script uses
 * this module outside vitest.
 */
export async function commitTransaction(
  sql: pg.Pool,
  statements: readonly string[],
): Promise<number> {
  const client = await sql.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL synchronous_commit = on");
    const { rows } = await client.query<{ xid: string }>(
      "SELECT pg_current_xact_id()::xid::text AS xid",
    );
    for (const statement of statements) await client.query(statement);
    await client.query("COMMIT");
    return Number(rows[0]?.xid);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Stages two transactions whose commit records touch: A writes `a` and stays open while B
 * commits `b`; once the server has confirmed B, `between()` runs (a fault), then A commits,
 * its commit record normally starting exactly where B's ends. Postgres resends A after a
 * reconnect only if the slot was not confirmed past B's end. Returns whether the records do
 * touch (something else writing WAL in between breaks it: the caller may try again).
 */
export async function commitRightAfter(
  sql: pg.Pool,
  slot: string,
  transactions: { a: string; b: string; between: () => Promise<void> },
): Promise<boolean> {
  const open = await sql.connect();
  try {
    await open.query("BEGIN");
    await open.query("SET LOCAL synchronous_commit = on");
    const { rows } = await open.query<{ xid: string }>(
      "SELECT pg_current_xact_id()::xid::text AS xid",
    );
    await open.query(transactions.a);
    const from = await walInsertLsn(sql);
    const xidB = await commitTransaction(sql, [transactions.b]);
    const b = await commitRecord(sql, xidB, from);
    await waitFor("the server to confirm B", async () =>
      (await confirmedLsn(sql, slot)) >= b.end ? true : undefined,
    );
    await transactions.between();
    await open.query("COMMIT");
    const a = await commitRecord(sql, Number(rows[0]?.xid), from);
    return a.start === b.end;
  } catch (error) {
    await open.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    open.release();
  }
}

/**
 * Samples how many walsenders serve the sync server (by its application name) until `stop()`,
 * which returns the most seen at once. Sampling failures (Postgres restarting) are skipped.
 */
export function watchWalsenders(
  sql: Queryable,
  everyMs = 50,
): { stop(): Promise<number> } {
  let most = 0;
  const running = new AbortController();
  const loop = (async () => {
    while (!running.signal.aborted) {
      try {
        const { rows } = await sql.query<{ count: string }>(
          "SELECT count(*) AS count FROM pg_stat_replication WHERE application_name = 'sync-server-replication'",
        );
        most = Math.max(most, Number(rows[0]?.count ?? 0));
      } catch {
        // Postgres is restarting.
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running.abort();
      await loop;
      return most;
    },
  };
}
