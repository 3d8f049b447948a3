/**
 * What streaming needs in Postgres: `wal_level=logical`, replication rights, the publication
 * and the slot (created when missing, recreated when Postgres invalidated it), and tables in
 * the publication with REPLICA IDENTITY FULL.
 */
import type pg from "pg";

import type { Logger } from "../logger";
import { errorMessage } from "../error-text";
import { lsnToBigInt } from "../protocol/offset";

export class ReplicationSetupError extends Error {
  override name = "ReplicationSetupError";
}

export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export async function checkPrerequisites(admin: pg.Pool): Promise<void> {
  const { rows } = await admin.query<{
    wal_level: string;
    can_replicate: boolean;
  }>(
    `SELECT current_setting('wal_level') AS wal_level,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS can_replicate`,
  );
  const row = rows[0];
  if (row?.wal_level !== "logical")
    throw new ReplicationSetupError(
      `Postgres has wal_level=${row?.wal_level ?? "?"}; logical replication needs wal_level=logical (set it in postgresql.conf or with ALTER SYSTEM SET wal_level = logical, then restart Postgres)`,
    );
  if (!row.can_replicate)
    throw new ReplicationSetupError(
      "the database user lacks the REPLICATION attribute (ALTER ROLE <user> WITH REPLICATION)",
    );
}

export interface SlotState {
  /** Which cluster, database and slot (`<system identifier>/<database>/<slot>`). */
  source: string;
  /** Where streaming resumes: the slot's confirmed position (its start if just created). */
  position: bigint;
  /**
   * The slot or the publication was created now: nothing before `position` can be replayed
   * (a publication created anew holds none of the tables yet).
   */
  created: boolean;
}

/**
 * Creates the publication if missing and returns the slot, created if missing. A slot Postgres
 * invalidated (it removed WAL the slot needed, `max_slot_wal_keep_size`) cannot stream any more:
 * it is dropped and created anew, and reported as created.
 */
export async function openSlot(
  admin: pg.Pool,
  names: { slotName: string; publicationName: string },
  logger: Logger,
): Promise<SlotState> {
  const { slotName, publicationName } = names;
  const client = await admin.connect();
  try {
    const source = `${await systemIdentifier(client)}/${slotName}`;
    const publication = await client.query(
      "SELECT 1 FROM pg_publication WHERE pubname = $1",
      [publicationName],
    );
    const createdPublication = publication.rowCount === 0;
    if (createdPublication) {
      await client
        .query(`CREATE PUBLICATION "${publicationName}"`)
        .catch((error: unknown) => {
          if (!isDuplicate(error)) throw error;
        });
    }
    const slot = await client.query<{
      confirmed: string | null;
      database: string;
      lost: boolean | null;
    }>(
      "SELECT confirmed_flush_lsn::text AS confirmed, database, wal_status = 'lost' AS lost FROM pg_replication_slots WHERE slot_name = $1",
      [slotName],
    );
    const existing = slot.rows[0];
    if (existing) {
      const { rows } = await client.query<{ db: string }>(
        "SELECT current_database() AS db",
      );
      if (existing.database !== rows[0]?.db)
        throw new ReplicationSetupError(
          `replication slot "${slotName}" belongs to database "${existing.database}"; choose another ELECTRIC_REPLICATION_SLOT`,
        );
      if (!existing.lost)
        return {
          source,
          position: lsnToBigInt(existing.confirmed ?? "0/0"),
          created: createdPublication,
        };
      logger.warn(
        "replication slot invalidated by Postgres (WAL it needed was removed); recreating it",
        { slot: slotName },
      );
      await client.query("SELECT pg_drop_replication_slot($1)", [slotName]);
    }
    const created = await client.query<{ lsn: string }>(
      "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
      [slotName],
    );
    return {
      source,
      position: lsnToBigInt(created.rows[0]?.lsn ?? "0/0"),
      created: true,
    };
  } finally {
    client.release();
  }
}

/**
 * Adds a table to the publication (if missing) and makes sure its updates and deletes carry
 * whole old rows. Setting REPLICA IDENTITY FULL takes a lock, so it is tried with a short
 * lock timeout rather than queueing behind open transactions.
 *
 * Returns the transactions of this database open right after the table joined the
 * publication (none if it was in it already). Logical decoding never sends what they wrote to
 * the table before that moment, and a snapshot taken while they are open does not see it
 * either: a shape snapshotted then would lack those rows for good (its clients later get
 * updates of rows they never had). Its snapshot must wait for them to end
 * (`waitForTransactions`).
 */
export async function publishTable(
  admin: pg.Pool,
  publicationName: string,
  table: { schema: string; name: string; replicaIdentityFull: boolean },
): Promise<OpenTransaction[]> {
  const qualified = `"${table.schema.replaceAll('"', '""')}"."${table.name.replaceAll('"', '""')}"`;
  const client = await admin.connect();
  try {
    await client.query("SET lock_timeout = '3s'");
    if (!table.replicaIdentityFull) {
      try {
        await client.query(`ALTER TABLE ${qualified} REPLICA IDENTITY FULL`);
      } catch (error) {
        throw new ReplicationSetupError(
          `table ${qualified} needs REPLICA IDENTITY FULL and it could not be set (${errorMessage(error)}); add "ALTER TABLE ${qualified} REPLICA IDENTITY FULL" to a migration`,
          { cause: error },
        );
      }
    }
    const published = await client.query(
      "SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3",
      [publicationName, table.schema, table.name],
    );
    if (published.rowCount !== 0) return [];
    try {
      await client.query(
        `ALTER PUBLICATION "${publicationName}" ADD TABLE ${qualified}`,
      );
    } catch (error) {
      // Added meanwhile by another server on this publication, which waits for the writers.
      if (isDuplicate(error)) return [];
      throw error;
    }
    // Every session's xid, not `pg_current_snapshot()`'s xip: that lists only xids below the
    // latest completed one + 1, and a writer that took its xid after this ALTER's did is above.
    // Other databases' transactions cannot write to the table.
    const open = await client.query<OpenTransaction>(
      `SELECT pid, backend_xid::text AS xid FROM pg_stat_activity
        WHERE datname = current_database() AND backend_xid IS NOT NULL
          AND pid <> pg_backend_pid()`,
    );
    return open.rows;
  } finally {
    await client.query("RESET lock_timeout").catch(() => undefined);
    client.release();
  }
}

/** A session's transaction that held an xid: it ends when the session shows another or none. */
export interface OpenTransaction {
  pid: number;
  xid: string;
}

/**
 * Resolves once none of `transactions` is open any more, or after `timeoutMs` with those that
 * still are. Polled: Postgres offers no way to wait for another session's transaction without
 * taking a lock that would hold up every writer of the table meanwhile.
 */
export async function waitForTransactions(
  admin: pg.Pool,
  transactions: readonly OpenTransaction[],
  timeoutMs: number,
): Promise<OpenTransaction[]> {
  const deadline = performance.now() + timeoutMs;
  let open = [...transactions];
  while (open.length > 0) {
    const { rows } = await admin.query<OpenTransaction>(
      "SELECT pid, backend_xid::text AS xid FROM pg_stat_activity WHERE pid = ANY($1::int[])",
      [open.map((transaction) => transaction.pid)],
    );
    const now = new Set(rows.map(({ pid, xid }) => `${pid}:${xid}`));
    open = open.filter(({ pid, xid }) => now.has(`${pid}:${xid}`));
    if (open.length === 0 || performance.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return open;
}

/**
 * The walsender exits a moment after its connection closes; until then the slot is "active"
 * and can be neither reused by a restarted server nor dropped. Resolves true once it is free
 * (or Postgres is going away), false if it is still active after `timeoutMs`.
 */
export async function waitForSlotRelease(
  admin: pg.Pool,
  slotName: string,
  timeoutMs = 3_000,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const { rows } = await admin.query<{ active: boolean }>(
        "SELECT active_pid IS NOT NULL AS active FROM pg_replication_slots WHERE slot_name = $1",
        [slotName],
      );
      if (!rows[0]?.active) return true;
    } catch {
      return true; // Postgres itself is going away: nothing to wait for.
    }
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Drops the slot and publication (the `drop-slot` command and test teardown). */
export async function dropReplication(
  admin: pg.Pool | pg.Client,
  slotName: string,
  publicationName: string,
): Promise<void> {
  await admin.query(
    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL",
    [slotName],
  );
  // The walsender may take a moment to exit after being terminated.
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await admin.query(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
        [slotName],
      );
      break;
    } catch (error) {
      if (attempt === 49) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  if (IDENTIFIER.test(publicationName))
    await admin.query(`DROP PUBLICATION IF EXISTS "${publicationName}"`);
}

/** "replication slot … is active for PID …": another connection streams it. */
export function isSlotInUse(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === "55006";
}

function isDuplicate(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === "42710" || code === "23505";
}

/**
 * The cluster's system identifier and the database: shape logs stored for one are meaningless for
 * another. pg_control_system() may be withheld from non-superusers; the server's address stands
 * in then. Any other failure is thrown: an identity that changed because a query failed would
 * discard every stored shape.
 */
async function systemIdentifier(client: pg.PoolClient): Promise<string> {
  const { rows } = await client.query<{ id: string; db: string }>(
    "SELECT current_database() AS db, coalesce(inet_server_addr()::text, 'local') || ':' || current_setting('port') AS id",
  );
  const fallback = `${rows[0]?.id ?? "?"}/${rows[0]?.db ?? "?"}`;
  try {
    const system = await client.query<{ id: string }>(
      "SELECT system_identifier::text AS id FROM pg_control_system()",
    );
    return `${system.rows[0]?.id ?? "?"}/${rows[0]?.db ?? "?"}`;
  } catch (error) {
    if ((error as { code?: string }).code === "42501") return fallback;
    throw error;
  }
}
